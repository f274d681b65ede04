"""Reconstruction costs against float64 numpy formulas."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.losses import reconstruction_cost

RNG = np.random.default_rng(0)
X = RNG.uniform(0.0, 1.0, size=(4, 5, 6, 2))
X_HAT = RNG.normal(0.5, 0.5, size=X.shape)


def _flat(v):
    return v.reshape(v.shape[0], -1)


NUMPY_COSTS = {
    "l2sq": lambda x, y: np.sum(_flat(x - y) ** 2, axis=1),
    "l2": lambda x, y: np.sqrt(np.sum(_flat(x - y) ** 2, axis=1)),
    "l1": lambda x, y: np.sum(np.abs(_flat(x - y)), axis=1),
}


@pytest.mark.parametrize("cost", sorted(NUMPY_COSTS))
def test_distance_costs_match_numpy(cost):
    got = reconstruction_cost(jnp.asarray(X, jnp.float32), jnp.asarray(X_HAT, jnp.float32), cost)
    assert got.shape == (4,)
    np.testing.assert_allclose(got, NUMPY_COSTS[cost](X, X_HAT), rtol=1e-5)


def test_bernoulli_matches_naive_cross_entropy_at_moderate_logits():
    logits = RNG.uniform(-5.0, 5.0, size=X.shape)
    p = 1.0 / (1.0 + np.exp(-logits))
    want = -np.sum(_flat(X * np.log(p) + (1.0 - X) * np.log(1.0 - p)), axis=1)
    got = reconstruction_cost(jnp.asarray(X, jnp.float32), jnp.asarray(logits, jnp.float32),
                              "bernoulli")
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_bernoulli_is_stable_at_large_logits():
    x = np.array([[1.0, 0.0, 0.3, 1.0, 0.0, 0.3]])
    logits = np.array([[100.0, 100.0, 100.0, -100.0, -100.0, -100.0]])
    # -log sigmoid(100) ~ 4e-44, -log sigmoid(-100) ~ 100: per pixel 0, 100, 70, 100, 0, 30.
    got = reconstruction_cost(jnp.asarray(x, jnp.float32), jnp.asarray(logits, jnp.float32),
                              "bernoulli")
    np.testing.assert_allclose(got, [300.0], rtol=1e-6)
    total = lambda l: reconstruction_cost(jnp.asarray(x, jnp.float32), l, "bernoulli").sum()
    grad = jax.jit(jax.grad(total))(jnp.asarray(logits, jnp.float32))
    assert np.all(np.isfinite(grad))
    # d/dlogit = sigmoid(logit) - x
    np.testing.assert_allclose(grad, [[0.0, 1.0, 0.7, -1.0, 0.0, -0.3]], atol=1e-6)


def test_l2_has_finite_gradient_at_perfect_reconstruction():
    x = jnp.asarray(X[:2], jnp.float32)
    grad = jax.jit(jax.grad(lambda y: reconstruction_cost(x, y, "l2").sum()))(x)
    assert np.all(np.isfinite(grad))


def test_jit_with_static_cost():
    fn = jax.jit(functools.partial(reconstruction_cost, cost="l1"))
    np.testing.assert_allclose(fn(jnp.asarray(X, jnp.float32), jnp.asarray(X_HAT, jnp.float32)),
                               NUMPY_COSTS["l1"](X, X_HAT), rtol=1e-5)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match=r"cost='l3'.*l2sq"):
        reconstruction_cost(jnp.zeros((2, 3)), jnp.zeros((2, 3)), "l3")
    with pytest.raises(ValueError, match="x_hat.shape"):
        reconstruction_cost(jnp.zeros((2, 3)), jnp.zeros((2, 4)), "l2sq")
