"""Reduced training sets for the low-data (augmentation) studies.

All helpers return index arrays (sorted, int64) so they compose and work on any arrays;
`reduced_train_validation` loads the *train* split itself, so validation images are
always carved from training data, never from test.
"""

import os

import numpy as np

from wae_jax.data import arrays


def class_indices(labels: np.ndarray, classes: tuple[int, ...] | list[int]) -> np.ndarray:
    """Indices of all examples whose label is in `classes` (per-class subsets)."""
    if unknown := sorted(set(classes) - set(np.unique(labels).tolist())):
        raise ValueError(f"classes {unknown} do not occur in labels; pick from "
                         f"{np.unique(labels).tolist()}")
    return np.flatnonzero(np.isin(labels, classes)).astype(np.int64)


def stratified_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """`n` indices, n / num_classes of each class, drawn without replacement."""
    classes = np.unique(labels)
    if n <= 0 or n % len(classes):
        raise ValueError(f"n={n} must be a positive multiple of the {len(classes)} classes")
    per_class = n // len(classes)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in classes:
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ValueError(f"n={n} needs {per_class} examples of class {c}, which has only "
                             f"{len(members)}; lower n")
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def train_validation_indices(labels: np.ndarray, validation_fraction: float,
                             seed: int | tuple[int, ...], min_per_class: int = 0
                             ) -> tuple[np.ndarray, np.ndarray]:
    """Splits indices 0..N-1 into (train, validation), stratified by class.

    round(fraction * N) (halves up) examples go to validation: floor(fraction * n_c) per
    class, the remainder one each to the classes with the largest fractional parts (ties
    broken by `seed`), so class proportions match as closely as integers allow.
    Every class then gets at least `min_per_class` (a per-class model needs one to stop
    early: at 5 images per class, 15% rounds to none for some classes).
    """
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction={validation_fraction}; use a value in (0, 1)")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    total = int(np.floor(validation_fraction * len(labels) + 0.5))
    exact = validation_fraction * counts
    per_class = np.floor(exact).astype(int)
    tie_break = rng.permutation(len(classes))
    by_remainder = np.lexsort((tie_break, -(exact - per_class)))
    per_class[by_remainder[:total - per_class.sum()]] += 1
    per_class = np.maximum(per_class, min(min_per_class, counts.min() - 1))
    validation = [rng.choice(np.flatnonzero(labels == c), k, replace=False)
                  for c, k in zip(classes, per_class)]
    validation = np.sort(np.concatenate(validation)).astype(np.int64)
    train = np.setdiff1d(np.arange(len(labels)), validation).astype(np.int64)
    return train, validation


Arrays = tuple[np.ndarray, np.ndarray]


def reduced_train_validation(name: str, n: int, *, seed: int,
                             validation_fraction: float = 0.15, min_per_class: int = 0,
                             data_dir: str | os.PathLike | None = None
                             ) -> tuple[Arrays, Arrays]:
    """((train images, labels), (validation images, labels)): a stratified n-image subset
    of the train split, split train/validation (85/15 by default); the subset is drawn
    with `seed`, the split with (seed, 1), so the two draws are independent."""
    images, labels = arrays.load_arrays(name, "train", data_dir)
    subset = stratified_indices(labels, n, seed)
    train, validation = train_validation_indices(labels[subset], validation_fraction, (seed, 1),
                                                 min_per_class)
    return ((images[subset[train]], labels[subset[train]]),
            (images[subset[validation]], labels[subset[validation]]))
