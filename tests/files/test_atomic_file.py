import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from wae_jax.files import atomic_file


def test_the_new_contents_replace_the_file_and_no_temporary_is_left(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with atomic_file.replaced(path) as f:
        f.write("new")
        assert path.read_text() == "old"  # readers see the old file until the block ends
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_binary_mode_takes_numpy_writers(tmp_path):
    path = tmp_path / "x.npy"
    with atomic_file.replaced(path, "wb") as f:
        np.save(f, np.arange(5))
    np.testing.assert_array_equal(np.load(path), np.arange(5))


def test_an_exception_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_file.replaced(path) as f:
            f.write("half")
            raise RuntimeError
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_killed_writer_leaves_the_old_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from wae_jax.files import atomic_file\n"
         f"with atomic_file.replaced({os.fspath(path)!r}) as f:\n"
         "    f.write('half'); f.flush(); print('writing', flush=True); time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert path.read_text() == "old"


def test_append_and_read_modes_are_refused(tmp_path):
    for mode in ("a", "r", "w+"):
        with pytest.raises(ValueError, match="mode"):
            with atomic_file.replaced(tmp_path / "a.txt", mode):
                pass
