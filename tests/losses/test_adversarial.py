"""WAE-GAN adversary losses against numpy BCE; the log-prior trick against scipy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from wae_jax.losses import add_log_prior, adversary_loss, encoder_adversary_loss

RNG = np.random.default_rng(8)
LOGITS_PRIOR = RNG.normal(scale=3.0, size=7)
LOGITS_ENCODED = RNG.normal(scale=3.0, size=5)


def bce(logits, label):
    p = 1.0 / (1.0 + np.exp(-logits))
    return -np.mean(label * np.log(p) + (1.0 - label) * np.log(1.0 - p))


def _f32(a):
    return jnp.asarray(a, jnp.float32)


def test_adversary_loss_matches_numpy_bce():
    want = bce(LOGITS_PRIOR, 1.0) + bce(LOGITS_ENCODED, 0.0)
    np.testing.assert_allclose(adversary_loss(_f32(LOGITS_PRIOR), _f32(LOGITS_ENCODED)), want,
                               rtol=1e-5)


def test_encoder_loss_is_non_saturating_bce_to_one():
    np.testing.assert_allclose(encoder_adversary_loss(_f32(LOGITS_ENCODED)),
                               bce(LOGITS_ENCODED, 1.0), rtol=1e-5)
    # Saturating alternative -BCE(D(z_q), 0) would vanish here; ours keeps a unit gradient.
    grad = jax.jit(jax.grad(lambda l: encoder_adversary_loss(l)))(_f32([-100.0]))
    np.testing.assert_allclose(grad, [-1.0], rtol=1e-6)


def test_losses_are_finite_at_large_logits():
    perfect = adversary_loss(_f32([100.0, 100.0]), _f32([-100.0]))
    fooled = encoder_adversary_loss(_f32([-100.0, -100.0]))
    np.testing.assert_allclose([perfect, fooled], [0.0, 100.0], atol=1e-6)


def test_add_log_prior_matches_scipy_logpdf():
    z = RNG.normal(size=(4, 5))
    logits = RNG.normal(size=4)
    prior_std = 0.7
    want = logits + scipy.stats.multivariate_normal(np.zeros(5), prior_std**2 * np.eye(5)).logpdf(z)
    np.testing.assert_allclose(add_log_prior(_f32(logits), _f32(z), prior_std), want, rtol=1e-5)


def test_add_log_prior_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="logits"):
        add_log_prior(jnp.zeros((3,)), jnp.zeros((4, 2)), 1.0)
