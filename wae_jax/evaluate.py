"""Command line: `python -m wae_jax.evaluate --workdir=DIR [--num_samples=10000]
[--checkpoint=latest|best|STEP] [--metrics=fid,kid]`.

Flags only; the work is `wae_jax.workdir_evaluation.evaluate_workdir`, which writes
DIR/eval.json and DIR/eval_figures/*.png. Exit status: 0 done; 2 bad flags, workdir or
checkpoint choice (one line on stderr).
"""

from absl import flags, logging

from wae_jax import cli, workdir_evaluation

_WORKDIR = flags.DEFINE_string("workdir", None, "Run directory written by wae_jax.main.")
_NUM_SAMPLES = flags.DEFINE_integer(
    "num_samples", 10_000, "Prior samples decoded for FID, KID and sharpness (the WAE paper "
    "used 10,000).")
_CHECKPOINT = flags.DEFINE_string(
    "checkpoint", "latest", "latest; best (checkpoints_best: the trainer's best by "
    "config.sample_eval.keep_best); or a step number.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 500, "Images per model call.")
_METRICS = flags.DEFINE_list(
    "metrics", ["fid", "kid"], "Sample metrics: fid, kid (Inception), classifier_fd (a "
    "Frechet distance on a small classifier's features; a CPU proxy, not FID). On a CPU "
    "Inception runs at about 3 images/s, so FID of 10,000 samples takes about an hour: "
    "--metrics=classifier_fd or --metrics= (none) skip it; sharpness, test metrics and "
    "figures are always written.")
_REFERENCE_SPLIT = flags.DEFINE_string(
    "reference_split", "test", "The split the sample metrics compare with: test (report), "
    "or the training run's selection reference (config.sample_eval.reference_split: train, "
    "validation) to reproduce its logged values.")
_REFERENCE_N = flags.DEFINE_integer(
    "reference_n", None, "First n images of --reference_split as the metrics' reference "
    "(default: all; features cached under $WAE_JAX_CACHE_DIR/reference_features).")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the prior samples.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where to write (default: --workdir).")
flags.mark_flags_as_required(["workdir"])


def main() -> None:
    try:
        results = workdir_evaluation.evaluate_workdir(
            _WORKDIR.value, num_samples=_NUM_SAMPLES.value, checkpoint=_CHECKPOINT.value,
            batch_size=_BATCH_SIZE.value, metrics=_METRICS.value, seed=_SEED.value,
            reference_n=_REFERENCE_N.value, reference_split=_REFERENCE_SPLIT.value,
            output_dir=_OUTPUT_DIR.value)
    except workdir_evaluation.EvaluationError as error:
        cli.exit_with(str(error), 2)
    logging.info("checkpoint step %d evaluated: %s", results["checkpoint_step"], results)


if __name__ == "__main__":
    cli.run(main)
