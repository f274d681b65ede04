"""The proxy classifier trains, measures accuracy honestly, and is cached by data and settings."""

import json

import jax
import numpy as np
import pytest

from wae_jax import data
from wae_jax.evaluation import proxy_classifier as pc
from wae_jax.evaluation import proxy_features

SIZE = 16  # smallest square input the Classifier's VALID convs and two pools accept
TINY_WIDTHS = (4, 8, 8, 8)


def patches(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [n,16,16,1] noise with a bright 4x4 patch in a class-specific cell of a 4x4 grid."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.uniform(0, 0.4, (n, SIZE, SIZE, 1))
    for image, label in zip(images, labels):
        row, col = divmod(int(label), 4)
        image[4 * row:4 * row + 4, 4 * col:4 * col + 4] += rng.uniform(0.5, 0.6)
    return np.rint(images * 255).astype(np.uint8), labels


@pytest.fixture(scope="module")
def trained():
    images, labels = patches(512, seed=0)
    model, variables = pc.train_classifier(images, labels, num_steps=150, batch_size=32,
                                           widths=TINY_WIDTHS, learning_rate=3e-3)
    return images, labels, model, variables


def test_learns_a_separable_task(trained):
    *_, model, variables = trained
    images, labels = patches(300, seed=1)
    acc = pc.accuracy(model, variables, images, labels, batch_size=128)  # padded last batch
    logits = np.asarray(model.apply(variables, (images / 255.0).astype(np.float32), train=False))
    reference = np.mean(np.argmax(logits, axis=1) == labels)
    assert acc == pytest.approx(reference, abs=1e-12)
    assert acc > 0.9  # chance is 0.1


def test_same_seed_same_params_other_seed_other_params(trained):
    images, labels, _, variables = trained
    train = dict(num_steps=150, batch_size=32, widths=TINY_WIDTHS, learning_rate=3e-3)
    again = pc.train_classifier(images, labels, seed=0, **train)[1]
    jax.tree.map(np.testing.assert_array_equal, again, variables)
    other = pc.train_classifier(images, labels, seed=1, **train)[1]
    assert not np.allclose(other["params"]["Dense_1"]["kernel"],
                           variables["params"]["Dense_1"]["kernel"])


def test_bad_training_input():
    images, labels = patches(8, seed=4)
    with pytest.raises(ValueError, match="num_steps"):
        pc.train_classifier(images, labels, num_steps=0)
    with pytest.raises(ValueError, match=r"labels: shape \(7,\)"):
        pc.train_classifier(images, labels[:-1], num_steps=1)
    with pytest.raises(ValueError, match="labelled dataset"):
        pc.train_classifier(images, np.full(8, data.UNLABELLED), num_steps=1)
    with pytest.raises(ValueError, match="dropout_rate"):
        pc.train_classifier(images, labels, num_steps=1, dropout_rate=1.0)


@pytest.fixture
def fake_dataset(monkeypatch):
    """load_arrays serving a tiny patches set; returns the dict of splits and a train counter."""
    splits = {"train": patches(128, seed=2), "test": patches(64, seed=3)}
    monkeypatch.setattr(data, "load_arrays", lambda name, split, data_dir=None: splits[split])
    calls = []
    real_train = pc.train_classifier

    def counting_train(*args, **kwargs):
        calls.append(kwargs["num_steps"])
        return real_train(*args, **kwargs)

    monkeypatch.setattr(pc, "train_classifier", counting_train)
    return splits, calls


def test_cache_is_reused_and_keyed_by_the_data(fake_dataset, tmp_path):
    splits, calls = fake_dataset
    first = pc.proxy_classifier("mnist", cache_dir=tmp_path, num_steps=3)
    assert calls == [3]
    files = sorted(p.name for p in (tmp_path / pc.CACHE_SUBDIR).iterdir())
    assert files == [f"{first.id}.json", f"{first.id}.msgpack"]
    info = json.loads((tmp_path / pc.CACHE_SUBDIR / f"{first.id}.json").read_text())
    assert info["test_accuracy"] == first.test_accuracy
    assert info["test_accuracy"] == pc.accuracy(first.model, first.variables, *splits["test"])
    assert first.id.startswith(f"mnist_{info['data_sha256'][:8]}_")

    second = pc.proxy_classifier("mnist", cache_dir=tmp_path, num_steps=3)
    assert calls == [3]  # read from the cache
    assert (second.id, second.test_accuracy, second.model) == (
        first.id, first.test_accuracy, first.model)
    jax.tree.map(np.testing.assert_array_equal, second.variables, first.variables)
    features = proxy_features.classifier_features(second.model, second.variables,
                                                  splits["test"][0])
    assert features.shape == (64, pc.PROXY_HIDDEN)

    images, labels = splits["train"]
    splits["train"] = (images, np.roll(labels, 1))  # same images, other labels
    relabelled = pc.proxy_classifier("mnist", cache_dir=tmp_path, num_steps=3)
    more_steps = pc.proxy_classifier("mnist", cache_dir=tmp_path, num_steps=4)
    assert calls == [3, 3, 4]
    assert len({first.id, relabelled.id, more_steps.id}) == 3
    assert len(list((tmp_path / pc.CACHE_SUBDIR).glob("*.msgpack"))) == 3


def test_bad_dataset(fake_dataset, tmp_path):
    splits, calls = fake_dataset
    images, _ = splits["train"]
    with pytest.raises(ValueError, match="num_steps"):
        pc.proxy_classifier("mnist", cache_dir=tmp_path, num_steps=0)
    with pytest.raises(ValueError, match="labelled dataset"):
        pc.proxy_classifier("celeb_a_64", cache_dir=tmp_path)
    splits["train"] = (images, np.full(len(images), data.UNLABELLED))
    with pytest.raises(ValueError, match="labelled dataset"):
        pc.proxy_classifier("mnist", cache_dir=tmp_path, num_steps=1)
    assert calls == [] and not (tmp_path / pc.CACHE_SUBDIR).exists()
