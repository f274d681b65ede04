"""frechet_distance against scipy's sqrtm route and closed forms; FID plumbing."""

import numpy as np
import pytest
import scipy.linalg

from wae_jax.evaluation import frechet as fid_lib


def scipy_reference(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """The TTUR / pytorch-fid recipe: sqrtm of the product, eps * I retry, real part."""
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.all(np.isfinite(covmean)):
        offset = np.eye(len(sigma1)) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    diff = mu1 - mu2
    return diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean.real)


def random_statistics(rng, n, d, scale=1.0, rank=None):
    mixing = rng.normal(size=(rank or d, d)) * scale
    feats = rng.normal(size=(n, rank or d)) @ mixing + rng.normal(size=d)
    return fid_lib.feature_statistics(feats)


@pytest.mark.parametrize("n, d, rank", [
    (400, 32, None),  # well conditioned
    (20, 32, None),  # fewer samples than dimensions: rank 19
    (300, 32, 5),  # features in a 5-d subspace: exactly rank deficient
])
def test_matches_scipy_sqrtm_reference(n, d, rank):
    rng = np.random.default_rng(n + d)
    a = random_statistics(rng, n, d, rank=rank)
    b = random_statistics(rng, n, d, scale=1.5, rank=rank)
    ours = fid_lib.frechet_distance(a.mu, a.sigma, b.mu, b.sigma)
    ref = scipy_reference(a.mu, a.sigma, b.mu, b.sigma)
    assert ours > 1.0
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_nearly_singular_covariances():
    rng = np.random.default_rng(0)
    d = 24
    basis = np.linalg.qr(rng.normal(size=(d, d)))[0]
    spectrum1 = np.geomspace(1.0, 1e-12, d)
    spectrum2 = np.geomspace(2.0, 1e-11, d)
    sigma1 = (basis * spectrum1) @ basis.T
    sigma2 = (basis * spectrum2) @ basis.T  # commuting: closed form is known
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    exact = (np.sum((mu1 - mu2) ** 2)
             + np.sum((np.sqrt(spectrum1) - np.sqrt(spectrum2)) ** 2))
    ours = fid_lib.frechet_distance(mu1, sigma1, mu2, sigma2)
    np.testing.assert_allclose(ours, exact, rtol=1e-9)
    np.testing.assert_allclose(ours, scipy_reference(mu1, sigma1, mu2, sigma2), rtol=1e-6)


def test_diagonal_closed_form_symmetry_and_self_distance():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.1, 3, 16), rng.uniform(0.1, 3, 16)
    mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    d12 = fid_lib.frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    d21 = fid_lib.frechet_distance(mu2, np.diag(b), mu1, np.diag(a))
    np.testing.assert_allclose([d12, d21], expected, rtol=1e-10)
    s = random_statistics(rng, 10, 40)  # rank 9 of 40
    assert abs(fid_lib.frechet_distance(s.mu, s.sigma, s.mu, s.sigma)) < 1e-6


def test_refuses_non_covariances():
    eye = np.eye(3)
    with pytest.raises(ValueError, match="symmetric"):
        fid_lib.frechet_distance(np.zeros(3), np.triu(np.ones((3, 3))), np.zeros(3), eye)
    with pytest.raises(ValueError, match="positive semi-definite"):
        fid_lib.frechet_distance(np.zeros(3), -eye, np.zeros(3), eye)
    with pytest.raises(ValueError, match="sigma2"):
        fid_lib.frechet_distance(np.zeros(3), eye, np.zeros(3), np.eye(4))
    with pytest.raises(ValueError, match="mu1, mu2"):
        fid_lib.frechet_distance(np.zeros(3), eye, np.zeros(2), eye)


def test_feature_statistics_match_numpy():
    feats = np.random.default_rng(2).normal(size=(50, 6)).astype(np.float32)
    stats = fid_lib.feature_statistics(feats)
    np.testing.assert_allclose(stats.mu, feats.astype(np.float64).mean(0))
    np.testing.assert_allclose(stats.sigma, np.cov(feats.astype(np.float64).T, ddof=1))
    assert stats.n == 50 and stats.sigma.dtype == np.float64
    with pytest.raises(ValueError, match="N >= 2"):
        fid_lib.feature_statistics(feats[:1])


def test_statistics_round_trip(tmp_path):
    stats = random_statistics(np.random.default_rng(3), 30, 5)
    fid_lib.save_statistics(tmp_path / "s.npz", stats)
    loaded = fid_lib.load_statistics(tmp_path / "s.npz")
    np.testing.assert_array_equal(loaded.sigma, stats.sigma)
    fid_lib.save_statistics(tmp_path / "s", stats)  # the path as given, no suffix added
    assert fid_lib.load_statistics(tmp_path / "s").n == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s", "s.npz"]
    assert loaded.n == 30
    np.savez(tmp_path / "bad.npz", mu=stats.mu)
    with pytest.raises(ValueError, match="missing"):
        fid_lib.load_statistics(tmp_path / "bad.npz")


def test_fid_of_a_set_against_itself_and_with_cached_statistics(monkeypatch):
    def fake_features(images, batch_size, params):  # cheap, injective enough features
        flat = images.reshape(len(images), -1).astype(np.float64)
        return np.concatenate([flat, np.sin(flat)], axis=1)

    monkeypatch.setattr(fid_lib, "inception_features", fake_features)
    rng = np.random.default_rng(4)
    x = rng.integers(0, 256, (30, 2, 2, 3), np.uint8)
    y = rng.integers(0, 128, (30, 2, 2, 3), np.uint8)
    assert abs(fid_lib.fid(x, x)) < 1e-6
    stats = fid_lib.inception_statistics(y)
    np.testing.assert_allclose(fid_lib.fid(x, stats), fid_lib.fid(x, y), rtol=1e-12)
    assert fid_lib.fid(x, y) > 100
