"""Reference statistics: computed once from wae_jax.data.load_arrays, then read from cache."""

import numpy as np
import pytest

import wae_jax.data
from wae_jax.evaluation import frechet, reference


@pytest.fixture
def fake_stack(monkeypatch):
    """A 12-image dataset and cheap features; records which loads happened."""
    images = np.random.default_rng(0).integers(0, 256, (12, 4, 4, 1), np.uint8)
    loads = []

    def load_arrays(name, split, data_dir=None):
        loads.append((name, split, data_dir))
        return images, np.zeros(len(images), np.int64)

    def features(x, batch_size):
        return x.reshape(len(x), -1).astype(np.float32)

    monkeypatch.setattr(wae_jax.data, "load_arrays", load_arrays)
    monkeypatch.setattr(reference, "inception_features", features)
    return images, loads


def test_computes_once_then_reads_the_cache(tmp_path, fake_stack):
    images, loads = fake_stack
    first = reference.reference_statistics("mnist", "test", 8, cache_dir=tmp_path, data_dir="d")
    expected = frechet.feature_statistics(images[:8].reshape(8, -1))
    np.testing.assert_allclose(first.sigma, expected.sigma)
    path = reference.statistics_path("mnist", "test", 8, tmp_path)
    assert path.exists() and path.name == f"mnist_test_8_{reference.NETWORK_ID}.npz"
    second = reference.reference_statistics("mnist", "test", 8, cache_dir=tmp_path)
    np.testing.assert_array_equal(second.mu, first.mu)
    assert loads == [("mnist", "test", "d")]  # the second call never touched the data
    everything = reference.reference_statistics("mnist", "test", cache_dir=tmp_path)
    assert everything.n == 12 and len(loads) == 2


def test_network_id_carries_the_weights_hash():
    assert reference.NETWORK_ID.endswith(reference.TORCHSCRIPT_SHA256[:8])


def test_too_many_images_is_refused(tmp_path, fake_stack):
    with pytest.raises(ValueError, match=r"n=13: must lie in \[2, 12\]"):
        reference.reference_statistics("mnist", "test", 13, cache_dir=tmp_path)
