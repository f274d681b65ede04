"""The command line in subprocesses: bad input, SIGKILL / SIGTERM / unreadable checkpoint
+ resume, 8 devices, 2 processes.

All runs share one persistent compilation cache, so the identical programs of the
reference, killed, resumed and multi-device runs are compiled once.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from wae_jax.training import checkpointing, metrics_writer
from tests import fast_compilation
from tests.training.test_checkpointing import DAMAGES
from tests.training.tiny import ROOT, run_main

CONFIG = "mnist_mmd.py:tiny"
# A run long enough to be killed mid-way: 200 tiny steps, a checkpoint every 40.
LONG = ("--config.num_train_steps=200", "--config.checkpoint_every_steps=40",
        "--config.log_every_steps=20", "--config.eval_every_steps=200")
SHORT = ("--config.num_train_steps=40", "--config.checkpoint_every_steps=40",
         "--config.log_every_steps=20", "--config.eval_every_steps=40")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One compilation cache for all runs, and unoptimised code: these tiny programs
    compile ~3x faster and still run in milliseconds."""
    return {"JAX_COMPILATION_CACHE_DIR": str(tmp_path_factory.mktemp("jax_cache")),
            **fast_compilation.ENV}


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, data_dir, env):
    """An uninterrupted 200-step run on one device: (workdir, its stderr)."""
    workdir = tmp_path_factory.mktemp("reference")
    result = run_main(workdir, CONFIG, f"--config.data_dir={data_dir}", *LONG, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, result.stderr


@pytest.fixture(scope="module")
def reference(reference_run):
    return reference_run[0]


def test_default_logs_are_readable(reference_run):
    """No failed optional-backend probe (jax probes TPU when JAX_PLATFORMS is unset), no
    line per tfds builder, no orbax line per save; the run's own lines stay."""
    stderr = reference_run[1]
    assert "Unable to initialize backend" not in stderr and "libtpu" not in stderr
    assert stderr.count("Load dataset info") <= 1 and "CheckpointManager" not in stderr
    assert "Training wae_mmd on mnist for 200 steps" in stderr, stderr[-3000:]


def _train_rows(workdir, last_step=None):
    rows = [{k: v for k, v in r.items() if not k.startswith("perf/")}
            for r in metrics_writer.read_jsonl(str(workdir)) if "train/loss" in r]
    return [r for r in rows if last_step is None or r["step"] <= last_step]


def _final_state(workdir):
    checkpointer = checkpointing.Checkpointer(str(workdir), 3)
    state, data_state, step = checkpointer.restore(None)
    checkpointer.close()
    return state, data_state, step


@pytest.mark.parametrize("flags, env_extra, words", [
    (("--config.lamda=1",), {}, "lamda"),
    (("--config.batch_size=abc",), {}, "batch_size"),
    (("--config.learning_rate=0",), {}, "config.learning_rate=0"),
    (("--config.batch_size=12",),
     {"XLA_FLAGS": fast_compilation.xla_flags_with_devices(8)},
     "config.batch_size=12: use a multiple of the device count (8)"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, flags, env_extra, words):
    result = run_main(tmp_path / "run", CONFIG, *flags, env=env_extra, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1 and words in error_lines[0]
    assert not (tmp_path / "run" / "checkpoints").exists()  # nothing started


def test_unwritable_workdir_is_status_2(tmp_path):
    (tmp_path / "file").write_text("")
    result = run_main(tmp_path / "file" / "run", CONFIG, timeout=120)
    assert result.returncode == 2 and "error: --workdir=" in result.stderr


def _kill_after_first_checkpoint(workdir, data_dir, env, *flags) -> int:
    """Starts a LONG run, SIGKILLs it once a checkpoint exists; returns its last step."""
    command = [sys.executable, "-m", "wae_jax.main", f"--config=configs/{CONFIG}",
               f"--workdir={workdir}", f"--config.data_dir={data_dir}", *LONG, *flags]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = workdir / "checkpoints"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if checkpoints.is_dir() and any(p.name.isdigit() for p in checkpoints.iterdir()):
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    saved = sorted(int(p.name) for p in checkpoints.iterdir() if p.name.isdigit())
    assert saved and saved[-1] < 200
    return saved[-1]


def _assert_same_final_checkpoint(workdir, reference):
    resumed, resumed_data, step = _final_state(workdir)
    expected, expected_data, _ = _final_state(reference)
    assert step == 200 and resumed_data == expected_data
    for a, b in zip(jax.tree.leaves(resumed), jax.tree.leaves(expected), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_sigkill_then_resume_is_bit_identical(tmp_path, data_dir, env, reference):
    workdir = tmp_path / "killed"
    saved = _kill_after_first_checkpoint(workdir, data_dir, env)
    result = run_main(workdir, CONFIG, f"--config.data_dir={data_dir}", *LONG, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resumed from the checkpoint of step {saved}" in result.stderr
    _assert_same_final_checkpoint(workdir, reference)
    assert _train_rows(workdir) == _train_rows(reference)
    evals = [[r for r in metrics_writer.read_jsonl(str(w)) if "eval/loss" in r]
             for w in (workdir, reference)]
    assert evals[0] == evals[1] and len(evals[0]) == 1


# Two members with per-member data: their own classes (14 and 50 fabricated images). MLP
# nets: the population's programs compile in a fraction of the DCGAN's time, and batch
# norm's statistics are already restored bit-exactly in the solo test above.
POPULATION = ("--config.population.size=2", "--config.population.data=per_member",
              "--config.population.train_classes=((0,1),(2,3,4,5,6,7,8,9))",
              "--config.model.arch=mlp")


def test_sigkill_of_a_population_then_resume_is_bit_identical(tmp_path, data_dir, env):
    """The stacked state, every member pipeline's position and each member's log."""
    reference, workdir = tmp_path / "reference", tmp_path / "killed"
    result = run_main(reference, CONFIG, f"--config.data_dir={data_dir}", *LONG, *POPULATION,
                      env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    saved = _kill_after_first_checkpoint(workdir, data_dir, env, *POPULATION)
    result = run_main(workdir, CONFIG, f"--config.data_dir={data_dir}", *LONG, *POPULATION,
                      env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resumed from the checkpoint of step {saved}" in result.stderr
    _assert_same_final_checkpoint(workdir, reference)
    for member in ("0", "1"):
        assert (_train_rows(workdir / "members" / member)
                == _train_rows(reference / "members" / member))


def _assert_same_trajectory(workdir, reference):
    got, expected = _train_rows(workdir), _train_rows(reference, last_step=40)
    assert [r["step"] for r in got] == [20, 40]
    for a, b in zip(got, expected):
        for key in ("train/loss", "train/reconstruction", "train/mmd"):
            assert a[key] == pytest.approx(b[key], rel=2e-3, abs=1e-4), (a["step"], key)


def test_eight_devices_match_one(tmp_path, data_dir, env, reference):
    result = run_main(tmp_path, CONFIG, f"--config.data_dir={data_dir}", *SHORT,
                      env={**env, "XLA_FLAGS": fast_compilation.xla_flags_with_devices(
                          8, env["XLA_FLAGS"])})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "on 8 device(s)" in result.stderr
    _assert_same_trajectory(tmp_path, reference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_one_model(tmp_path, data_dir, env, reference):
    address = f"localhost:{_free_port()}"
    processes = [subprocess.Popen(
        [sys.executable, "-m", "wae_jax.main", f"--config=configs/{CONFIG}",
         f"--workdir={tmp_path}", f"--config.data_dir={data_dir}", *SHORT,
         f"--coordinator_address={address}", "--num_processes=2", f"--process_id={i}"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for i in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
    assert "JAX process 1 of 2" in outputs[1][1] and "on 2 device(s)" in outputs[0][1]
    _assert_same_trajectory(tmp_path, reference)


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
