"""Wall time of one cell of the per-class augmentation study: population vs one at a time.

  python benchmarks/augment_cell.py --size=50 --latent_dim=3 --json
  python benchmarks/augment_cell.py --config=configs/augment_mnist.py:tiny  # seconds

A cell is one size, one latent size, one seed: the ten class generators, sampling, and
the CNN under the four conditions. "population" trains the ten generators as one
population (per-member data) and the four CNNs as one population, as the study does;
"one at a time" trains each of them alone (a population of one: the solo program, conv
lowering 'auto'); per_class.run_cell uses populations for the generators and one at a
time for the CNNs, as measured here. Both do the same work: early stopping is off (patience = epochs), so
every model trains exactly --generator_epochs / --classifier_epochs epochs. Times are
wall seconds including compilation, which a real cell pays too; a persistent
compilation cache (a fresh temporary directory) lets the one-at-a-time runs, whose
programs differ only in their seeds, compile once, as a grid script would. Real MNIST is needed
(prepared under $WAE_JAX_DATA_DIR or ~/tensorflow_datasets); the 1-minute load average
is recorded, since other jobs may share the CPU.
"""

import json
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # for configs/

import jax  # noqa: E402
import numpy as np  # noqa: E402
from absl import flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from wae_jax import cli  # noqa: E402
from wae_jax.data import subsets  # noqa: E402
from wae_jax.studies.augmentation import classifiers, generators, per_class  # noqa: E402
from wae_jax.studies.augmentation.results import CONDITION_SETTINGS, CONDITIONS  # noqa: E402
from wae_jax.training import population  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", "configs/augment_mnist.py",
                                          "Study config (its generator and CNN).")
_SIZE = flags.DEFINE_integer("size", 50, "Training set size of the cell.")
_LATENT = flags.DEFINE_integer("latent_dim", 3, "Latent size of the cell.")
_GENERATOR = flags.DEFINE_string("generator", "vae", "Generator of the cell.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the cell.")
_GEN_EPOCHS = flags.DEFINE_integer("generator_epochs", 100, "Epochs of every generator.")
_CNN_EPOCHS = flags.DEFINE_integer("classifier_epochs", 20, "Epochs of every CNN.")
_JSON = flags.DEFINE_bool("json", False, "Also print one JSON line with the measurements.")


def _timed(fn):
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    return out, time.perf_counter() - start


def _generators(gen, train, validation, together: bool):
    def run(config, x, v):
        model, members, stopping = generators.train(config, x, v, max_epochs=_GEN_EPOCHS.value,
                                                    patience=_GEN_EPOCHS.value)
        return generators.sample(config, model, members, stopping.best_params, 8, 0)
    if together:
        return _timed(lambda: run(gen, train, validation))[1]
    return sum(_timed(lambda k=k: run(population.member_config(gen, k), [train[k]],
                                      [validation[k]]))[1] for k in range(len(train)))


def _classifiers(settings, train, pools, flags_, validation, together: bool):
    def run(p, f, seeds):
        _, stopping, _ = classifiers.train(settings, [train] * len(p), f, validation, seeds,
                                           generated=p)
        return stopping.best_params
    if together:
        return _timed(lambda: run(pools, flags_, list(range(len(pools)))))[1]
    return sum(_timed(lambda k=k: run([pools[k]], [flags_[k]], [k]))[1]
               for k in range(len(pools)))


def main():
    jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="augment_cell_"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    config = _CONFIG.value.copy_and_resolve_references()
    config.classifier.max_epochs = config.classifier.patience = _CNN_EPOCHS.value
    num_classes = config.classifier.num_classes
    (x, y), (vx, vy) = subsets.reduced_train_validation(
        config.dataset, _SIZE.value, seed=_SEED.value, min_per_class=1,
        validation_fraction=config.validation_fraction, data_dir=config.data_dir or None)
    train, validation = (per_class.to_float(x), y), (per_class.to_float(vx), vy)
    gen = per_class.generator_config(config, _GENERATOR.value, _LATENT.value, _SEED.value)
    per_class_train = per_class.split_by_class(*train, num_classes)
    per_class_val = per_class.split_by_class(*validation, num_classes)
    fake = np.random.default_rng(0).random(
        (num_classes * config.generated_per_class,) + train[0].shape[1:], dtype=np.float32)
    pool = (fake, np.tile(np.arange(num_classes), config.generated_per_class))
    settings = [CONDITION_SETTINGS[c] for c in CONDITIONS]
    pools = [pool if generated else None for generated, _ in settings]
    augment = [augmented for _, augmented in settings]
    results = {}
    for mode, together in (("one_at_a_time", False), ("population", True)):
        load = os.getloadavg()[0]
        g = _generators(gen, per_class_train, per_class_val, together)
        c = _classifiers(config.classifier, train, pools, augment, validation, together)
        results[mode] = {"generators_s": g, "classifiers_s": c, "cell_s": g + c, "load": load}
    print(f"cell: {_GENERATOR.value}, latent {_LATENT.value}, {_SIZE.value} images, "
          f"{_GEN_EPOCHS.value} generator epochs, {_CNN_EPOCHS.value} CNN epochs, "
          f"{config.generated_per_class} generated per class, backend "
          f"{jax.default_backend()}")
    print(f"{'mode':<15}{'generators s':>14}{'CNNs s':>10}{'cell s':>10}{'load':>7}")
    for mode, r in results.items():
        print(f"{mode:<15}{r['generators_s']:>14.1f}{r['classifiers_s']:>10.1f}"
              f"{r['cell_s']:>10.1f}{r['load']:>7.1f}")
    speedup = results["one_at_a_time"]["cell_s"] / results["population"]["cell_s"]
    print(f"population speed-up: {speedup:.2f}x")
    if _JSON.value:
        print(json.dumps({"size": _SIZE.value, "latent_dim": _LATENT.value,
                          "generator": _GENERATOR.value,
                          "generator_epochs": _GEN_EPOCHS.value,
                          "classifier_epochs": _CNN_EPOCHS.value,
                          "generated_per_class": config.generated_per_class,
                          "backend": jax.default_backend(), **results,
                          "speedup": speedup}))


if __name__ == "__main__":
    cli.run(main)
