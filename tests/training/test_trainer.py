"""End-to-end runs of train_and_evaluate on tiny configs and fabricated MNIST.

One run per method checks every artefact (checkpoints, config, metrics.jsonl,
TensorBoard events, PNG grids); the NaN guard run checks that a divergence stops
the run with the step and term named, and that no bad checkpoint is written.
"""

import json
import logging
import math

import jax
import numpy as np
import pytest
from PIL import Image

from wae_jax.training import checkpointing, experiment, metrics_writer, trainer, validation
from tests.training.tiny import tiny_config

METHOD_KEYS = {"vae": {"kl"}, "w2vae": {"w2", "kl", "T"}, "wae_mmd": {"mmd"},
               "wae_gan": {"adversary", "adversary_loss"}}


@pytest.mark.parametrize("method, name", [
    ("vae", "mnist_mlp_vae"), ("w2vae", "mnist_mlp_w2vae"),  # the W2-VAE paper's MLPs
    ("wae_mmd", "mnist_mmd"), ("wae_gan", "mnist_gan")])  # the WAE paper's DCGAN nets
def test_end_to_end(method, name, data_dir, tmp_path, caplog):
    # Encoder pre-training runs in the WAE-MMD run only (the GAN run's would add a compile).
    config = tiny_config(method, data_dir, name, eval_every_steps=8,
                         pretrain_encoder=method == "wae_mmd")
    state = experiment.train_and_evaluate(config, str(tmp_path))
    assert int(state.step) == 8
    rows = metrics_writer.read_jsonl(str(tmp_path))
    train = [r for r in rows if "train/loss" in r]
    evals = [r for r in rows if "eval/loss" in r]
    assert [r["step"] for r in train] == [2, 4, 6, 8]
    assert [r["step"] for r in evals] == [8]
    logged = {k.split("/")[1] for k in train[-1] if k != "step"}
    assert METHOD_KEYS[method] | {"loss", "reconstruction", "penalty", "lambda"} <= logged
    assert all(math.isfinite(v) for r in rows for k, v in r.items() if k != "step")
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["4", "8"]
    assert json.loads((tmp_path / "config.json").read_text())["method"] == method
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    for figure, columns in (("samples", 2), ("reconstructions", 4), ("interpolations", 10)):
        with Image.open(tmp_path / "figures" / f"{figure}_00000008.png") as image:
            assert image.mode == "L" and image.width == columns * 30 + 2
    if method == "wae_mmd":  # Re-running a finished run resumes it and changes nothing,
        config.keep_checkpoints = 5  # but says that its config differs from the saved one.
        with caplog.at_level(logging.WARNING):
            again = experiment.train_and_evaluate(config, str(tmp_path))
        assert "differs from the saved one" in caplog.text
        assert "keep_checkpoints: 3 -> 5" in caplog.text
        for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(again), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert metrics_writer.read_jsonl(str(tmp_path)) == rows
        assert json.loads((tmp_path / "config.json").read_text())["keep_checkpoints"] == 5
        config.model.widths = (8, 8, 8, 8)  # A checkpoint of other shapes cannot be resumed.
        with pytest.raises(validation.ConfigError, match="does not fit this config"):
            experiment.train_and_evaluate(config, str(tmp_path))


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(data_dir, tmp_path):
    # From epoch 1 (step 8 of 8-image batches over 64 images) the rate is multiplied by
    # 1e33: Adam then throws the weights past float32 range within a step or two.
    config = tiny_config("wae_mmd", data_dir, num_train_steps=16, pretrain_encoder=False,
                         lr_decay_epochs=(1,), lr_decay_factors=(1e-33,),
                         eval_every_steps=16)  # no evaluation before the divergence
    with pytest.raises(trainer.NonFiniteError) as info:
        experiment.train_and_evaluate(config, str(tmp_path))
    message = str(info.value)
    step = int(message.split(" at step ")[1].split()[0])
    assert step in (9, 10, 11) and "training" in message and " is " in message
    term = message.split("training ")[1].split(" is ")[0]
    assert term in ("loss", "reconstruction", "penalty", "mmd", "grad_norm")
    kept = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir())
    assert kept == [4, 8]
    checkpointer = checkpointing.Checkpointer(str(tmp_path), 3)
    state, _, step = checkpointer.restore(None)  # as stored, no target structure
    checkpointer.close()
    assert step == 8 and int(np.asarray(state["step"])) == 8
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree.leaves(state)
               if np.issubdtype(np.asarray(leaf).dtype, np.floating))
