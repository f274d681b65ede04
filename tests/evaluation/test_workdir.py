"""wae_jax.evaluate / evaluation.workdir on a tiny WAE-MMD trained on fabricated MNIST."""

import json
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.training.tiny import NUM_TEST, tiny_config, write_raw_mnist  # noqa: E402
from wae_jax.data import preparation  # noqa: E402
from wae_jax.evaluation import inception_weights  # noqa: E402
from wae_jax.evaluation import workdir as workdir_eval  # noqa: E402
from wae_jax.training import figures, trainer  # noqa: E402

NUM_SAMPLES = 9  # 3 x 3 sample grid


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> str:
    """The fabricated 64 + 16 image 'mnist' of tests/training (its fixture is not shared)."""
    raw = tmp_path_factory.mktemp("raw_mnist")
    write_raw_mnist(raw)
    root = tmp_path_factory.mktemp("tfds")
    preparation.prepare("mnist", root, raw, verify_counts=False)
    return str(root)


@pytest.fixture(scope="module")
def run_dir(data_dir, tmp_path_factory) -> str:
    """8 steps, checkpoints at 4 and 8, 2-D latents (so the scatter is drawn)."""
    config = tiny_config("wae_mmd", data_dir, latent_dim=2, pretrain_encoder=False)
    config.model.arch = "mlp"
    workdir = str(tmp_path_factory.mktemp("run"))
    trainer.train_and_evaluate(config, workdir)
    return workdir


def _cli(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wae_jax.evaluate", *flags], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _tiles(size: int, count: int, pixels: int = 28) -> bool:
    """Whether `size` fits `count` tiles of the grid's padded layout."""
    return (size - figures.PAD) == count * (pixels + figures.PAD)


def test_cli_writes_eval_json_and_figures(run_dir, tmp_path):
    result = _cli(f"--workdir={run_dir}", f"--num_samples={NUM_SAMPLES}", "--fid=false",
                  f"--output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report["checkpoint_step"] == 8 and report["num_samples"] == NUM_SAMPLES
    test = report["test"]
    assert test["num_images"] == NUM_TEST and test["cost"] == "l2sq"
    assert test["reconstruction_cost"] > 0 and math.isfinite(test["penalty"])
    for kind in ("samples", "test_images"):
        values = report["sharpness"][kind]
        assert 0 <= values["sharpness_min"] <= values["sharpness_mean"] < 16  # [0,1] pixels
    assert "fid" not in report and "kid" not in report

    shapes = {p.stem: Image.open(p).size for p in (tmp_path / "eval_figures").glob("*.png")}
    assert set(shapes) == {"reconstructions", "samples", "interpolations", "traversals",
                           "latent_scatter"}
    width, height = shapes["samples"]
    assert _tiles(width, 3) and _tiles(height, 3)
    width, height = shapes["reconstructions"]  # 16 test images, each beside its reconstruction
    assert _tiles(width, 6) and _tiles(height, 6)  # 32 tiles in rows of 6
    width, height = shapes["interpolations"]
    assert _tiles(width, workdir_eval.NUM_INTERPOLATION_STEPS) and _tiles(height, 8)
    width, height = shapes["traversals"]  # one row per latent coordinate
    assert _tiles(width, workdir_eval.NUM_TRAVERSAL_STEPS) and _tiles(height, 2)
    assert shapes["latent_scatter"] == (workdir_eval.SCATTER_SIZE,) * 2


def test_older_checkpoint_and_fixed_seed(run_dir, tmp_path):
    """Step 4 is a different model; the same step and seed give the same numbers."""
    kwargs = dict(num_samples=NUM_SAMPLES, fid=False, batch_size=8)
    old = workdir_eval.evaluate_workdir(run_dir, checkpoint="4", output_dir=str(tmp_path / "a"),
                                        **kwargs)
    again = workdir_eval.evaluate_workdir(run_dir, checkpoint="4",
                                          output_dir=str(tmp_path / "b"), **kwargs)
    latest = workdir_eval.evaluate_workdir(run_dir, output_dir=str(tmp_path / "c"), **kwargs)
    assert old["checkpoint_step"] == 4 and latest["checkpoint_step"] == 8
    assert old["sharpness"] == again["sharpness"] and old["test"] == again["test"]
    assert old["test"]["penalty"] != latest["test"]["penalty"]
    with pytest.raises(workdir_eval.EvaluationError, match="one of the steps"):
        workdir_eval.evaluate_workdir(run_dir, checkpoint="5", output_dir=str(tmp_path), **kwargs)


@pytest.mark.parametrize("flags, message", [
    (("--checkpoint=best",), "best is unsupported"),
    (("--checkpoint=latest",), "no config.json"),
])
def test_errors_are_one_line_with_status_2(run_dir, tmp_path, flags, message):
    workdir = run_dir if "best" in flags[0] else str(tmp_path / "missing")
    result = _cli(f"--workdir={workdir}", "--fid=false", *flags)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]


def test_workdir_without_checkpoint(run_dir, tmp_path):
    (tmp_path / "config.json").write_text((pathlib.Path(run_dir) / "config.json").read_text())
    with pytest.raises(workdir_eval.EvaluationError, match="no checkpoint"):
        workdir_eval.evaluate_workdir(str(tmp_path), num_samples=4, fid=False)


def test_traversal_moves_one_coordinate_per_row():
    code = np.array([0.3, -1.0, 2.0], np.float32)
    path = workdir_eval.traversal_latents(code, prior_std=2.0).reshape(3, 11, 3)
    offsets = np.linspace(-5.0, 5.0, 11)
    for row in range(3):
        expected = np.tile(code, (11, 1)).astype(np.float64)
        expected[:, row] += offsets
        np.testing.assert_allclose(path[row], expected, rtol=1e-6, atol=1e-6)


def test_scatter_colours_codes_by_label():
    codes = np.array([[0.0, 0.0], [2.0, 2.0]])
    image = workdir_eval.latent_scatter(codes, np.array([0, 3]), np.zeros((0, 2)), 1.0)
    centre = (workdir_eval.SCATTER_SIZE - 1) / 2
    scale = (workdir_eval.SCATTER_SIZE - 1) / (2 * workdir_eval.SCATTER_EXTENT)
    x, y = round(centre + 2 * scale), round(centre - 2 * scale)  # y grows downwards
    assert tuple(image[y, x]) == workdir_eval.PALETTE[3]
    assert tuple(image[round(centre), round(centre)]) == workdir_eval.PALETTE[0]


@pytest.mark.slow
@pytest.mark.skipif(not inception_weights.converted_path(
    inception_weights.default_cache_dir()).exists(), reason="FID Inception weights not cached")
def test_real_fid_and_kid(run_dir, tmp_path):
    report = workdir_eval.evaluate_workdir(run_dir, num_samples=8, fid=True, batch_size=8,
                                           stats_cache_dir=str(tmp_path / "stats"),
                                           output_dir=str(tmp_path))
    assert report["fid"]["num_samples"] == 8
    assert report["fid"]["reference"] == {"dataset": "mnist", "split": "test", "n": NUM_TEST}
    assert math.isfinite(report["fid"]["value"]) and report["fid"]["value"] > 0
    assert report["kid"]["subset_size"] == 8 and math.isfinite(report["kid"]["mean"])
    assert report["kid"]["std"] >= 0
    assert os.path.exists(tmp_path / "stats" / "fid_stats")
