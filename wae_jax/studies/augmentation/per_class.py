"""The per-class augmentation study (Garay-Maestre et al.): the grid of cells.

A cell (generator, latent_dim, train_size, seed) draws a stratified subset of the
train split with `seed`, trains the ten class generators (one population), samples
`generated_per_class` images per class from the prior, trains the four CNNs (one
at a time; with generated images, each epoch adds a fresh page of them) and scores
each on the test images. Test images enter only through `score`, after every early
stop and model choice has been made on validation data. A cell saves its generated images
and each CNN's score as it goes (`progress_dir`), so a killed or preempted cell resumes
after its last finished stage rather than from the start.

The CNN and AUG conditions see no generated image: their subset, CNN seed and batch
order depend on (train_size, seed) alone, so a cell reuses their scores from any cell
of the same size and seed already in results.csv (as the paper's Table 2 has one CNN
and one AUG score per size), which halves the CNN work of every further latent size
or generator (tests/studies/test_augment.py checks their inputs are identical).
"""

import os
import shutil
import time
from typing import Iterator

import ml_collections
import numpy as np
from absl import logging

from wae_jax.data import arrays, subsets
from wae_jax.evaluation.classification import macro_f1
from wae_jax.files import atomic_file, file_lock, json_file
from wae_jax.training import validation
from wae_jax.studies.augmentation import (classifiers, generators, reports, results,
                                         study_checks)

Arrays = tuple[np.ndarray, np.ndarray]
CELLS_DIR = ".cells"  # workdir/.cells/<generator>-<latent>-<size>-<seed>[.lock]


def generator_config(config: ml_collections.ConfigDict, generator: str, latent_dim: int,
                     seed: int) -> ml_collections.ConfigDict:
    """The population config of a cell's class generators: config.generator with the
    generator's overrides, one member per class, member seeds 1000 * seed + class (each
    member's batch order too: population.data='per_member')."""
    gen = config.generator.copy_and_resolve_references()
    gen.unlock()
    for field, value in config.generator_settings[generator].items():
        if field in ("encoder", "output_activation"):
            gen.model[field] = value
        else:
            gen[field] = value
    gen.dataset, gen.data_dir, gen.latent_dim = config.dataset, config.data_dir, latent_dim
    gen.model.latent_dim = latent_dim
    gen.seed = 1000 * seed
    gen.population.size = config.classifier.num_classes
    gen.population.data = "per_member"  # member c: class c only (the study feeds it)
    gen.population.train_classes = tuple((c,) for c in range(gen.population.size))
    gen.population.seed = tuple(1000 * seed + c for c in range(gen.population.size))
    validation.validate_config(gen, device_count=1)
    return gen


def split_by_class(images: np.ndarray, labels: np.ndarray, num_classes: int
                   ) -> list[np.ndarray]:
    return [images[labels == c] for c in range(num_classes)]


