"""Random access to prepared splits: tfds data sources and whole-split numpy arrays."""

import functools
import os
from typing import Any, Sequence

import numpy as np
import tensorflow_datasets as tfds

from wae_jax.data import catalog
from wae_jax.data import preparation

UNLABELLED = -1  # The label of every example of a set without classes (CelebA).
_READ_CHUNK = 4096


def data_source(name: str, split: str,
                data_dir: str | os.PathLike | None = None) -> Sequence[dict[str, Any]]:
    """The tfds array_record data source of a split; registry-mirrored sets (MNIST,
    Fashion-MNIST) are prepared on first use, CelebA-64 raises until prepared by hand."""
    catalog.check_split(name, split)
    builder = preparation.prepare(name, data_dir)
    return tfds.data_source(builder.name, split=split, data_dir=builder.data_dir_root,
                            download=False)


def read(source: Sequence[dict[str, Any]], indices: Sequence[int] | np.ndarray,
         labelled: bool) -> tuple[np.ndarray, np.ndarray]:
    """Returns (uint8 images [n,H,W,C], int64 labels [n]) of the given records."""
    records = source.__getitems__(np.asarray(indices, np.int64).tolist())
    images = np.stack([r["image"] for r in records])
    if labelled:
        labels = np.fromiter((r["label"] for r in records), np.int64, len(records))
    else:
        labels = np.full(len(records), UNLABELLED, np.int64)
    return images, labels


def load_arrays(name: str, split: str,
                data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Returns a whole split as (uint8 images [N,H,W,C], int64 labels [N]) in stored order.

    Labels are UNLABELLED (-1) for CelebA-64. A CelebA-64 train split is ~2 GB: prefer
    the streaming pipeline for it.
    """
    source = data_source(name, split, data_dir)
    labelled = catalog.get(name).labelled
    chunks = [read(source, np.arange(i, min(i + _READ_CHUNK, len(source))), labelled)
              for i in range(0, len(source), _READ_CHUNK)]  # tfds splits are never empty
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])


@functools.lru_cache(maxsize=8)  # a population's members ask for the same labels
def split_labels(name: str, split: str, data_dir: str | None = None) -> np.ndarray:
    """A whole split's labels (int64 [N], read-only), read once per process."""
    labels = load_arrays(name, split, data_dir)[1]
    labels.setflags(write=False)
    return labels


def record_indices(name: str, split: str, classes: Sequence[int],
                   data_dir: str | os.PathLike | None = None) -> np.ndarray:
    """The records of a split whose label is in `classes` (all of them for ())."""
    if not classes:
        return np.arange(num_examples(name, split, data_dir), dtype=np.int64)
    labels = split_labels(name, split, None if data_dir is None else str(data_dir))
    if missing := sorted(set(classes) - set(np.unique(labels).tolist())):
        raise ValueError(f"classes {missing} do not occur in {name} {split}; pick from "
                         f"{np.unique(labels).tolist()}")
    return np.flatnonzero(np.isin(labels, classes)).astype(np.int64)


def num_examples(name: str, split: str, data_dir: str | os.PathLike | None = None,
                 classes: Sequence[int] = ()) -> int:
    """Records in a split, or those of the given classes."""
    if classes:
        return len(record_indices(name, split, classes, data_dir))
    return len(data_source(name, split, data_dir))
