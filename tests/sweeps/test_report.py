"""The report from a fabricated sweep workdir: rows, best per method, plots."""

import csv
import os

import numpy as np
import pytest
from PIL import Image

from wae_jax.sweeps import manifest, packing, report, space, trial
from configs import common

METHODS = ("vae", "wae_mmd", "wae_gan")


@pytest.fixture
def sweep_dir(tmp_path):
    """3 methods x 2 lambdas x 2 seeds packed in populations of 2; one trial failed."""
    points = space.product(
        space.chain(*[space.fixed({"method": m}) for m in METHODS]),
        space.sweep("lambda_", [1.0, 10.0]), space.sweep("seed", [0, 1]))
    base = common.get_config()
    base.model.encoder = "gaussian"  # valid for every method
    sweep = space.Sweep(points=tuple(points), max_population_size=2)
    trials = packing.pack(base, points, sweep.max_population_size)
    manifest.write(str(tmp_path), trials, sweep)
    rng = np.random.default_rng(0)
    scores = {}
    for number, t in enumerate(trials):
        workdir = manifest.trial_workdir(str(tmp_path), t.name)
        if number == 1:
            trial.write_record(workdir, {"status": "failed", "reason": "ConfigError: bad",
                                         "members": []})
            continue
        members = []
        for m in t.members:
            scores[m.index] = float(rng.uniform(1, 100))
            members.append({"status": "finished",
                            "best": {"metric": "fid", "value": scores[m.index], "step": 40},
                            "test": {"checkpoint_step": 40, "reconstruction_cost": 1.5,
                                     "penalty": 0.1, "sharpness": 0.01}})
        trial.write_record(workdir, {"status": "finished", "members": members})
    return str(tmp_path), points, scores, trials


def test_report_rows_best_per_method_and_plots(sweep_dir):
    workdir, points, scores, trials = sweep_dir
    table = report.write_report(workdir)
    with open(os.path.join(workdir, "report.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["member"]) for r in rows] == list(range(12))
    failed = {m.index for m in trials[1].members}
    assert {int(r["member"]) for r in rows if r["status"] == "failed"} == failed
    for row in rows:
        assert float(row["lambda_"]) == points[int(row["member"])]["lambda_"]
        if int(row["member"]) not in failed:
            assert float(row["best_value"]) == pytest.approx(scores[int(row["member"])])
            assert row["best_step"] == "40" and row["test_reconstruction_cost"] == "1.5"
    text = open(os.path.join(workdir, "report.md")).read()
    for method in METHODS:  # brute force: the lowest score among the method's members
        best = min((i for i in scores if points[i]["method"] == method), key=scores.get)
        assert f"| {method} | {best} | {scores[best]:.4g} | 40 |" in text
    assert "ConfigError: bad" in text and "12 members in 6 trials: 2 failed, 10 finished" in text
    for name in report.plot_names():
        image = np.asarray(Image.open(os.path.join(workdir, "plots", name + ".png")))
        assert image.ndim == 3 and image.std() > 0  # drawn, not blank
    assert len(table) == 12


def test_pending_trials_are_reported_pending(sweep_dir):
    workdir, _, _, trials = sweep_dir
    os.remove(os.path.join(manifest.trial_workdir(workdir, trials[0].name), trial.RECORD_NAME))
    statuses = [r["status"] for r in report.rows(workdir)]
    assert statuses[:2] == ["pending", "pending"]


def test_only_the_runner_imports_ray():
    """The report, and everything a trial or a dry run needs, works without Ray."""
    from tests.test_layering import PACKAGE, imported_names

    for path in sorted((PACKAGE / "sweeps").glob("*.py")):
        uses_ray = any(n == "ray" or n.startswith("ray.") for n in imported_names(path))
        assert uses_ray == (path.stem == "runner"), path