def to_float(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 255.0


def load_test(config: ml_collections.ConfigDict) -> Arrays:
    """test_per_class images of each class of the test split (the same for every cell)."""
    images, labels = arrays.load_arrays(config.dataset, "test", config.data_dir or None)
    chosen = subsets.stratified_indices(labels, config.test_per_class * len(np.unique(labels)),
                                        seed=0)
    return to_float(images[chosen]), labels[chosen]


def train_generators(config: ml_collections.ConfigDict, generator: str, latent_dim: int,
                     train: Arrays, validation_set: Arrays, seed: int) -> np.ndarray:
    """The cell's generated images [C, N, H, W, 1], from class generators trained and
    early-stopped on its train and validation images only. They train as one population
    (vmapped, 1.7x faster than one at a time in session 5; on a CPU now each member's solo
    program in turn, faster still: generators.train)."""
    num_classes = config.classifier.num_classes
    gen = generator_config(config, generator, latent_dim, seed)
    model, members, stopping = generators.train(
        gen, split_by_class(*train, num_classes), split_by_class(*validation_set, num_classes),
        max_epochs=config.generator_max_epochs, patience=config.generator_patience,
        check_every=config.generator_check_every)
    logging.info("generators stopped after %s checks (best %s, every %d epochs)",
                 np.asarray(stopping.checks), np.asarray(stopping.best_epoch),
                 config.generator_check_every)
    return generators.sample(gen, model, members, stopping.best_params,
                             config.generated_per_class, seed)


def class_balanced_pool(fake: np.ndarray) -> Arrays:
    """The generated images and labels, classes interleaved so that every page of the
    pool is class-balanced."""
    num_classes, count = fake.shape[:2]
    return (np.swapaxes(fake, 0, 1).reshape((-1,) + fake.shape[2:]),
            np.tile(np.arange(num_classes), count))


def train_cnn(config: ml_collections.ConfigDict, condition: str, train: Arrays,
              validation_set: Arrays, seed: int, pool: Arrays) -> tuple:
    """(CNN model, its best parameters [1, ...]) of one condition, early-stopped on the
    validation images. The CNNs train one at a time: as a population every member pays
    for the longest member's epochs (real + generated: ~25x the steps of real alone at 50
    images), which made them 0.7x as fast (benchmarks/augment_cell.py, docs/results.md)."""
    k = results.CONDITIONS.index(condition)
    generated, augmented = results.CONDITION_SETTINGS[condition]
    settings = config.classifier.copy_and_resolve_references()
    settings.data_seed = config.classifier.data_seed + 10 * seed + k
    model, stopping, _ = classifiers.train(
        settings, [train], [augmented], validation_set, seeds=[1000 * seed + k],
        generated=[pool if generated else None])
    logging.info("CNN %s stopped at epoch %d (best %d, validation loss %.4f)", condition,
                 int(stopping.checks[0]), int(stopping.best_epoch[0]),
                 float(stopping.best_loss[0]))
    return model, stopping.best_params


def score(model, params, test: Arrays, num_classes: int) -> float:
    """Macro F1 of a CNN on the test images: the only use of test data."""
    return macro_f1(test[1], classifiers.predict(model, params, test[0])[0], num_classes)


def reusable_scores(rows: list[dict], train_size: int, seed: int) -> dict[str, float]:
    """F1 of the conditions without generated images already scored for this training
    set size and seed, by any generator at any latent size (see the module docstring)."""
    return {row["condition"]: row["f1"] for row in rows
            if (row["train_size"], row["seed"]) == (train_size, seed)
            and row["condition"] in results.REAL_ONLY}


def cells(config: ml_collections.ConfigDict) -> Iterator[results.Cell]:
    for generator in config.generators:
        for latent_dim in config.latent_dims:
            for size in config.sizes:
                for seed in config.seeds:
                    yield (generator, latent_dim, size, seed)


def _open_fraction(v) -> str | None:
    ok = validation.number(0.0, strict=True)(v) is None and v < 1
    return None if ok else "use a fraction in (0, 1)"


def _fields(config: ml_collections.ConfigDict) -> dict[str, validation.Check]:
    """The schema of the study's top-level config (configs/augment_mnist.py)."""
    positive = validation.integer(1)
    generators = lambda v: validation.one_of(config.generator_settings.keys())(v)
    return {
        "study": validation.one_of(("per_class",)),
        **study_checks.COMMON_FIELDS,
        "generator_settings": validation.config_dict,  # before generators: their names
        "generators": validation.nonempty(validation.sequence_of(generators)),
        "latent_dims": validation.nonempty(validation.sequence_of(positive)),
        "sizes": validation.nonempty(validation.sequence_of(
            study_checks.multiple_of_classes(config.classifier.num_classes))),
        "validation_fraction": _open_fraction,
        "test_per_class": positive,
        "generated_per_class": positive,
        "generator_max_epochs": positive,
        "generator_check_every": positive,
        "generator_patience": positive,
        "generator": validation.config_dict,
    }


def check_config(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError naming the first bad or unknown field, before any work."""
    study_checks.check_fields(config, _fields)
    for generator in config.generators:
        for latent_dim in config.latent_dims:
            generator_config(config, generator, latent_dim, config.seeds[0])


def check_class_counts(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError if a split has too few images of some class for the largest
    training set or for test_per_class: checked before the first cell that runs, not at
    the cell that would need them."""
    study_checks.check_drawable(config, "sizes", "train",
                                max(config.sizes) // config.classifier.num_classes,
                                of_total=True)
    study_checks.check_drawable(config, "test_per_class", "test", config.test_per_class,
                                of_total=False)


def progress_dir(workdir: str, cell: results.Cell) -> str:
    """Where an unfinished cell keeps what it has done (removed once its rows are in
    results.csv): generated.npy, its generated images, and f1.json, the scores of the
    CNNs trained so far; a killed cell resumes after its last finished stage."""
    return os.path.join(workdir, CELLS_DIR, "-".join(map(str, cell)))


def claim_path(workdir: str, cell: results.Cell) -> str:
    """The lock file a process holds while it trains `cell`."""
    return progress_dir(workdir, cell) + ".lock"


def generated_images(config: ml_collections.ConfigDict, cell: results.Cell, train: Arrays,
                     validation_set: Arrays, progress: str) -> np.ndarray:
    """The cell's generated images: saved by an earlier, killed run of it, or trained now
    (and saved: write then rename, so a kill never leaves a partial file)."""
    path = os.path.join(progress, "generated.npy")
    if os.path.exists(path):
        logging.info("cell %s: generated images of an unfinished run reused", cell)
        return np.load(path)
    generator, latent_dim, _, seed = cell
    fake = train_generators(config, generator, latent_dim, train, validation_set, seed)
    os.makedirs(progress, exist_ok=True)
    with atomic_file.replaced(path, "wb") as f:
        np.save(f, fake)
    return fake


def run_cell(config: ml_collections.ConfigDict, workdir: str, cell: results.Cell,
             test: Arrays) -> None:
    """Trains and scores one cell, reusing the real-only scores of its size and seed and
    what a killed run of it finished, and appends its rows to results.csv."""
    csv_path = os.path.join(workdir, "results.csv")
    progress = progress_dir(workdir, cell)
    generator, latent_dim, size, seed = cell
    start = time.time()
    train, validation_set = subsets.reduced_train_validation(
        config.dataset, size, seed=seed, validation_fraction=config.validation_fraction,
        min_per_class=1, data_dir=config.data_dir or None)
    train, validation_set = ((to_float(train[0]), train[1]),
                             (to_float(validation_set[0]), validation_set[1]))
    reused = reusable_scores(results.read_rows(csv_path), size, seed)
    f1 = {**reused, **(json_file.read(os.path.join(progress, "f1.json")) or {})}
    fake = generated_images(config, cell, train, validation_set, progress)
    pool = class_balanced_pool(fake)
    for condition in results.CONDITIONS:
        if condition not in f1:
            model, params = train_cnn(config, condition, train, validation_set, seed, pool)
            f1[condition] = score(model, params, test, config.classifier.num_classes)
            json_file.write(os.path.join(progress, "f1.json"), f1)
    results.append_rows(csv_path, [
        dict(generator=generator, latent_dim=latent_dim, train_size=size, condition=c,
             seed=seed, f1=round(f1[c], 6)) for c in results.CONDITIONS])
    shutil.rmtree(progress)  # right after the rows: a kill between leaves a stale folder
    reports.save_digits(workdir, generator, latent_dim, fake)
    logging.info("cell %s: F1 %s in %.0f s (reused: %s)", cell,
                 {c: round(f1[c], 4) for c in results.CONDITIONS}, time.time() - start,
                 ", ".join(reused) or "none")


def run(config: ml_collections.ConfigDict, workdir: str) -> None:
    """Runs every unfinished cell of the config's grid, appending to workdir/results.csv,
    then writes the tables and figures of all rows so far. Processes may share the
    workdir: each cell is claimed (a lock file) while it trains, and a process skips the
    cells that another one holds, so several processes on one command split the grid."""
    check_config(config)
    csv_path = os.path.join(workdir, "results.csv")
    test = None
    for cell in cells(config):
        with file_lock.claimed(claim_path(workdir, cell)) as mine:
            if not mine:
                logging.info("cell %s: being trained by another process, skipped", cell)
                continue
            if cell in results.finished_cells(results.read_rows(csv_path)):
                logging.info("cell %s: done, skipped", cell)
                continue
            if test is None:  # the first cell to run
                check_class_counts(config)
                test = load_test(config)
            run_cell(config, workdir, cell, test)
    reports.write_reports(workdir, results.read_rows(csv_path))
