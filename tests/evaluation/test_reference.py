"""Reference features: computed once per (data, network), then read from the cache."""

import numpy as np
import pytest

import wae_jax.data
from wae_jax.evaluation import frechet, reference


@pytest.fixture
def fake_data(monkeypatch):
    """A 12-image dataset whose content the test may change; records the loads."""
    dataset = {"images": np.random.default_rng(0).integers(0, 256, (12, 4, 4, 1), np.uint8)}
    loads = []

    def load_arrays(name, split, data_dir=None):
        loads.append((name, split, data_dir))
        return dataset["images"], np.zeros(len(dataset["images"]), np.int64)

    monkeypatch.setattr(wae_jax.data, "load_arrays", load_arrays)
    return dataset, loads


class CountingFeatures:
    def __init__(self):
        self.calls = 0

    def __call__(self, images):
        self.calls += 1
        return images.reshape(len(images), -1).astype(np.float32) / 255.0


def test_computes_once_then_reads_the_cache(tmp_path, fake_data):
    dataset, loads = fake_data
    features = CountingFeatures()
    kwargs = dict(network_id="flat", features=features, cache_dir=tmp_path)
    first = reference.reference_features("mnist", "test", 8, data_dir="d", **kwargs)
    np.testing.assert_allclose(first, dataset["images"][:8].reshape(8, -1) / 255.0, rtol=1e-6)
    second = reference.reference_features("mnist", "test", 8, **kwargs)
    np.testing.assert_array_equal(second, first)
    assert features.calls == 1 and loads[0] == ("mnist", "test", "d")
    everything = reference.reference_features("mnist", "test", **kwargs)
    assert everything.shape == (12, 16) and features.calls == 2
    names = sorted(p.name for p in (tmp_path / "reference_features").iterdir())
    data_hash = reference.content_hash(dataset["images"][:8])[:8]
    assert f"mnist_test_8_{data_hash}_flat.npy" in names and len(names) == 2


def test_other_data_or_network_is_not_served_from_the_cache(tmp_path, fake_data):
    dataset, _ = fake_data
    features = CountingFeatures()
    reference.reference_features("mnist", "test", 8, network_id="flat", features=features,
                                 cache_dir=tmp_path)
    dataset["images"] = dataset["images"].copy()
    dataset["images"][3, 0, 0, 0] ^= 1  # one bit of one image differs
    changed = reference.reference_features("mnist", "test", 8, network_id="flat",
                                           features=features, cache_dir=tmp_path)
    assert features.calls == 2
    np.testing.assert_allclose(changed[3], dataset["images"][3].reshape(-1) / 255.0, rtol=1e-6)
    reference.reference_features("mnist", "test", 8, network_id="other", features=features,
                                 cache_dir=tmp_path)
    assert features.calls == 3


def test_statistics_are_those_of_the_features(tmp_path, fake_data, monkeypatch):
    dataset, _ = fake_data
    monkeypatch.setattr(reference, "inception_features",
                        lambda x, batch_size: x.reshape(len(x), -1).astype(np.float32))
    stats = reference.reference_statistics("mnist", "test", 10, cache_dir=tmp_path)
    flat = dataset["images"][:10].reshape(10, -1).astype(np.float64)
    np.testing.assert_allclose(stats.mu, flat.mean(0))
    np.testing.assert_allclose(stats.sigma, np.cov(flat, rowvar=False))
    assert stats.n == 10 and isinstance(stats, frechet.Statistics)


def test_content_hash_sees_shape_and_bytes():
    x = np.arange(12, dtype=np.uint8)
    assert reference.content_hash(x) == reference.content_hash(x.copy())
    assert reference.content_hash(x) != reference.content_hash(x.reshape(3, 4))
    assert reference.content_hash(x) != reference.content_hash(x[::-1])


def test_network_id_carries_the_weights_hash():
    assert reference.NETWORK_ID.endswith(reference.TORCHSCRIPT_SHA256[:8])


def test_too_many_images_is_refused(tmp_path, fake_data):
    with pytest.raises(ValueError, match=r"n=13: must lie in \[2, 12\]"):
        reference.reference_features("mnist", "test", 13, network_id="flat",
                                     features=CountingFeatures(), cache_dir=tmp_path)
