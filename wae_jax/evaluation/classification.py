"""Scores of a classifier's test predictions: macro F1, the augmentation paper's metric."""

import numpy as np


def macro_f1(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> float:
    """The unweighted mean over classes of F1 = 2 TP / (2 TP + FP + FN).

    A class with no true and no predicted example scores 0 (scikit-learn's
    zero_division=0), so an empty class lowers the mean rather than being skipped.
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape}: "
                         "give two 1-D arrays of equal length")
    confusion = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    true_positives = np.diag(confusion).astype(np.float64)
    denominators = confusion.sum(0) + confusion.sum(1)  # 2 TP + FP + FN
    f1 = np.divide(2 * true_positives, denominators, out=np.zeros(num_classes),
                   where=denominators > 0)
    return float(f1.mean())
