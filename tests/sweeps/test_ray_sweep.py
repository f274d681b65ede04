"""The tiny bigWAE sweep on a local Ray, seed 0 only: 6 members in 3 populations (one per
method) plus one trial with a bad config; every member reported, the bad trial recorded,
a rerun trains nothing."""

import dataclasses
import os
import pathlib
import subprocess
import sys

import pytest
import ray

from configs import bigwae_mnist
from wae_jax.sweeps import manifest, packing, report, runner, trial
from tests import fast_compilation
from tests.training.tiny import ROOT

BAD_POINT = {"latent_dim": 0}  # fails validation: its own trial, recorded failed


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False,
             runtime_env={"env_vars": {**runner.worker_env(), **fast_compilation.ENV}})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def swept(local_ray, data_dir, tmp_path_factory):
    base = bigwae_mnist.get_config("tiny")
    base.data_dir = data_dir
    sweep = bigwae_mnist.get_sweep("tiny")
    seed_0 = tuple(point for point in sweep.points if point["seed"] == 0)  # 2 per method
    sweep = dataclasses.replace(sweep, points=seed_0 + (BAD_POINT,))
    trials = packing.pack(base, list(sweep.points), sweep.max_population_size)
    workdir = str(tmp_path_factory.mktemp("sweep"))
    ran = runner.run(trials, sweep, workdir)
    return workdir, trials, sweep, ran


def _log_times(workdir: str, trials) -> dict[str, float]:
    return {m: os.stat(os.path.join(workdir, m, "metrics.jsonl")).st_mtime
            for m in (r["workdir"] for r in manifest.read(workdir)["members"])
            if os.path.exists(os.path.join(workdir, m, "metrics.jsonl"))}


def test_every_member_is_reported_and_the_bad_trial_recorded(swept):
    workdir, trials, _, ran = swept
    assert len(trials) == 4 and len(ran) == 4
    table = report.write_report(workdir)
    assert len(table) == 7
    finished = [r for r in table if r["status"] == "finished"]
    assert sorted(r["member"] for r in finished) == list(range(6))
    assert {r["method"] for r in finished} == {"vae", "wae_mmd", "wae_gan"}
    assert all(r["test_checkpoint_step"] == 8 for r in finished)
    (bad,) = [r for r in table if r["status"] == "failed"]
    assert bad["member"] == 6 and "config.latent_dim=0" in bad["reason"]
    for name in (report.CSV_NAME, report.MARKDOWN_NAME):
        assert os.path.getsize(os.path.join(workdir, name)) > 0
    # Populations: each member written out as its solo run.
    first = manifest.trial_workdir(workdir, trials[0].name)
    assert sorted(os.listdir(os.path.join(first, "members"))) == ["0", "1"]


def test_a_rerun_trains_nothing_finished(swept):
    workdir, trials, sweep, _ = swept
    before = _log_times(workdir, trials)
    assert len(before) == 6
    ran = runner.run(trials, sweep, workdir)
    assert [t.name for t in ran] == [trials[-1].name]  # only the failed trial, again
    assert _log_times(workdir, trials) == before
    assert trial.read_record(manifest.trial_workdir(workdir, trials[-1].name))["status"] == (
        "failed")


def test_report_only_rebuilds_the_report(swept):
    workdir = swept[0]
    os.remove(os.path.join(workdir, report.MARKDOWN_NAME))
    result = subprocess.run(
        [sys.executable, "-m", "wae_jax.sweep", f"--workdir={workdir}", "--report_only"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "## Best configuration per method" in pathlib.Path(
        workdir, report.MARKDOWN_NAME).read_text()
