"""Command line: `python -m wae_jax.main --config=configs/<name>.py[:small] --workdir=DIR`.

Flags only; the work is `wae_jax.training.train_and_evaluate(config, workdir)`, which
notebooks call directly. Override any config field with `--config.<field>=value`.
Re-running the same command resumes from the workdir's latest checkpoint.

Multi-host: jax.distributed.initialize runs before anything touches the devices when
--coordinator_address (with --num_processes and --process_id) is given, when
JAX_COORDINATOR_ADDRESS is set, or with --distributed, which lets JAX detect the
cluster (SLURM, Open MPI, Kubernetes, Cloud TPU). Every process runs the same command.

Exit status: 0 done; 2 bad flags, config or workdir, or a workdir another run holds
(one line on stderr, nothing run); 1 training stopped on a non-finite loss; 143 (as
killed by SIGTERM, so that schedulers count the run as unfinished) stopped on SIGTERM
after saving a checkpoint of the current step, from which the same command resumes.
"""

import os
import signal
import sys

import jax
from absl import flags, logging
from ml_collections import config_flags

from wae_jax import cli
from wae_jax.training import experiment, preemption, trainer, validation

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Experiment config, e.g. configs/mnist_mmd.py or configs/mnist_mmd.py:small.",
    lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and figures.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None, "host:port of process 0, for multi-process training.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "Number of processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "This process's index.")
_DISTRIBUTED = flags.DEFINE_bool(
    "distributed", False, "Initialise jax.distributed from the cluster's environment.")
flags.mark_flags_as_required(["config", "workdir"])


def _maybe_initialize_distributed() -> None:
    if _DISTRIBUTED.value or _COORDINATOR.value or os.environ.get("JAX_COORDINATOR_ADDRESS"):
        jax.distributed.initialize(coordinator_address=_COORDINATOR.value,
                                   num_processes=_NUM_PROCESSES.value,
                                   process_id=_PROCESS_ID.value)


def main() -> None:
    _maybe_initialize_distributed()
    logging.info("JAX process %d of %d, %d local device(s) of %d", jax.process_index(),
                 jax.process_count(), jax.local_device_count(), jax.device_count())
    try:
        experiment.train_and_evaluate(cli.config_value(_CONFIG), _WORKDIR.value)
    except validation.ConfigError as error:
        cli.exit_with(str(error), 2)
    except trainer.NonFiniteError as error:
        cli.exit_with(str(error), 1)
    except preemption.Preempted as error:
        logging.warning("%s", error)
        sys.exit(128 + signal.SIGTERM)


if __name__ == "__main__":
    cli.run(main)
