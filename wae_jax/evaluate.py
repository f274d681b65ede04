"""Command line: `python -m wae_jax.evaluate --workdir=DIR [--num_samples=10000]
[--checkpoint=latest|best|STEP] [--fid=false]`.

Flags only; the work is `wae_jax.evaluation.workdir.evaluate_workdir`, which writes
DIR/eval.json and DIR/eval_figures/*.png. Exit status: 0 done; 2 bad flags, workdir or
checkpoint choice (one line on stderr).
"""

import logging as std_logging
import sys

from absl import app, flags, logging

from wae_jax.evaluation import workdir as workdir_eval

_WORKDIR = flags.DEFINE_string("workdir", None, "Run directory written by wae_jax.main.")
_NUM_SAMPLES = flags.DEFINE_integer(
    "num_samples", 10_000, "Prior samples decoded for FID, KID and sharpness (the WAE paper "
    "used 10,000).")
_CHECKPOINT = flags.DEFINE_string(
    "checkpoint", "latest", "latest, best (unsupported: the trainer keeps no best-FID "
    "checkpoint) or a step number.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 500, "Images per model call.")
_FID = flags.DEFINE_bool(
    "fid", True, "Compute FID and KID with Inception. On a CPU Inception runs at about 3 "
    "images/s, so 10,000 samples take about an hour: --fid=false skips it (the other "
    "numbers and all figures are still written).")
_FID_REFERENCE_N = flags.DEFINE_integer(
    "fid_reference_n", None, "First n test images for the FID reference statistics "
    "(default: the whole test split; cached under $WAE_JAX_CACHE_DIR/fid_stats).")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the prior samples.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where to write (default: --workdir).")
flags.mark_flags_as_required(["workdir"])


def _exit_with(message: str, status: int) -> None:
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    sys.exit(status)


def _parse_flags(argv: list[str]) -> list[str]:
    """absl's parser, but bad flags end with one line and status 2 (absl uses 1)."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        _exit_with(str(error), 2)


def _quiet_orbax(record) -> bool:
    return record.levelno >= std_logging.WARNING or "/orbax/" not in record.pathname


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        _exit_with(f"unexpected arguments {argv[1:]}: use --flag=value", 2)
    logging.get_absl_handler().addFilter(_quiet_orbax)
    try:
        results = workdir_eval.evaluate_workdir(
            _WORKDIR.value, num_samples=_NUM_SAMPLES.value, checkpoint=_CHECKPOINT.value,
            batch_size=_BATCH_SIZE.value, fid=_FID.value, seed=_SEED.value,
            fid_reference_n=_FID_REFERENCE_N.value, output_dir=_OUTPUT_DIR.value)
    except workdir_eval.EvaluationError as error:
        _exit_with(str(error), 2)
    logging.info("checkpoint step %d evaluated: %s", results["checkpoint_step"], results)


if __name__ == "__main__":
    app.run(main, flags_parser=_parse_flags)
