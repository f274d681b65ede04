"""CelebA-64 raw data: the official aligned images, partition and attribute files.

CelebA is on no package registry, so it is only ever read from a folder the user fills
(`img_align_celeba/` with the 178x218 aligned JPEGs, `list_eval_partition.txt`,
`list_attr_celeba.txt`). Each image is centre-cropped to 140x140 (the crop of the WAE
paper and most CelebA-64 work) and resized to 64x64 with Pillow's LANCZOS filter, which
is antialiased, so the 2.19x downscale does not alias.
"""

import concurrent.futures
import dataclasses
import os
import pathlib
from typing import Iterator

import numpy as np
from PIL import Image

ALIGNED_SIZE = (178, 218)  # (width, height) of img_align_celeba images.
CROP = 140
IMAGE_SIZE = 64
RESAMPLE = Image.Resampling.LANCZOS
IMAGES_DIR = "img_align_celeba"
PARTITION_FILE = "list_eval_partition.txt"
ATTRIBUTE_FILE = "list_attr_celeba.txt"
SPLIT_CODES = {"0": "train", "1": "validation", "2": "test"}
SPLIT_SIZES = {"train": 162770, "validation": 19867, "test": 19962}
ATTRIBUTE_NAMES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
    "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young")
MISSING_MESSAGE = (
    "celeb_a_64 has no registry mirror: put the official CelebA files img_align_celeba/ "
    f"(aligned JPEGs), {PARTITION_FILE} and {ATTRIBUTE_FILE} in one folder and run "
    "`python -m wae_jax.data.prepare --dataset=celeb_a_64 --manual_dir=FOLDER`")


@dataclasses.dataclass(frozen=True)
class Index:
    """Which files make up each split, with their attributes, in partition-file order."""
    images_dir: pathlib.Path
    files: dict[str, list[str]]
    attributes: dict[str, np.ndarray]  # split -> bool [N, 40]


def crop_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The centred CROP x CROP box (left, top, right, bottom); (19, 39, 159, 179) for CelebA."""
    left, top = (width - CROP) // 2, (height - CROP) // 2
    return left, top, left + CROP, top + CROP


def crop_and_resize(image: Image.Image) -> np.ndarray:
    """Returns the uint8 [64, 64, 3] CelebA-64 version of one aligned image."""
    image = image.convert("RGB").crop(crop_box(*image.size))
    return np.asarray(image.resize((IMAGE_SIZE, IMAGE_SIZE), RESAMPLE), np.uint8)


def _lines(path: pathlib.Path) -> list[list[str]]:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing. {MISSING_MESSAGE}")
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def _read_attributes(path: pathlib.Path) -> dict[str, np.ndarray]:
    rows = _lines(path)
    if len(rows) < 2 or tuple(rows[1]) != ATTRIBUTE_NAMES:
        raise ValueError(f"{path}: second line is not the 40 CelebA attribute names; use the "
                         "official list_attr_celeba.txt")
    attributes = {}
    for row in rows[2:]:
        if len(row) != 41 or any(v not in ("1", "-1") for v in row[1:]):
            raise ValueError(f"{path}: malformed row {' '.join(row)[:60]!r}; use the official file")
        attributes[row[0]] = np.array([v == "1" for v in row[1:]])
    return attributes


def read_index(directory: pathlib.Path) -> Index:
    """Parses and cross-checks the partition and attribute files against the image folder."""
    images_dir = directory / IMAGES_DIR
    if not images_dir.is_dir():
        raise FileNotFoundError(f"{images_dir} is missing. {MISSING_MESSAGE}")
    partition = _lines(directory / PARTITION_FILE)
    attributes = _read_attributes(directory / ATTRIBUTE_FILE)
    files = {split: [] for split in SPLIT_CODES.values()}
    for row in partition:
        if len(row) != 2 or row[1] not in SPLIT_CODES:
            raise ValueError(f"{directory / PARTITION_FILE}: malformed row {' '.join(row)!r}")
        files[SPLIT_CODES[row[1]]].append(row[0])
    if empty := [split for split, split_files in files.items() if not split_files]:
        raise ValueError(f"{directory / PARTITION_FILE} lists no {'/'.join(empty)} images; use "
                         "the official file")
    listed = [f for split_files in files.values() for f in split_files]
    if unattributed := [f for f in listed if f not in attributes]:
        raise ValueError(f"{ATTRIBUTE_FILE} lacks {len(unattributed)} partitioned images "
                         f"(e.g. {unattributed[0]}); use matching official files")
    present = set(os.listdir(images_dir))
    if absent := [f for f in listed if f not in present]:
        raise FileNotFoundError(f"{images_dir} lacks {len(absent)} images listed in "
                                f"{PARTITION_FILE} (e.g. {absent[0]}); unpack all of them")
    return Index(images_dir, files,
                 {s: np.stack([attributes[f] for f in fs]) for s, fs in files.items()})


def _load(path: pathlib.Path) -> np.ndarray:
    try:
        with Image.open(path) as image:
            if image.size != ALIGNED_SIZE:
                raise ValueError(f"{path} is {image.size[0]}x{image.size[1]}, not the aligned "
                                 f"{ALIGNED_SIZE[0]}x{ALIGNED_SIZE[1]}; use img_align_celeba")
            return crop_and_resize(image)
    except (OSError, SyntaxError) as e:  # Pillow's errors for truncated/corrupt files.
        raise ValueError(f"corrupt image {path} ({e}); re-extract it") from None


def images(index: Index, split: str, chunk: int = 256) -> Iterator[np.ndarray]:
    """Yields the processed images of `split` in order; decoding runs on a thread pool
    (Pillow releases the GIL), in bounded chunks so memory stays flat."""
    paths = [index.images_dir / f for f in index.files[split]]
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        for start in range(0, len(paths), chunk):
            yield from pool.map(_load, paths[start:start + chunk])
