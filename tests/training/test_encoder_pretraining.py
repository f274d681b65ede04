"""Encoder pre-training: the moment-matching loss against numpy, and the loop's stopping rule."""

import jax
import numpy as np
import pytest

from wae_jax import models
from wae_jax.training import encoder_pretraining
from tests.training.tiny import SHAPE, create_state, tiny_config


@pytest.mark.parametrize("prior_std", [1.0, 2.0])
def test_moment_matching_loss_matches_numpy(prior_std):
    z = np.random.default_rng(0).normal(0.3, 1.7, size=(50, 4)).astype(np.float32)
    cov = np.cov(z, rowvar=False, ddof=1)
    expected = (np.mean(z.mean(0) ** 2)
                + np.mean((cov - prior_std**2 * np.eye(4)) ** 2))
    got = encoder_pretraining.moment_matching_loss(jax.numpy.asarray(z), prior_std)
    assert float(got) == pytest.approx(expected, rel=1e-5)


@pytest.fixture(scope="module")
def pretraining():
    """A tiny DCGAN (batch norm included) and its compiled pre-training functions."""
    config = tiny_config("wae_mmd", "")
    model = models.build_autoencoder(config.model, SHAPE)
    state = create_state(config, model, None, jax.random.PRNGKey(0))
    init_fn, step_fn = encoder_pretraining.make_pretrain_fns(config, model)
    return config, state, jax.jit(init_fn), jax.jit(step_fn)


def _pretrain(pretraining, threshold, max_steps):
    config, state, init_fn, step_fn = pretraining
    config = tiny_config("wae_mmd", "", pretrain_loss_threshold=threshold,
                         pretrain_max_steps=max_steps)  # read by the loop, not the step
    rng = np.random.default_rng(0)
    batches = (rng.random((8, *SHAPE), np.float32) for _ in range(max_steps))
    new_state, steps, loss = encoder_pretraining.pretrain_encoder(config, state, init_fn,
                                                                  step_fn, batches)
    return state, new_state, steps, loss


def test_pretraining_moves_only_the_encoder_and_stops_at_the_budget(pretraining):
    state, new_state, steps, loss = _pretrain(pretraining, threshold=0.0, max_steps=3)
    assert steps == 3 and np.isfinite(loss)
    for part in ("encoder", "head"):
        before, after = jax.tree.leaves(state.params[part]), jax.tree.leaves(new_state.params[part])
        assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    for a, b in zip(jax.tree.leaves(state.params["decoder"]),
                    jax.tree.leaves(new_state.params["decoder"])):
        np.testing.assert_array_equal(a, b)  # zero gradients: Adam leaves them exactly
    assert int(new_state.step) == 0 and new_state.opt_state is state.opt_state


def test_pretraining_stops_once_below_the_threshold(pretraining):
    _, _, steps, loss = _pretrain(pretraining, threshold=1e9, max_steps=50)
    assert steps == 1 and loss < 1e9
