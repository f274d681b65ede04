"""SampleScorer: the named metrics compare the right feature sets, built once."""

import numpy as np
import pytest
import scipy.linalg

import wae_jax.data
from wae_jax.evaluation import polynomial_mmd, sample_metrics

NUM_TEST = 40


@pytest.fixture
def fake_networks(monkeypatch):
    """Cheap stand-ins for Inception (pixels) and the proxy classifier (row means)."""
    images = np.random.default_rng(0).integers(0, 256, (NUM_TEST, 3, 2, 1), np.uint8)
    monkeypatch.setattr(wae_jax.data, "load_arrays",
                        lambda name, split, data_dir=None: (images, np.zeros(NUM_TEST)))
    built = []

    def network(name, fn):
        def build(options):
            built.append(name)
            return sample_metrics.Network(name, fn, f"fake {name}")
        return build

    monkeypatch.setitem(sample_metrics.NETWORKS, "inception", network(
        "pixels", lambda x: x.reshape(len(x), -1).astype(np.float32)))
    monkeypatch.setitem(sample_metrics.NETWORKS, "proxy_classifier", network(
        "rows", lambda x: x.mean(axis=(2, 3)).astype(np.float32)))
    return images, built


def _scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook formula with scipy's sqrtm, as an independent reference."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    diff = a.mean(0) - b.mean(0)
    return float(diff @ diff + np.trace(s1 + s2 - 2 * root))


def test_metrics_compare_samples_with_the_reference(tmp_path, fake_networks):
    images, built = fake_networks
    scorer = sample_metrics.SampleScorer(("fid", "kid", "classifier_fd"), "mnist",
                                         reference_n=30, cache_dir=str(tmp_path))
    assert sorted(built) == ["pixels", "rows"]  # one build per network
    samples = np.random.default_rng(1).integers(0, 256, (25, 3, 2, 1), np.uint8)
    results = scorer(samples)
    pixels = lambda x: x.reshape(len(x), -1).astype(np.float32)  # noqa: E731
    rows = lambda x: x.mean(axis=(2, 3)).astype(np.float32)  # noqa: E731
    np.testing.assert_allclose(results["fid"]["value"],
                               _scipy_frechet(pixels(samples), pixels(images[:30])), rtol=1e-6)
    np.testing.assert_allclose(results["classifier_fd"]["value"],
                               _scipy_frechet(rows(samples), rows(images[:30])), rtol=1e-6)
    mean, std = polynomial_mmd.kernel_distance(pixels(samples), pixels(images[:30]),
                                               subset_size=12)
    assert results["kid"]["value"] == mean and results["kid"]["std"] == std > 0
    assert results["kid"]["subset_size"] == 12  # half the smaller set
    for name in ("fid", "kid", "classifier_fd"):
        assert results[name]["num_samples"] == 25
        assert results[name]["reference"] == {"dataset": "mnist", "split": "test", "n": 30}
    assert results["classifier_fd"]["network"] == "fake rows"


def test_a_set_against_itself_scores_zero(tmp_path, fake_networks):
    images, _ = fake_networks
    scorer = sample_metrics.SampleScorer(("fid",), "mnist", cache_dir=str(tmp_path))
    assert abs(scorer(images)["fid"]["value"]) < 1e-8
    float_images = images.astype(np.float32) / 255.0  # floats in [0, 1] round to the same bytes
    assert abs(scorer(float_images)["fid"]["value"]) < 1e-8


def test_only_the_networks_in_use_are_built(tmp_path, fake_networks):
    _, built = fake_networks
    sample_metrics.SampleScorer(("classifier_fd",), "mnist", cache_dir=str(tmp_path))
    assert built == ["rows"]


def test_kid_subsets_leave_room_for_a_spread():
    assert sample_metrics.kid_subset_size(10_000, 10_000) == 1000
    assert sample_metrics.kid_subset_size(500, 10_000) == 250
    assert sample_metrics.kid_subset_size(3, 3) == 2


def test_unknown_metric_is_refused():
    with pytest.raises(ValueError, match=r"metrics=\('fid', 'is'\): unknown \['is'\]"):
        sample_metrics.SampleScorer(("fid", "is"), "mnist")


def test_tanh_range_samples_are_refused(tmp_path, fake_networks):
    scorer = sample_metrics.SampleScorer(("fid",), "mnist", cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"samples: float values span"):
        scorer(np.full((4, 3, 2, 1), -0.5, np.float32))
