"""KID against a brute-force loop implementation of Binkowski et al.'s estimator."""

import numpy as np
import pytest

from wae_jax.evaluation import polynomial_mmd


def brute_force_mmd2(x, y):
    """Pair-by-pair sums of k(a, b) = (a.b / d + 1)^3."""
    d = x.shape[1]
    k = lambda a, b: (sum(a[t] * b[t] for t in range(d)) / d + 1.0) ** 3
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_mmd2_matches_brute_force():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 5)), rng.normal(size=(9, 5)) + 0.3
    np.testing.assert_allclose(polynomial_mmd.mmd2_unbiased(x, y), brute_force_mmd2(x, y),
                               rtol=1e-10)


def test_kernel_distance_averages_subsets_drawn_without_replacement():
    rng = np.random.default_rng(1)
    f1, f2 = rng.normal(size=(40, 4)), rng.normal(size=(30, 4)) * 1.2
    mean, std = polynomial_mmd.kernel_distance(f1, f2, num_subsets=5, subset_size=10, seed=7)
    draws = np.random.default_rng(7)
    values = []
    for _ in range(5):
        i = draws.choice(40, 10, replace=False)
        j = draws.choice(30, 10, replace=False)
        values.append(brute_force_mmd2(f1[i], f2[j]))
    np.testing.assert_allclose([mean, std], [np.mean(values), np.std(values)], rtol=1e-10)


def test_kid_is_unbiased_near_zero_for_equal_distributions():
    rng = np.random.default_rng(2)
    same = polynomial_mmd.kernel_distance(rng.normal(size=(600, 8)), rng.normal(size=(600, 8)),
                                          num_subsets=20, subset_size=200)
    shifted = polynomial_mmd.kernel_distance(rng.normal(size=(600, 8)),
                                             rng.normal(size=(600, 8)) + 0.5,
                                             num_subsets=20, subset_size=200)
    assert abs(same[0]) < 3 * same[1] / np.sqrt(20) + 1e-3
    assert shifted[0] > 10 * abs(same[0]) and shifted[0] > 5 * shifted[1] / np.sqrt(20)


@pytest.mark.parametrize("kwargs, match", [
    (dict(subset_size=11), "subset_size"),
    (dict(subset_size=1), "subset_size"),
    (dict(num_subsets=0, subset_size=5), "num_subsets"),
])
def test_bad_arguments_are_refused(kwargs, match):
    f = np.zeros((10, 3))
    with pytest.raises(ValueError, match=match):
        polynomial_mmd.kernel_distance(f, f, **kwargs)
    with pytest.raises(ValueError, match="features"):
        polynomial_mmd.kernel_distance(f, np.zeros((10, 4)), subset_size=5)


def test_kid_on_images_runs_the_features_then_kernel_distance(monkeypatch):
    def fake_features(images, batch_size, params):
        return images.reshape(len(images), -1).astype(np.float64) / 255

    monkeypatch.setattr(polynomial_mmd, "inception_features", fake_features)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (12, 2, 2, 3), np.uint8)
    y = rng.integers(0, 200, (10, 2, 2, 3), np.uint8)
    expected = polynomial_mmd.kernel_distance(fake_features(x, 0, None),
                                              fake_features(y, 0, None),
                                              num_subsets=4, subset_size=8, seed=5)
    assert polynomial_mmd.kid(x, y, num_subsets=4, subset_size=8, seed=5) == expected
