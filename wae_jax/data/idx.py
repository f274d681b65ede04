"""Reader for the IDX format of the official MNIST / Fashion-MNIST files.

Both datasets ship as gzipped IDX files with identical names, so one strict reader
serves both and turns truncation or a wrong file into a one-line error.
"""

import gzip
import pathlib
import zlib
from typing import Callable

import numpy as np

_UBYTE = 0x08


def read_idx(path: pathlib.Path) -> np.ndarray:
    """Returns the uint8 array stored in a (gzipped) IDX file, checking its header."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"corrupt IDX file {path} ({e}); re-download it") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic); re-download it")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"corrupt IDX file {path} (truncated header); re-download it")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    if len(raw) - header != int(np.prod(shape)):
        raise ValueError(
            f"corrupt IDX file {path}: header says shape {shape} but holds "
            f"{len(raw) - header} bytes; re-download it")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


# The official file names, identical for MNIST and Fashion-MNIST.
OFFICIAL_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def has_official_files(directory: pathlib.Path) -> bool:
    """Whether `directory` holds any of the official files (then it must hold all)."""
    return any((directory / f).exists() for pair in OFFICIAL_FILES.values() for f in pair)


def read_official(directory: pathlib.Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Returns {split: (uint8 images [N,28,28,1], int64 labels [N])} from the official files."""
    missing = [f for pair in OFFICIAL_FILES.values() for f in pair
               if not (directory / f).exists()]
    if missing:
        raise FileNotFoundError(f"{directory} lacks {', '.join(missing)}; put all four "
                                "official .gz files there")
    splits = {}
    for split, (images_file, labels_file) in OFFICIAL_FILES.items():
        images = read_idx(directory / images_file)
        labels = read_idx(directory / labels_file)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{directory}: {images_file} {images.shape} does not match "
                             f"{labels_file} {labels.shape}; re-download both")
        splits[split] = (images[..., None], labels.astype(np.int64))
    return splits


Splits = dict[str, tuple[np.ndarray, np.ndarray]]


def read_official_or_mirror(directory: pathlib.Path, dataset: str, mirror_filename: str,
                            read_mirror: Callable[[pathlib.Path], Splits],
                            mirror_source: str) -> Splits:
    """The official files if `directory` has any, else the registry mirror's artefact."""
    if has_official_files(directory):
        return read_official(directory)
    if (directory / mirror_filename).exists():
        return read_mirror(directory / mirror_filename)
    raise FileNotFoundError(
        f"{directory} holds neither the official {dataset} files "
        f"({', '.join(f for p in OFFICIAL_FILES.values() for f in p)}) nor "
        f"{mirror_filename}; omit --manual_dir to fetch the {mirror_source}")
