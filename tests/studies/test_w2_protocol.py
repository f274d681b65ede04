"""configs/augment_w2_mnist.py:tiny end to end through `python -m wae_jax.augment`."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from configs import augment_w2_mnist
from tests.training.tiny import ROOT
from wae_jax.studies.augmentation import w2_protocol
from wae_jax.training.validation import ConfigError


def test_lambdas_are_uniform_draws_per_run():
    config = augment_w2_mnist.get_config()
    lambdas = np.array(w2_protocol.population_config(config, "w2vae").population.lambda_)
    assert len(lambdas) == 30 and lambdas.min() >= 0 and lambdas.max() < 20
    assert len(set(lambdas)) == 30
    same = w2_protocol.population_config(config, "vae").population.lambda_
    np.testing.assert_array_equal(same, lambdas)  # both objectives see the same lambdas


def test_best_run_skips_flagged_runs_unless_all_are():
    rows = [dict(objective="w2vae", flagged=True, diverged=False, selection_value=1.0),
            dict(objective="w2vae", flagged=False, diverged=False, selection_value=2.0),
            dict(objective="w2vae", flagged=False, diverged=True, selection_value=0.5)]
    assert w2_protocol.best_run(rows) is rows[1]
    assert w2_protocol.best_run([rows[0]]) is rows[0]


def test_tiny_run_writes_both_csvs_and_the_tables(tmp_path, data_dir):
    env = {**os.environ, "WAE_JAX_CACHE_DIR": str(tmp_path / "cache"),
           "XLA_FLAGS": "--xla_backend_optimization_level=0"}
    command = [sys.executable, "-m", "wae_jax.augment",
               "--config=configs/augment_w2_mnist.py:tiny", f"--config.data_dir={data_dir}",
               f"--workdir={tmp_path / 'w2'}"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / "w2" / "results_w2.csv", newline="") as f:
        results = list(csv.DictReader(f))
    assert list(results[0]) == ["dataset", "objective", "train_size", "seed", "accuracy"]
    assert [(r["objective"], r["train_size"]) for r in results] == [
        (o, n) for n in ("20", "40") for o in ("none", "vae", "w2vae")]
    with open(tmp_path / "w2" / "runs_w2.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    assert [(r["objective"], r["member"]) for r in runs] == [
        ("vae", "0"), ("vae", "1"), ("w2vae", "0"), ("w2vae", "1")]
    for run in runs:  # a W2-VAE run is flagged exactly when its final T is positive
        if run["objective"] == "w2vae":
            assert (run["flagged"] == "True") == (float(run["T_final"]) > 0)
        assert float(run["test_classifier_fd"]) >= 0
    assert "| w2vae | 2 |" in (tmp_path / "w2" / "w2_tables.md").read_text()


def test_bad_w2_config_names_the_field():
    config = augment_w2_mnist.get_config("tiny")
    config.num_runs = 1
    with pytest.raises(ConfigError, match=r"config.num_runs=1: use at least 2"):
        w2_protocol.check_config(config)
