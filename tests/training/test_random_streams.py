"""No PRNG key is used for two purposes by the trainer, the evaluators or the figures.

Every key that is split or sampled from must be consumed once, and a key that is
folded (the legitimate derivation of named streams) must not also be split or sampled,
nor folded twice with the same data. The whole run is recorded at the default seed:
initialisation, encoder pre-training, a train step, an eval step, the figure codes and
prior noise, the sample-evaluation noise and the latent scatter's prior sample.
"""

import collections

import jax
import numpy as np
import pytest

from wae_jax import models
from wae_jax import workdir_evaluation
from wae_jax.training import encoder_pretraining, progress_report, sample_quality, steps
from tests.fast_compilation import jit as fast_jit
from tests.training.random_calls import RandomCalls
from tests.training.tiny import SHAPE, create_state, random_batch, tiny_config

# The noise encoder draws in init, steps and figures; w2vae draws exactly as vae.
ENCODERS = {"vae": "gaussian", "wae_mmd": "noise", "wae_gan": "noise"}
NUM_IMAGES = 8


def reused_keys(calls) -> list[str]:
    """Descriptions of keys consumed twice (see the module doc); empty when all is well."""
    by_key = collections.defaultdict(list)
    for call in calls:
        by_key[call.key].append(call)
    reused = []
    for key, uses in by_key.items():
        consumed = [c for c in uses if c.fn != "fold_in"]
        folds = [c.data for c in uses if c.fn == "fold_in"]
        if len(consumed) > 1 or (consumed and folds) or len(set(folds)) < len(folds):
            reused.append(f"{key}: " + ", ".join(f"{c.use}:{c.fn}"
                                                  + (f"({c.data})" if c.fn == "fold_in" else "")
                                                  for c in uses))
    return reused


def _zero_codes(state, images):
    return np.zeros((len(images), 2), np.float32)


def _zero_images(state, inputs):
    return np.zeros((len(inputs), *SHAPE), np.float32)


def record_run(recorder: RandomCalls, method: str) -> None:
    """Runs every piece of a run and of its evaluation that draws randomness (jitted where
    eager dispatch is slow; the recorder sees jitted code too)."""
    config = tiny_config(method, "", latent_dim=2, pretrain_max_steps=1)
    config.model.arch, config.model.encoder = "mlp", ENCODERS[method]
    model = models.build_autoencoder(config.model, SHAPE)
    adversary = models.build_adversary(config.model) if method == "wae_gan" else None
    images = np.asarray(random_batch(n=NUM_IMAGES)["image"])
    with recorder.recording("create_train_state"):
        state = create_state(config, model, adversary, jax.random.PRNGKey(config.seed))
    with recorder.recording("pretrain"):
        init_fn, step_fn = encoder_pretraining.make_pretrain_fns(config, model)
        encoder_pretraining.pretrain_encoder(config, state, init_fn, fast_jit(step_fn),
                                             iter([images]))
    with recorder.recording("train_step"):
        fast_jit(steps.make_train_step(config, model, adversary, 1))(state, {"image": images})
    with recorder.recording("eval_step"):
        fast_jit(steps.make_eval_step(config, model, adversary, 1))(state, images)
    with recorder.recording("figure_codes"):
        steps.make_figure_fns(config, model)["encode"](state, images)
    mesh = steps.make_mesh()
    with recorder.recording("figure_prior_noise"):
        progress_report.ProgressReport(config, model, adversary, mesh, images, 1)
    with recorder.recording("sample_eval_noise"):
        sample_quality.prior_noise(config, 16, sample_quality.SAMPLE_SEED)
    with recorder.recording("latent_scatter"):  # figure fns without randomness of their own
        fns = {"encode": _zero_codes, "decode": _zero_images, "reconstruct": _zero_images}
        workdir_evaluation._figures(config, fns, state, images, np.zeros(NUM_IMAGES, np.int32),
                                    np.zeros((NUM_IMAGES, *SHAPE), np.float32), NUM_IMAGES,
                                    mesh)


@pytest.mark.parametrize("method", list(ENCODERS))
def test_every_key_of_a_run_is_used_once(monkeypatch, method):
    recorder = RandomCalls(monkeypatch)
    record_run(recorder, method)
    uses = {c.use for c in recorder.calls}
    assert uses == {"create_train_state", "pretrain", "train_step", "eval_step",
                    "figure_codes", "figure_prior_noise", "sample_eval_noise",
                    "latent_scatter"}
    assert reused_keys(recorder.calls) == []


def test_reused_keys_flags_keys_consumed_twice(monkeypatch):
    recorder = RandomCalls(monkeypatch)
    key = jax.random.PRNGKey(0)
    with recorder.recording("two streams"):
        jax.random.normal(jax.random.fold_in(key, 1), (2,))
        jax.random.split(jax.random.fold_in(key, 2))
    assert reused_keys(recorder.calls) == []
    with recorder.recording("stream 1 again"):
        jax.random.uniform(jax.random.fold_in(key, 1), (2,))
    assert len(reused_keys(recorder.calls)) == 2  # (key, 1) folded twice; its child sampled twice
    recorder.calls.clear()
    with recorder.recording("a parent also split"):
        jax.random.normal(jax.random.fold_in(key, 3), (2,))
        jax.random.split(key)
    assert len(reused_keys(recorder.calls)) == 1
