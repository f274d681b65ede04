"""The registry of data sets: builder, image shape, splits and raw-data route."""

import dataclasses
import os
import pathlib

import tensorflow_datasets as tfds

from wae_jax.data import builders
from wae_jax.data import celeba
from wae_jax.data import fashion_mnist
from wae_jax.data import fetch
from wae_jax.data import mnist


@dataclasses.dataclass(frozen=True)
class Spec:
    """`mirror` is the registry artefact to prepare from automatically; None means the
    user must supply the raw files (`manual_instructions` says which)."""
    builder: type[tfds.core.GeneratorBasedBuilder]
    image_shape: tuple[int, int, int]
    splits: tuple[str, ...]
    mirror: fetch.Artefact | None
    manual_instructions: str
    num_classes: int = 0  # labels 0..num_classes-1 (0: unlabelled)

    @property
    def labelled(self) -> bool:
        return self.num_classes > 0


DATASETS: dict[str, Spec] = {
    "mnist": Spec(builders.WaeMnist, (28, 28, 1), ("train", "test"), mnist.MIRROR,
                  builders.WaeMnist.MANUAL_DOWNLOAD_INSTRUCTIONS, num_classes=10),
    "fashion_mnist": Spec(builders.WaeFashionMnist, (28, 28, 1), ("train", "test"),
                          fashion_mnist.MIRROR,
                          builders.WaeFashionMnist.MANUAL_DOWNLOAD_INSTRUCTIONS,
                          num_classes=10),
    "celeb_a_64": Spec(builders.WaeCelebA64, (64, 64, 3), ("train", "validation", "test"),
                       None, celeba.MISSING_MESSAGE),
}


def get(name: str) -> Spec:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def check_split(name: str, split: str) -> None:
    if split not in get(name).splits:
        raise ValueError(f"{name} has no split {split!r}; choose one of "
                         f"{', '.join(get(name).splits)}")


def image_shape(name: str) -> tuple[int, int, int]:
    """(H, W, C) of the data set's images."""
    return get(name).image_shape


def resolve_data_dir(data_dir: str | os.PathLike | None) -> pathlib.Path:
    """`data_dir`, else $WAE_JAX_DATA_DIR, else ~/tensorflow_datasets (tfds's default)."""
    if data_dir is None:
        data_dir = os.environ.get("WAE_JAX_DATA_DIR") or "~/tensorflow_datasets"
    return pathlib.Path(data_dir).expanduser()
