import numpy as np
import pytest

from wae_jax.evaluation.classification import macro_f1


def brute_force_macro_f1(labels, predictions, num_classes):
    scores = []
    for c in range(num_classes):
        tp = sum(1 for y, p in zip(labels, predictions) if y == c and p == c)
        fp = sum(1 for y, p in zip(labels, predictions) if y != c and p == c)
        fn = sum(1 for y, p in zip(labels, predictions) if y == c and p != c)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall
                      else 0.0)
    return sum(scores) / num_classes


@pytest.mark.parametrize("seed", range(4))
def test_macro_f1_matches_a_brute_force_count(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, 300)
    predictions = np.where(rng.random(300) < 0.6, labels, rng.integers(0, 10, 300))
    assert macro_f1(labels, predictions, 10) == pytest.approx(
        brute_force_macro_f1(labels, predictions, 10), abs=1e-12)


def test_perfect_and_absent_classes():
    labels = np.array([0, 1, 1, 2])
    assert macro_f1(labels, labels, 3) == 1.0
    assert macro_f1(labels, labels, 4) == pytest.approx(0.75)  # class 3: never seen, F1 0
    with pytest.raises(ValueError, match="equal length"):
        macro_f1(labels, labels[:3], 3)
