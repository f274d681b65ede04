"""Random access to prepared splits: tfds data sources and whole-split numpy arrays."""

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


def num_examples(name: str, split: str, data_dir: str | os.PathLike | None = None) -> int:
    return len(data_source(name, split, data_dir))
