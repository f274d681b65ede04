"""The workdir lock: a second run is refused naming the holder; a killed one's is taken over."""

import logging
import os
import signal
import socket
import subprocess
import sys

import pytest

from wae_jax.training import validation, workdir_lock
from tests.training.tiny import ROOT, run_main

# A real process that takes the lock, says so, and holds it until killed.
HOLDER = ("import sys, time\n"
          "from wae_jax.training import workdir_lock\n"
          "with workdir_lock.hold(sys.argv[1]):\n"
          "    print('held', flush=True)\n"
          "    time.sleep(300)\n")


def _start_holder(workdir) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(workdir)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_exits_2_naming_the_holder_then_takes_over_a_killed_one(
        tmp_path, data_dir, caplog):
    holder = _start_holder(tmp_path)
    try:
        result = run_main(tmp_path, "mnist_mmd.py:tiny", f"--config.data_dir={data_dir}",
                          timeout=120)
    finally:
        holder.send_signal(signal.SIGKILL)  # no chance to release: the lock is left stale
        holder.wait()
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert f"is in use by another run (pid {holder.pid} on host {socket.gethostname()}" \
        in errors[0] and errors[0].endswith("use another --workdir")
    assert not (tmp_path / "checkpoints").exists()  # refused before anything was written

    with caplog.at_level(logging.WARNING), workdir_lock.hold(str(tmp_path)):
        assert f'"pid": {os.getpid()}' in (tmp_path / workdir_lock.LOCK_NAME).read_text()
    assert f"Taking over the lock on {tmp_path} of pid {holder.pid}" in caplog.text


def test_the_lock_is_released_on_exceptions_and_refuses_a_second_holder(tmp_path, caplog):
    with pytest.raises(RuntimeError, match="inside"), workdir_lock.hold(str(tmp_path)):
        with pytest.raises(validation.ConfigError, match=f"pid {os.getpid()} on host"):
            with workdir_lock.hold(str(tmp_path)):
                pass
        raise RuntimeError("inside")
    assert (tmp_path / workdir_lock.LOCK_NAME).read_text() == ""  # released in order
    with caplog.at_level(logging.WARNING), workdir_lock.hold(str(tmp_path)):
        pass
    assert "Taking over" not in caplog.text
    with workdir_lock.hold(str(tmp_path), enabled=False), workdir_lock.hold(str(tmp_path)):
        pass  # processes other than 0 do not take it
