"""Resuming the command line after SIGTERM and after a checkpoint became unreadable.

Both must end bit-identical to an uninterrupted run (test_main's reference run and
helpers: tiny WAE-MMD, 200 steps, a checkpoint every 40, 3 kept).
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from wae_jax.training import checkpointing, metrics_writer
from tests.training.test_checkpointing import DAMAGES
from tests.test_main import (CONFIG, LONG, _final_state, env, reference,  # noqa: F401
                             reference_run)
from tests.training.tiny import ROOT, run_main


def _assert_same_final_state(workdir, reference_dir) -> None:
    resumed, resumed_data, step = _final_state(workdir)
    expected, expected_data, _ = _final_state(reference_dir)
    assert step == 200 and resumed_data == expected_data
    for a, b in zip(jax.tree.leaves(resumed), jax.tree.leaves(expected), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _wait_for_progress(process: subprocess.Popen, workdir, timeout: float = 240) -> None:
    """Until the run logged its first training row (the loop is running)."""
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if any("train/loss" in row for row in metrics_writer.read_jsonl(str(workdir))):
            return
        time.sleep(0.02)


def test_sigterm_saves_the_current_step_and_resumes_exactly(tmp_path, data_dir, env,
                                                            reference):
    workdir = tmp_path / "preempted"
    log = tmp_path / "preempted.log"
    command = [sys.executable, "-m", "wae_jax.main", f"--config=configs/{CONFIG}",
               f"--workdir={workdir}", f"--config.data_dir={data_dir}", *LONG]
    with open(log, "w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        _wait_for_progress(process, workdir)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    output = log.read_text()
    assert process.returncode == 128 + signal.SIGTERM, output[-3000:]
    stopped = int(output.split("SIGTERM: stopped at step ")[1].split()[0])
    assert 20 <= stopped < 200
    saved = sorted(int(p.name) for p in (workdir / "checkpoints").iterdir())
    assert saved[-1] == stopped  # the current step, not the last periodic one

    result = run_main(workdir, CONFIG, f"--config.data_dir={data_dir}", *LONG, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resumed from the checkpoint of step {stopped} " in result.stderr
    _assert_same_final_state(workdir, reference)


# Truncated array files are restored past in test_checkpointing; here the two items read
# before any array (seconds per case).
@pytest.mark.parametrize("damage", ["data json", "state metadata"])
def test_an_unreadable_latest_checkpoint_resumes_from_the_previous_one(
        tmp_path, data_dir, env, reference, damage):
    workdir = tmp_path / "corrupt"
    shutil.copytree(reference, workdir)
    DAMAGES[damage](workdir / "checkpoints" / "200")
    result = run_main(workdir, CONFIG, f"--config.data_dir={data_dir}", *LONG, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Skipping the checkpoint of step 200" in result.stderr
    assert "Resumed from the checkpoint of step 160 " in result.stderr
    assert (workdir / checkpointing.UNREADABLE_DIR / "200" / "state").is_dir()  # kept
    _assert_same_final_state(workdir, reference)


def test_no_readable_checkpoint_exits_2_naming_the_directory(tmp_path, data_dir, env,
                                                             reference):
    workdir = tmp_path / "all_corrupt"
    shutil.copytree(reference, workdir)
    for step_dir in (workdir / "checkpoints").iterdir():
        (step_dir / "data" / "metadata").write_text("{")
    result = run_main(workdir, CONFIG, f"--config.data_dir={data_dir}", *LONG, env=env)
    assert result.returncode == 2, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert errors[0].startswith(f"error: no checkpoint in {workdir / 'checkpoints'} restores")
    assert errors[0].endswith("move it away or use another --workdir")
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["120", "160", "200"]
