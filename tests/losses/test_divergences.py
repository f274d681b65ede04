"""KL and W2 to N(0, I) against general-Gaussian formulas, scipy and Monte Carlo."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from wae_jax.losses import kl_to_standard_normal, w2_squared_to_standard_normal

RNG = np.random.default_rng(1)
MEAN = RNG.normal(size=(3, 4))
LOGVAR = RNG.uniform(-2.0, 1.0, size=(3, 4))


def kl_gaussians(m1, s1, m2, s2):
    """KL(N(m1, S1) || N(m2, S2)) for full covariances (textbook formula)."""
    s2_inv = np.linalg.inv(s2)
    diff = m2 - m1
    return 0.5 * (np.trace(s2_inv @ s1) + diff @ s2_inv @ diff - len(m1)
                  + np.log(np.linalg.det(s2) / np.linalg.det(s1)))


def w2_gaussians(m1, s1, m2, s2, sign=-2.0):
    """||m1-m2||^2 + tr(S1 + S2 + sign (S2^1/2 S1 S2^1/2)^1/2); sign=+2 is the paper's misprint."""
    root2 = scipy.linalg.sqrtm(s2)
    cross = scipy.linalg.sqrtm(root2 @ s1 @ root2)
    return np.sum((m1 - m2) ** 2) + np.real(np.trace(s1 + s2 + sign * cross))


def _f32(a):
    return jnp.asarray(a, jnp.float32)


def test_kl_matches_full_covariance_formula():
    d = MEAN.shape[1]
    want = [kl_gaussians(m, np.diag(np.exp(lv)), np.zeros(d), np.eye(d))
            for m, lv in zip(MEAN, LOGVAR)]
    np.testing.assert_allclose(kl_to_standard_normal(_f32(MEAN), _f32(LOGVAR)), want, rtol=1e-5)


def test_kl_matches_monte_carlo():
    rng = np.random.default_rng(2)
    got = kl_to_standard_normal(_f32(MEAN), _f32(LOGVAR))
    d = MEAN.shape[1]
    for b in range(MEAN.shape[0]):
        q = scipy.stats.multivariate_normal(MEAN[b], np.diag(np.exp(LOGVAR[b])))
        z = q.rvs(size=200_000, random_state=rng)
        log_ratio = q.logpdf(z) - scipy.stats.multivariate_normal(np.zeros(d)).logpdf(z)
        stderr = log_ratio.std() / np.sqrt(len(z))
        assert abs(log_ratio.mean() - got[b]) < 4 * stderr, (b, log_ratio.mean(), got[b])


def test_reference_w2_matches_one_dimensional_formula():
    # W2^2(N(a, s^2), N(b, t^2)) = (a - b)^2 + (s - t)^2 on the real line.
    got = w2_gaussians(np.array([0.3]), np.array([[0.25]]), np.array([-1.0]), np.array([[4.0]]))
    np.testing.assert_allclose(got, 1.3**2 + 1.5**2)


def test_w2_matches_general_gaussian_formula():
    d = MEAN.shape[1]
    want = [w2_gaussians(m, np.diag(np.exp(lv)), np.zeros(d), np.eye(d))
            for m, lv in zip(MEAN, LOGVAR)]
    np.testing.assert_allclose(w2_squared_to_standard_normal(_f32(MEAN), _f32(LOGVAR)), want,
                               rtol=1e-5)


def test_papers_plus_two_variant_would_fail():
    d = MEAN.shape[1]
    misprint = [w2_gaussians(m, np.diag(np.exp(lv)), np.zeros(d), np.eye(d), sign=2.0)
                for m, lv in zip(MEAN, LOGVAR)]
    got = np.asarray(w2_squared_to_standard_normal(_f32(MEAN), _f32(LOGVAR)))
    assert np.all(np.abs(got - np.asarray(misprint)) > 1.0)
    # The misprint is not even a distance: 4 * d between identical distributions.
    zeros = jnp.zeros((1, d))
    assert w2_squared_to_standard_normal(zeros, zeros)[0] == 0.0
    np.testing.assert_allclose(w2_gaussians(np.zeros(d), np.eye(d), np.zeros(d), np.eye(d), 2.0),
                               4 * d)


@pytest.mark.parametrize("fn", [kl_to_standard_normal, w2_squared_to_standard_normal])
def test_zero_at_prior_and_finite_gradients(fn):
    zeros = jnp.zeros((2, 3))
    np.testing.assert_allclose(fn(zeros, zeros), [0.0, 0.0], atol=1e-7)
    grads = jax.jit(jax.grad(lambda m, lv: fn(m, lv).sum(), argnums=(0, 1)))(
        _f32(MEAN), _f32(LOGVAR))
    assert all(np.all(np.isfinite(g)) and np.any(g != 0) for g in grads)


@pytest.mark.parametrize("fn", [kl_to_standard_normal, w2_squared_to_standard_normal])
def test_shape_mismatch_raises(fn):
    with pytest.raises(ValueError, match="logvar"):
        fn(jnp.zeros((2, 3)), jnp.zeros((2, 4)))
