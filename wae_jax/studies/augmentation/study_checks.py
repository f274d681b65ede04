"""Config checks shared by both augmentation studies: their common fields, the order in
which a study's schema is checked, the dataset against the CNN's classes, and whether a
split holds the images per class that a field asks for. All run before any work, so a
bad value fails in seconds rather than after hours of training."""

from typing import Callable

import ml_collections
import numpy as np

from wae_jax.data import arrays, catalog
from wae_jax.studies.augmentation import classifiers
from wae_jax.training import validation

LABELLED = tuple(name for name, spec in catalog.DATASETS.items() if spec.labelled)
# The top-level fields of both studies' configs (configs/augment_*.py).
COMMON_FIELDS: dict[str, validation.Check] = {
    "dataset": validation.string,  # labelled, with the CNN's classes: check_dataset
    "data_dir": validation.string,
    "seeds": validation.nonempty(validation.sequence_of(validation.integer(0))),
    "classifier": validation.config_dict,
}


def check_fields(config: ml_collections.ConfigDict,
                 schema: Callable[[ml_collections.ConfigDict], dict[str, validation.Check]]
                 ) -> None:
    """config.classifier first (a study's schema reads its num_classes), then every
    top-level field against the study's schema, then the dataset against the CNN."""
    classifiers.check_settings(config.classifier)
    validation.check_fields(config, schema(config))
    check_dataset(config)


def check_dataset(config: ml_collections.ConfigDict) -> None:
    """config.dataset is labelled and has config.classifier.num_classes classes (a CNN
    with fewer outputs would train on out-of-range labels)."""
    if config.dataset not in LABELLED:
        raise validation.ConfigError(f"config.dataset={config.dataset!r}: use a labelled "
                                     f"dataset: one of {LABELLED}")
    classes = catalog.DATASETS[config.dataset].num_classes
    if config.classifier.num_classes != classes:
        raise validation.ConfigError(
            f"config.classifier.num_classes={config.classifier.num_classes!r}: "
            f"{config.dataset} has {classes} classes; use {classes}")


def multiple_of_classes(num_classes: int) -> validation.Check:
    """A set size drawn equally from every class."""
    def check(v):
        ok = validation.integer(1)(v) is None and v % num_classes == 0
        return None if ok else f"use a positive multiple of the {num_classes} classes"
    return check


def check_drawable(config: ml_collections.ConfigDict, field: str, split: str,
                   per_class: int, *, of_total: bool) -> None:
    """Raises ConfigError if `split` has fewer than `per_class` images of some class:
    config.<field> asks for them (as a total over the classes when `of_total`)."""
    labels = arrays.split_labels(config.dataset, split, config.data_dir or None)
    fewest = int(np.bincount(labels, minlength=config.classifier.num_classes).min())
    if per_class > fewest:
        most = fewest * config.classifier.num_classes if of_total else fewest
        raise validation.ConfigError(
            f"config.{field}={config[field]!r}: the {split} split has {fewest} images of "
            f"its smallest class; use at most {most}")
