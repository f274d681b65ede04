"""MMD U-statistic against numpy double loops, hand values and its null distribution."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.losses import imq_base, mmd_u_statistic, rbf_median_bandwidth

SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
mmd = jax.jit(mmd_u_statistic, static_argnames=("kernel", "scales"))  # one compile per shape


def imq_pair(a, b, base, scales=SCALES):
    d2 = np.sum((a - b) ** 2)
    return sum(base * s / (base * s + d2) for s in scales)


def mmd_loop(q, p, k):
    """The WAE paper's unbiased estimator, written as plain loops."""
    n, m = len(q), len(p)
    qq = sum(k(q[i], q[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    pp = sum(k(p[i], p[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    qp = sum(k(q[i], p[j]) for i in range(n) for j in range(m)) / (n * m)
    return qq + pp - 2.0 * qp


def median_bandwidth_loop(q, p):
    cross = [np.sum((a - b) ** 2) for a in q for b in p]
    within = [np.sum((q[i] - q[j]) ** 2) for i in range(len(q)) for j in range(i + 1, len(q))]
    return np.median(cross) + np.median(within)


def gram(a, b, base):
    """Vectorised float64 IMQ Gram matrices [..., n, m] for the null-distribution test."""
    d2 = np.sum((a[..., :, None, :] - b[..., None, :, :]) ** 2, axis=-1)
    return sum(base * s / (base * s + d2) for s in SCALES)


def _f32(a):
    return jnp.asarray(a, jnp.float32)


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(4)
    return rng.normal(size=(6, 3)) * 1.3 + 0.4, rng.normal(size=(9, 3)) * 1.5


def test_imq_matches_double_loop_with_unequal_sizes(samples):
    q, p = samples
    base = 2 * 3 * 1.5**2
    want = mmd_loop(q, p, functools.partial(imq_pair, base=base))
    got = mmd(_f32(q), _f32(p), prior_std=1.5)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    # A wrong kernel constant (z_dim * sigma^2 instead of 2 * z_dim * sigma^2) is detectable.
    wrong = mmd_loop(q, p, functools.partial(imq_pair, base=base / 2))
    assert abs(wrong - want) > 100 * abs(float(got) - want)


def test_imq_base_is_the_priors_mean_squared_distance():
    rng = np.random.default_rng(5)
    z_dim, prior_std = 5, 0.7
    a, b = rng.normal(scale=prior_std, size=(2, 100_000, z_dim))
    d2 = np.sum((a - b) ** 2, axis=1)
    assert imq_base(z_dim, prior_std) == pytest.approx(2 * z_dim * prior_std**2)
    assert abs(d2.mean() - imq_base(z_dim, prior_std)) < 4 * d2.std() / np.sqrt(len(d2))


def test_rbf_matches_double_loop_with_median_bandwidth(samples):
    q, p = samples
    bandwidth = median_bandwidth_loop(q, p)
    got_bandwidth = jax.jit(rbf_median_bandwidth)(_f32(q), _f32(p))
    np.testing.assert_allclose(got_bandwidth, bandwidth, rtol=1e-5)
    want = mmd_loop(q, p, lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * bandwidth)))
    np.testing.assert_allclose(mmd(_f32(q), _f32(p), kernel="rbf"), want,
                               rtol=1e-4, atol=1e-6)


def test_hand_values_catch_diagonal_cross_term_and_factor_errors():
    q, p = _f32([[0.0], [1.0]]), _f32([[0.0], [2.0]])
    # IMQ with C = 2 * 1 * 1 * 0.5 = 1, k = 1 / (1 + d^2): within-q 1/2, within-p 1/5,
    # cross (1 + 1/5 + 1/2 + 1/2) / 4 = 0.55, so MMD = 0.5 + 0.2 - 1.1 = -0.4.
    # Keeping the within diagonals gives 0.25, dropping the cross diagonal 0.0,
    # forgetting the factor 2 gives 0.15.
    np.testing.assert_allclose(mmd(q, p, scales=(0.5,)), -0.4, rtol=1e-6)
    # RBF: cross d^2 {0, 4, 1, 1} (median 1) + within-q d^2 {1} (median 1): sigma^2 = 2
    # (the pooled-sample median would give 1). MMD = e^-1/4 + e^-1 - 2 (1 + e^-1 + 2 e^-1/4) / 4.
    np.testing.assert_allclose(mmd(q, p, kernel="rbf"), 0.5 * np.exp(-1.0) - 0.5,
                               rtol=1e-6)


def test_unbiased_under_the_null_while_the_v_statistic_is_not():
    rng = np.random.default_rng(6)
    q, p = rng.normal(size=(2, 300, 16, 4))
    u = np.asarray(jax.jit(jax.vmap(mmd_u_statistic))(_f32(q), _f32(p)), np.float64)
    base = 2 * 4 * 1.0
    v = (gram(q, q, base).mean((1, 2)) + gram(p, p, base).mean((1, 2))
         - 2 * gram(q, p, base).mean((1, 2)))
    se = lambda a: a.std(ddof=1) / np.sqrt(len(a))
    assert abs(u.mean()) < 3 * se(u), (u.mean(), se(u))
    assert v.mean() > 20 * se(v), (v.mean(), se(v))
    assert 0.2 < np.mean(u < 0) < 0.8  # negative estimates are expected, not a bug


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_clearly_positive_for_shifted_distributions(kernel):
    rng = np.random.default_rng(7)
    null = [mmd(_f32(rng.normal(size=(32, 4))), _f32(rng.normal(size=(32, 4))),
                            kernel=kernel) for _ in range(20)]
    shifted = mmd(_f32(rng.normal(size=(32, 4)) + 1.0),
                              _f32(rng.normal(size=(32, 4))), kernel=kernel)
    assert shifted > 10 * np.std(null)


def test_imq_statistic_is_symmetric(samples):
    q, p = _f32(samples[0]), _f32(samples[1])
    np.testing.assert_allclose(mmd(q, p), mmd(p, q), atol=1e-5)


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_gradients_are_finite(samples, kernel):
    fn = functools.partial(mmd_u_statistic, kernel=kernel, scales=(0.5, 2.0))
    grad = jax.jit(jax.grad(fn))(_f32(samples[0]), _f32(samples[1]))
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_bandwidth_carries_no_gradient(samples):
    bandwidth_of_q = lambda q: rbf_median_bandwidth(q, _f32(samples[1]))
    grad = jax.jit(jax.grad(bandwidth_of_q))(_f32(samples[0]))
    np.testing.assert_array_equal(grad, 0.0)


def test_bad_inputs_raise():
    z = jnp.zeros((4, 2))
    with pytest.raises(ValueError, match="kernel='gauss'"):
        mmd_u_statistic(z, z, kernel="gauss")
    with pytest.raises(ValueError, match=">= 2 rows"):
        mmd_u_statistic(z[:1], z)
    with pytest.raises(ValueError, match=r"\[n, d\]"):
        mmd_u_statistic(z, jnp.zeros((4, 3)))
