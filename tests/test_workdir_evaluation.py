"""wae_jax.evaluate / workdir_evaluation on a tiny WAE-MMD trained on fabricated MNIST."""

import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.training.tiny import NUM_TEST, ROOT, tiny_config
from wae_jax import workdir_evaluation as workdir_eval
from wae_jax.evaluation import inception_weights
from wae_jax.training import experiment, figures, metrics_writer

NUM_SAMPLES = 9  # 3 x 3 sample grid


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """$WAE_JAX_CACHE_DIR for this module (proxy classifier, reference features)."""
    directory = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAE_JAX_CACHE_DIR", str(directory))
        yield directory


@pytest.fixture(scope="module")
def run_dir(data_dir, tmp_path_factory) -> str:
    """8 steps, checkpoints at 4 and 8, 2-D latents (so the scatter is drawn), and
    classifier_fd of 16 samples at steps 4 and 8 keeping the best checkpoint."""
    config = tiny_config("wae_mmd", data_dir, latent_dim=2, pretrain_encoder=False)
    config.model.arch = "mlp"
    config.sample_eval.metrics = ("classifier_fd",)
    config.sample_eval.keep_best = "classifier_fd"
    workdir = str(tmp_path_factory.mktemp("run"))
    experiment.train_and_evaluate(config, workdir)
    return workdir


def _cli(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wae_jax.evaluate", *flags], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _tiles(size: int, count: int, pixels: int = 28) -> bool:
    """Whether `size` fits `count` tiles of the grid's padded layout."""
    return (size - figures.PAD) == count * (pixels + figures.PAD)


def test_cli_writes_eval_json_and_figures(run_dir, tmp_path):
    result = _cli(f"--workdir={run_dir}", f"--num_samples={NUM_SAMPLES}", "--metrics=",
                  f"--output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Unable to initialize backend" not in result.stderr  # quiet logs (wae_jax.cli)
    assert result.stderr.count("Load dataset info") <= 1
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report["checkpoint_step"] == 8 and report["num_samples"] == NUM_SAMPLES
    assert report["reference_split"] == "test"  # reports on test by default
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
    assert _tiles(width, figures.NUM_INTERPOLATION_STEPS) and _tiles(height, 8)
    width, height = shapes["traversals"]  # one row per latent coordinate
    assert _tiles(width, workdir_eval.NUM_TRAVERSAL_STEPS) and _tiles(height, 2)
    assert shapes["latent_scatter"] == (workdir_eval.SCATTER_SIZE,) * 2


def test_older_checkpoint_and_fixed_seed(run_dir, tmp_path):
    """Step 4 is a different model; the same step and seed give the same numbers."""
    kwargs = dict(num_samples=NUM_SAMPLES, metrics=(), batch_size=8)
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


def test_best_checkpoint_reproduces_the_logged_score(run_dir, tmp_path):
    """--checkpoint=best restores checkpoints_best, and the same 16 samples (seed 0) and
    reference (the selection's: the first 16 training images) give exactly the
    classifier_fd that the trainer logged at that step."""
    logged = {r["step"]: r["sample/classifier_fd"]
              for r in metrics_writer.read_jsonl(run_dir) if "sample/classifier_fd" in r}
    result = _cli(f"--workdir={run_dir}", "--checkpoint=best", "--num_samples=16",
                  "--metrics=classifier_fd", "--reference_split=train", "--reference_n=16",
                  f"--output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "eval.json").read_text())
    step = report["checkpoint_step"]
    assert report["checkpoint"] == "best" and step == min(logged, key=logged.get)
    assert report["best_checkpoint_score"]["value"] == logged[step]
    selected_on = report["best_checkpoint_score"]["reference_split"]
    assert report["reference_split"] == selected_on == "train"
    assert report["classifier_fd"]["value"] == pytest.approx(logged[step], rel=1e-9)
    assert report["classifier_fd"]["reference"] == {"dataset": "mnist", "split": "train",
                                                   "n": 16}
    assert "not Inception" in report["classifier_fd"]["network"]


@pytest.mark.parametrize("flags, message", [
    (("--checkpoint=best",), "no best checkpoint"),
    (("--checkpoint=latest",), "no config.json"),
    (("--metrics=fid,is",), "unknown ['is']"),
    (("--reference_split=validation",), "--reference_split=validation: use one of mnist's"),
])
def test_errors_are_one_line_with_status_2(run_dir, tmp_path, flags, message):
    workdir = tmp_path / "copy"
    workdir.mkdir()
    if "config.json" not in message:  # a run directory without checkpoints_best
        (workdir / "config.json").write_text((pathlib.Path(run_dir) / "config.json").read_text())
    result = _cli(f"--workdir={workdir}", *flags)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]


def test_workdir_without_checkpoint(run_dir, tmp_path):
    (tmp_path / "config.json").write_text((pathlib.Path(run_dir) / "config.json").read_text())
    with pytest.raises(workdir_eval.EvaluationError, match="no checkpoint"):
        workdir_eval.evaluate_workdir(str(tmp_path), num_samples=4, metrics=())


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


# Read before the module's fixture points $WAE_JAX_CACHE_DIR at a temporary directory.
CACHED_WEIGHTS = inception_weights.converted_path(inception_weights.default_cache_dir())


@pytest.mark.slow
@pytest.mark.skipif(not CACHED_WEIGHTS.exists(), reason="FID Inception weights not cached")
def test_real_fid_and_kid(run_dir, cache_dir, tmp_path):
    inception_weights.converted_path(cache_dir).symlink_to(CACHED_WEIGHTS)  # no download
    report = workdir_eval.evaluate_workdir(run_dir, num_samples=8, batch_size=8,
                                           output_dir=str(tmp_path))
    for name in ("fid", "kid"):
        assert report[name]["num_samples"] == 8
        assert report[name]["reference"] == {"dataset": "mnist", "split": "test", "n": NUM_TEST}
        assert math.isfinite(report[name]["value"])
    assert report["fid"]["value"] > 0
    assert report["kid"]["subset_size"] == 4 and report["kid"]["std"] > 0
    assert len(list((cache_dir / "reference_features").glob("mnist_test_all_*.npy"))) == 1
