"""Gram matrices against numpy double loops; symmetry and positive semi-definiteness."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.losses import imq_kernel, rbf_kernel, squared_distances

RNG = np.random.default_rng(3)
X = RNG.normal(size=(6, 3))
Y = RNG.normal(size=(5, 3)) + 0.5
SCALES = (0.1, 1.0, 10.0)


def imq_loop(x, y, scales, base):
    gram = np.zeros((len(x), len(y)))
    for i in range(len(x)):
        for j in range(len(y)):
            d2 = np.sum((x[i] - y[j]) ** 2)
            gram[i, j] = sum(base * s / (base * s + d2) for s in scales)
    return gram


def rbf_loop(x, y, bandwidth):
    gram = np.zeros((len(x), len(y)))
    for i in range(len(x)):
        for j in range(len(y)):
            gram[i, j] = np.exp(-np.sum((x[i] - y[j]) ** 2) / (2.0 * bandwidth))
    return gram


def _f32(a):
    return jnp.asarray(a, jnp.float32)


def test_imq_matches_double_loop():
    got = imq_kernel(_f32(X), _f32(Y), SCALES, 6.0)
    assert got.shape == (6, 5)
    np.testing.assert_allclose(got, imq_loop(X, Y, SCALES, 6.0), rtol=1e-5)


def test_rbf_matches_double_loop():
    got = rbf_kernel(_f32(X), _f32(Y), 1.7)
    np.testing.assert_allclose(got, rbf_loop(X, Y, 1.7), rtol=1e-5)


@pytest.mark.parametrize("gram_fn, diagonal", [
    (lambda x: imq_kernel(x, x, SCALES, 2.0), len(SCALES)),  # k(x, x) = 1 per scale
    (lambda x: rbf_kernel(x, x, 0.8), 1.0),
], ids=["imq", "rbf"])
def test_gram_is_symmetric_psd(gram_fn, diagonal):
    x = np.concatenate([X, X[:2] + 1e-3])  # near-duplicate rows stress the distance rounding
    gram = np.asarray(gram_fn(_f32(x)), np.float64)
    np.testing.assert_allclose(gram, gram.T, atol=1e-6)
    eigenvalues = np.linalg.eigvalsh(gram)
    assert eigenvalues.min() >= -1e-5 * eigenvalues.max()
    np.testing.assert_allclose(np.diag(gram), diagonal, rtol=1e-6)


def test_squared_distances_are_clipped_at_zero():
    x = (RNG.normal(size=(8, 4)) * 30.0).astype(np.float32)
    x = np.concatenate([x, x + np.float32(1e-3)])
    sq = np.sum(x * x, axis=1, keepdims=True)
    assert (sq + sq.T - 2.0 * x @ x.T).min() < 0.0  # float32 rounding of the raw expansion
    d2 = np.asarray(squared_distances(jnp.asarray(x), jnp.asarray(x)))
    assert d2.min() >= 0.0
    np.testing.assert_allclose(d2, ((x[:, None] - x[None]) ** 2).sum(-1), atol=0.05)


def test_kernel_gradients_are_finite_on_the_diagonal():
    grad = jax.jit(jax.grad(lambda x: imq_kernel(x, x, SCALES, 2.0).sum()))(_f32(X))
    assert np.all(np.isfinite(grad))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="scales"):
        imq_kernel(_f32(X), _f32(Y), (), 1.0)
    with pytest.raises(ValueError, match="equal d"):
        rbf_kernel(_f32(X), _f32(Y[:, :2]), 1.0)
