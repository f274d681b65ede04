"""Command line: `python -m wae_jax.augment --config=configs/augment_<name>.py[:small|:tiny]
--workdir=DIR [--latent_dims=2,3 --sizes=50,100 --seeds=0,1 | --groups=0,2]`.

The augmentation studies (wae_jax/studies/augmentation): config.study picks the
per-class study of "Data augmentation via VAEs" (configs/augment_mnist.py) or the W2-VAE
paper's protocol (configs/augment_w2_*.py). --latent_dims, --sizes and --seeds (--groups
for the W2 protocol's groups of runs) replace the config's lists, so a study runs in
pieces into one workdir; finished cells or groups are skipped on a rerun, and so are those
that another process on the workdir is training. Exit status 2
with one line on stderr for bad flags or config.
"""

from absl import flags
import ml_collections
from ml_collections import config_flags

from wae_jax import cli
from wae_jax.training import validation
from wae_jax.studies.augmentation import per_class, w2_protocol

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Study config, e.g. configs/augment_mnist.py or configs/augment_mnist.py:tiny.",
    lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for results.csv, tables, figures.")
_LATENT_DIMS = flags.DEFINE_list("latent_dims", None, "Latent sizes to run (config.latent_dims).")
_SIZES = flags.DEFINE_list("sizes", None, "Training set sizes to run (config.sizes).")
_SEEDS = flags.DEFINE_list("seeds", None, "Seeds to run (config.seeds).")
_GROUPS = flags.DEFINE_list("groups", None,
                            "W2 protocol: the groups of runs to train (config.groups).")
flags.mark_flags_as_required(["config", "workdir"])
STUDIES = {"per_class": per_class.run, "w2_protocol": w2_protocol.run}


def _ints(flag: flags.FlagHolder) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in flag.value)
    except ValueError:
        cli.exit_with(f"--{flag.name}={','.join(flag.value)}: use comma-separated integers", 2)


def _config() -> ml_collections.ConfigDict:
    config = cli.config_value(_CONFIG).copy_and_resolve_references()
    for flag, field in ((_LATENT_DIMS, "latent_dims"), (_SIZES, "sizes"), (_SEEDS, "seeds"),
                        (_GROUPS, "groups")):
        if flag.value is not None:
            if field not in config:
                cli.exit_with(f"--{flag.name}: config.study={config.study!r} has no {field}", 2)
            config[field] = _ints(flag)
    return config


def main() -> None:
    config = _config()
    if config.get("study") not in STUDIES:
        cli.exit_with(f"config.study={config.get('study')!r}: use one of {tuple(STUDIES)}", 2)
    try:
        validation.check_workdir(_WORKDIR.value)
        STUDIES[config.study](config, _WORKDIR.value)
    except validation.ConfigError as error:
        cli.exit_with(str(error), 2)


if __name__ == "__main__":
    cli.run(main)
