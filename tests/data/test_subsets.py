import numpy as np
import pytest

from wae_jax import data


def _labels(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(10), 30))


def test_stratified_indices_are_equal_per_class_unique_and_seeded():
    labels = _labels()
    chosen = data.stratified_indices(labels, 50, seed=1)
    assert np.bincount(labels[chosen]).tolist() == [5] * 10
    assert len(np.unique(chosen)) == 50 and (np.diff(chosen) > 0).all()
    np.testing.assert_array_equal(chosen, data.stratified_indices(labels, 50, seed=1))
    assert not np.array_equal(chosen, data.stratified_indices(labels, 50, seed=2))


@pytest.mark.parametrize("n, match", [(55, "positive multiple of the 10 classes"),
                                      (0, "positive multiple"), (400, "has only 30")])
def test_stratified_indices_reject_impossible_sizes(n, match):
    with pytest.raises(ValueError, match=match):
        data.stratified_indices(_labels(), n, seed=0)


def test_class_indices_select_exactly_the_requested_classes():
    labels = _labels()
    chosen = data.class_indices(labels, [3, 7])
    np.testing.assert_array_equal(chosen, [i for i, y in enumerate(labels) if y in (3, 7)])
    with pytest.raises(ValueError, match=r"classes \[11\] do not occur"):
        data.class_indices(labels, [3, 11])


@pytest.mark.parametrize("n", [50, 200, 1000])
def test_train_validation_split_is_a_stratified_partition(n):
    labels = np.random.default_rng(n).permutation(np.repeat(np.arange(10), n // 10))
    train, validation = data.train_validation_indices(labels, 0.15, seed=0)
    assert len(validation) == int(np.floor(0.15 * n + 0.5))
    np.testing.assert_array_equal(np.sort(np.concatenate([train, validation])), np.arange(n))
    per_class = np.bincount(labels[validation], minlength=10)
    assert np.abs(per_class - 0.15 * n / 10).max() < 1
    again = data.train_validation_indices(labels, 0.15, seed=0)
    np.testing.assert_array_equal(again[1], validation)


def test_reduced_train_validation_draws_from_the_train_split_only(prepared):
    (x_train, y_train), (x_val, y_val) = data.reduced_train_validation(
        "mnist", 40, seed=0, data_dir=prepared["data_dir"])
    assert (len(x_train), len(x_val)) == (34, 6)
    assert np.bincount(np.concatenate([y_train, y_val])).tolist() == [4] * 10
    train_pool = {x.tobytes() for x in prepared["mnist"]["train"][0]}
    test_pool = {x.tobytes() for x in prepared["mnist"]["test"][0]}
    drawn = [x.tobytes() for x in np.concatenate([x_train, x_val])]
    assert len(set(drawn)) == 40 and all(d in train_pool and d not in test_pool for d in drawn)


@pytest.mark.parametrize("n, expected", [(50, [1] * 10), (100, None)])
def test_min_per_class_gives_every_class_a_validation_image(n, expected):
    """At 5 images per class 15% rounds to no validation image for two classes; with
    min_per_class=1 each has one (the per-class study's generators stop early on it)."""
    labels = np.random.default_rng(n).permutation(np.repeat(np.arange(10), n // 10))
    plain = np.bincount(labels[data.train_validation_indices(labels, 0.15, seed=0)[1]],
                        minlength=10)
    train, validation = data.train_validation_indices(labels, 0.15, seed=0, min_per_class=1)
    per_class = np.bincount(labels[validation], minlength=10)
    np.testing.assert_array_equal(per_class, expected or plain)  # 100: already >= 1 each
    assert per_class.min() >= 1 and (n != 50 or plain.min() == 0)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, validation])), np.arange(n))
