import fcntl
import os
import subprocess
import sys

import pytest

from wae_jax.files import file_lock


def _free(path) -> bool:
    """Whether another open file description could take the lock now."""
    with open(path) as other:
        try:
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
        return True


def test_held_within_the_block_and_released_after(tmp_path):
    path = tmp_path / ".lock"
    with file_lock.taken_in_turn(path):
        assert path.exists() and not _free(path)
    assert _free(path)


def test_released_when_the_block_raises(tmp_path):
    with pytest.raises(RuntimeError):
        with file_lock.taken_in_turn(tmp_path / ".lock"):
            raise RuntimeError("step failed")
    assert _free(tmp_path / ".lock")


def test_a_killed_holder_releases_it(tmp_path):
    path = tmp_path / ".lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from wae_jax.files import file_lock\n"
         f"with file_lock.taken_in_turn({os.fspath(path)!r}):\n"
         "    print('held', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert not _free(path)
    holder.kill()
    holder.wait()
    holder.stdout.close()
    with file_lock.taken_in_turn(path):  # would wait forever on a stale lock
        pass


def test_claimed_is_true_for_the_first_holder_only(tmp_path):
    path = tmp_path / ".lock"
    with file_lock.claimed(path) as first:
        with file_lock.claimed(path) as second:  # another open file: another process's view
            assert (first, second) == (True, False)
    with file_lock.claimed(path) as again:
        assert again


def test_both_create_the_lock_files_folder(tmp_path):
    with file_lock.taken_in_turn(tmp_path / "a" / ".lock"):
        pass
    with file_lock.claimed(tmp_path / "b" / "c" / ".lock") as ours:
        assert ours
    assert (tmp_path / "a" / ".lock").is_file() and (tmp_path / "b" / "c" / ".lock").is_file()
