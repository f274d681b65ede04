"""Sample quality during training: batching, the periodic scores, the best checkpoint."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax import models
from wae_jax.evaluation import sample_metrics
from wae_jax.training import checkpointing, experiment, metrics_writer, sample_quality, steps, trainer
from tests.training.tiny import SHAPE, tiny_config


def test_apply_in_batches_pads_the_last_batch_and_compiles_once():
    traces = []

    def fn(state, x):
        traces.append(x.shape)
        return x * state

    mesh = steps.make_mesh()
    inputs = np.arange(14, dtype=np.float32).reshape(7, 2)
    out = sample_quality.apply_in_batches(jax.jit(fn), jnp.float32(3.0), inputs, 3, mesh)
    np.testing.assert_array_equal(out, inputs * 3)
    assert traces == [(3, 2)]


def test_prior_noise_is_fixed_by_the_seed():
    config = tiny_config("wae_mmd", "", latent_dim=3, prior_std=2.0)
    a = sample_quality.prior_noise(config, 500, 0)
    assert a.shape == (500, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, sample_quality.prior_noise(config, 500, 0))
    assert not np.array_equal(a, sample_quality.prior_noise(config, 500, 1))
    assert abs(a.std() - 2.0) < 0.15  # N(0, prior_std^2)


def test_scalars_name_each_metric_and_the_kid_spread():
    results = {"fid": {"value": 3.5, "num_samples": 9}, "kid": {"value": 0.1, "std": 0.02}}
    assert sample_quality.scalars(results) == {
        "sample/fid": 3.5, "sample/kid": 0.1, "sample/kid_std": 0.02}


def _sample_config(data_dir):
    config = tiny_config("wae_mmd", data_dir, pretrain_encoder=False)
    config.model.arch = "mlp"
    config.sample_eval.metrics = ("classifier_fd",)
    config.sample_eval.keep_best = "classifier_fd"
    return config


def test_periodic_scores_keep_the_best_checkpoint(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("WAE_JAX_CACHE_DIR", str(tmp_path / "cache"))
    reference_splits = []  # every split the scorer reads reference images from

    def spy(dataset, split, *args, **kwargs):
        reference_splits.append(split)
        return reference_features(dataset, split, *args, **kwargs)

    reference_features = sample_metrics.reference_features
    monkeypatch.setattr(sample_metrics, "reference_features", spy)
    workdir = tmp_path / "run"
    experiment.train_and_evaluate(_sample_config(data_dir), str(workdir))
    assert reference_splits == ["train"]  # selection never reads the test split
    logged = {r["step"]: r["sample/classifier_fd"]
              for r in metrics_writer.read_jsonl(str(workdir)) if "sample/classifier_fd" in r}
    assert sorted(logged) == [4, 8] and all(math.isfinite(v) for v in logged.values())
    best_step = min(logged, key=lambda step: (logged[step], step))
    best = checkpointing.BestCheckpoint(str(workdir))
    assert best.score["step"] == best_step and best.score["value"] == logged[best_step]
    assert best.score["details"]["num_samples"] == 16
    assert best.score["reference_split"] == "train"
    assert best.score["details"]["reference"] == {"dataset": "mnist", "split": "train", "n": 16}
    best.close()
    assert [p.name for p in (workdir / checkpointing.BEST_DIR).iterdir() if p.name.isdigit()
            ] == [str(best_step)]
    assert list((tmp_path / "cache" / "proxy_classifiers").iterdir())  # trained once, cached


def test_non_finite_score_stops_before_any_best_is_saved(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("WAE_JAX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(sample_quality.SampleQuality, "__call__",
                        lambda self, state: {"classifier_fd": {"value": float("nan")}})
    with pytest.raises(trainer.NonFiniteError,
                       match="sample evaluation sample/classifier_fd is nan at step 4"):
        experiment.train_and_evaluate(_sample_config(data_dir), str(tmp_path / "run"))
    best_dir = tmp_path / "run" / checkpointing.BEST_DIR
    assert not [p for p in best_dir.iterdir() if p.name.isdigit()]
    assert not (tmp_path / "run" / "checkpoints" / "4").exists()


def test_selecting_on_test_is_allowed_only_explicitly_and_warns(monkeypatch, caplog):
    splits = []  # the split of every SampleScorer the evaluator builds
    monkeypatch.setattr(sample_quality, "SampleScorer",
                        lambda metrics, dataset, **kwargs: splits.append(kwargs["split"]))
    config = _sample_config("")
    model = models.build_autoencoder(config.model, SHAPE)
    sample_quality.SampleQuality(config, model, steps.make_mesh())
    assert splits == ["train"] and "test split" not in caplog.text
    config.sample_eval.reference_split, config.sample_eval.select_on_test = "test", True
    sample_quality.SampleQuality(config, model, steps.make_mesh())
    assert splits == ["train", "test"]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "selected on the test split" in warnings[0].getMessage()
