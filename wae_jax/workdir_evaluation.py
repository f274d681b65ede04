"""Evaluation of a trained run directory: eval.json and PNG figures from one checkpoint.

An application beside wae_jax.main (it restores the trainer's checkpoints): the
library function `evaluate_workdir` for notebooks, with `python -m wae_jax.evaluate`
as its command line.

`evaluate_workdir` rebuilds the model from workdir/config.json, restores a checkpoint
the way the trainer resumes (`abstract_train_state` + Checkpointer),
then measures on the test split: the objective's reconstruction cost and penalty,
the sharpness and the chosen sample metrics (FID, KID, classifier_fd) of prior samples,
and draws the trainer's figures (reconstructions, samples, interpolations), latent
traversals and (2-D latents only) a scatter of the codes.
"""

import os
from typing import Any, Optional, Sequence

import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
from PIL import Image, ImageDraw

from wae_jax import data, evaluation, models
from wae_jax.evaluation import proxy_classifier, sample_metrics
from wae_jax.files import json_file
from wae_jax.training import (checkpointing, figures, methods, sample_quality, steps)
from wae_jax.training.random_streams import stream_key
from wae_jax.training.state import abstract_train_state

NUM_FIGURE_IMAGES = 64  # reconstructions and samples shown
MAX_TRAVERSED_DIMS, NUM_TRAVERSAL_STEPS, TRAVERSAL_RANGE = 8, 11, 2.5  # in prior stds
SCATTER_SIZE, SCATTER_EXTENT = 512, 4.0  # pixels; half-width of the plot in prior stds
# Ten distinguishable label colours (the "tab10" palette's RGB values).
PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


# What each method's unweighted "penalty" measures between the test codes and the prior.
PENALTIES = {
    "vae": "KL(q(z|x) || prior), mean over images",
    "w2vae": "W2^2(q(z|x), prior), mean over images",
    "wae_mmd": "MMD^2 U-statistic (the config's kernel) per batch, against prior samples",
    "wae_gan": "the encoder's adversary loss BCE(D(z), 1) (JS-GAN), per batch",
}


class EvaluationError(ValueError):
    """Bad workdir, checkpoint choice or option; the message is one line saying the fix."""


def _tuples(value: Any) -> Any:
    """JSON lists back to the tuples the configs use (hashable module attributes)."""
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def load_config(workdir: str) -> ml_collections.ConfigDict:
    saved = checkpointing.read_config(workdir)
    if saved is None:
        raise EvaluationError(f"--workdir={workdir}: no {checkpointing.CONFIG_NAME}; "
                              "point it at a directory written by wae_jax.main")
    return ml_collections.ConfigDict(_tuples(saved))


def _checkpoint_step(directory: str, checkpoint: str) -> Optional[int]:
    """The step that `checkpoint` names: None for 'latest' (the newest that restores)."""
    available = sorted(ocp.utils.checkpoint_steps(directory)) if os.path.isdir(directory) else []
    if not available:
        raise EvaluationError(f"no checkpoint in {directory}; train first (wae_jax.main)")
    if checkpoint == "latest":
        return None
    if not checkpoint.isdigit() or int(checkpoint) not in available:
        raise EvaluationError(f"--checkpoint={checkpoint}: use latest, best or one of the "
                              f"steps {available}")
    return int(checkpoint)


def _restore_best(workdir: str, abstract) -> tuple[Any, int, dict]:
    directory = os.path.join(os.path.abspath(workdir), checkpointing.BEST_DIR)
    if not (os.path.isdir(directory) and ocp.utils.checkpoint_steps(directory)):
        raise EvaluationError(f"--checkpoint=best: no best checkpoint in {directory}; train "
                              "with config.sample_eval.keep_best set (e.g. 'fid') or use latest")
    try:
        best = checkpointing.BestCheckpoint(workdir)
    except checkpointing.NoReadableCheckpoint as error:
        raise EvaluationError(f"--checkpoint=best: {error}; use latest or a step") from None
    try:
        state, score = best.restore(abstract)
    finally:
        best.close()
    return state, int(score["step"]), score


def restore_state(workdir: str, config: ml_collections.ConfigDict, model, adversary,
                  image_shape: tuple[int, int, int], mesh, checkpoint: str = "latest"
                  ) -> tuple[Any, int, Optional[dict]]:
    """(state, step, best score or None): `checkpoint` restored into the trainer's state.

    'best' is workdir/checkpoints_best, the trainer's best by config.sample_eval.keep_best.
    """
    abstract = abstract_train_state(config, model, adversary, image_shape,
                                    steps.replicated(mesh))
    if checkpoint == "best":
        return _restore_best(workdir, abstract)
    step = _checkpoint_step(os.path.join(os.path.abspath(workdir), checkpointing.LATEST_DIR),
                            checkpoint)
    checkpointer = checkpointing.Checkpointer(workdir, keep=10 ** 9, read_only=True)
    try:
        state, _, step = checkpointer.restore(abstract, step)
    except (checkpointing.NoReadableCheckpoint, checkpointing.CheckpointMismatch) as error:
        raise EvaluationError(str(error)) from None
    finally:
        checkpointer.close()
    return state, step, None


def _steps_per_epoch(config: ml_collections.ConfigDict) -> int:
    """As in training, so that a growing lambda has its trained value in the eval loss."""
    num_train = data.num_examples(config.dataset, "train", config.data_dir or None)
    return max(1, num_train // config.batch_size)


def _test_objective(eval_step, state, images: np.ndarray, batch_size: int) -> dict[str, float]:
    """Example-weighted means over test batches of the objective's reconstruction and penalty.

    The penalty is a batch statistic (MMD, or the adversary's view) for some methods, so
    it is the mean of per-batch values at `batch_size`, as during training.
    """
    totals: dict[str, float] = {}
    for i in range(0, len(images), batch_size):
        batch = images[i:i + batch_size]
        values = jax.device_get(eval_step(state, batch))
        for name in ("reconstruction", "penalty"):
            totals[name] = totals.get(name, 0.0) + float(values[name]) * len(batch)
    return {name: total / len(images) for name, total in totals.items()}


def traversal_latents(code: np.ndarray, prior_std: float) -> np.ndarray:
    """[rows * steps, z]: row i moves coordinate i of `code` by [-2.5, 2.5] prior stds."""
    rows = min(code.shape[-1], MAX_TRAVERSED_DIMS)
    offsets = np.linspace(-TRAVERSAL_RANGE, TRAVERSAL_RANGE, NUM_TRAVERSAL_STEPS) * prior_std
    path = np.repeat(code[None, None, :], rows * NUM_TRAVERSAL_STEPS, 0).reshape(
        rows, NUM_TRAVERSAL_STEPS, -1)
    path[np.arange(rows), :, np.arange(rows)] += offsets[None, :].astype(np.float32)
    return path.reshape(rows * NUM_TRAVERSAL_STEPS, -1).astype(np.float32)


def latent_scatter(codes: np.ndarray, labels: np.ndarray, prior: np.ndarray,
                   prior_std: float) -> np.ndarray:
    """uint8 [S, S, 3]: prior samples in grey under test codes coloured by label, 2-D only."""
    image = Image.new("RGB", (SCATTER_SIZE, SCATTER_SIZE), "white")
    draw = ImageDraw.Draw(image)
    half = SCATTER_EXTENT * prior_std

    def pixel(point):
        x, y = (np.clip(point, -half, half) + half) / (2 * half) * (SCATTER_SIZE - 1)
        return float(x), float(SCATTER_SIZE - 1 - y)  # y up

    middle = (SCATTER_SIZE - 1) / 2
    draw.line([(0, middle), (SCATTER_SIZE, middle)], fill=(200, 200, 200))
    draw.line([(middle, 0), (middle, SCATTER_SIZE)], fill=(200, 200, 200))
    for point in prior:
        x, y = pixel(point)
        draw.ellipse([x - 1, y - 1, x + 1, y + 1], fill=(190, 190, 190))
    for point, label in zip(codes, labels):
        x, y = pixel(point)
        draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=PALETTE[int(label) % 10])
    return np.asarray(image)


def _figures(config, fns, state, test_images: np.ndarray, test_labels: np.ndarray,
             samples: np.ndarray, batch_size: int, mesh) -> dict[str, np.ndarray]:
    def apply(name: str, inputs: np.ndarray) -> np.ndarray:
        return sample_quality.apply_in_batches(fns[name], state, inputs, batch_size, mesh)

    shown = test_images[:NUM_FIGURE_IMAGES]
    codes = apply("encode", test_images)
    grids = figures.figure_grids(
        figures.data_to_unit(shown, config.value_range), apply("reconstruct", shown),
        samples[:NUM_FIGURE_IMAGES], apply("decode", figures.interpolation_path(codes)))
    grids["traversals"] = figures.grid(
        apply("decode", traversal_latents(codes[0], config.prior_std)), NUM_TRAVERSAL_STEPS)
    if config.latent_dim == 2:
        prior_rng = stream_key(jax.random.PRNGKey(config.seed), "latent_scatter")
        prior = np.asarray(methods.sample_prior(prior_rng, len(codes), 2,
                                                config.prior_std))
        grids["latent_scatter"] = latent_scatter(codes, test_labels, prior, config.prior_std)
    return grids


def _classifier_steps(config: ml_collections.ConfigDict) -> int:
    """The training run's classifier_fd setting, so both use the same cached classifier."""
    options = config.get("sample_eval") or {}
    return options.get("classifier_steps", proxy_classifier.DEFAULT_NUM_STEPS)


def _checked_config(workdir: str, num_samples: int, batch_size: int,
                    metrics: Sequence[str], reference_split: str) -> ml_collections.ConfigDict:
    """The workdir's config, once the arguments are known to be usable with it."""
    if num_samples < 2 or batch_size < 1:
        raise EvaluationError(f"--num_samples={num_samples}, --batch_size={batch_size}: need "
                              "num_samples >= 2 and batch_size >= 1")
    try:
        sample_metrics.check_metric_names(metrics, "--metrics")
    except ValueError as error:
        raise EvaluationError(str(error)) from None
    config = load_config(workdir)
    splits = data.DATASETS[config.dataset].splits
    if reference_split not in splits:
        raise EvaluationError(f"--reference_split={reference_split}: use one of {config.dataset}'s "
                              f"splits {splits}")
    return config


def _sample_scores(config: ml_collections.ConfigDict, samples_uint8: np.ndarray,
                   metrics: Sequence[str], reference_split: str, reference_n: Optional[int],
                   cache_dir: Optional[str], batch_size: int) -> dict[str, Any]:
    try:
        scorer = sample_metrics.SampleScorer(
            metrics, config.dataset, split=reference_split, reference_n=reference_n,
            data_dir=config.data_dir or None, cache_dir=cache_dir,
            batch_size=min(batch_size, 50), classifier_steps=_classifier_steps(config))
    except ValueError as error:  # e.g. no such split, or reference_n beyond it
        raise EvaluationError(f"--metrics={','.join(metrics)}: {error}") from None
    return scorer(samples_uint8)


def evaluate_workdir(workdir: str, *, num_samples: int = 10_000, checkpoint: str = "latest",
                     batch_size: int = 500, metrics: Sequence[str] = ("fid", "kid"),
                     seed: int = 0, reference_n: Optional[int] = None,
                     reference_split: str = "test", cache_dir: Optional[str] = None,
                     output_dir: Optional[str] = None) -> dict[str, Any]:
    """Evaluates one checkpoint of `workdir`; writes <output_dir>/eval.json and
    <output_dir>/eval_figures/*.png (output_dir defaults to workdir); returns the dict.

    Samples are decoded from N(0, prior_std^2 I) drawn with `seed`, so repeated runs
    compare like with like (the trainer's sample evaluation uses seed 0).
    `metrics` are names from evaluation.sample_metrics.METRICS, scored against the
    first `reference_n` images (None: all) of `reference_split`: test, to report (the
    trainer selects checkpoints_best on sample_eval.reference_split, never test).
    """
    config = _checked_config(workdir, num_samples, batch_size, metrics, reference_split)
    image_shape = tuple(data.image_shape(config.dataset))
    model = models.build_autoencoder(config.model, image_shape)
    adversary = (models.build_adversary(config.model)
                 if methods.METHODS[config.method].adversary else None)
    mesh = steps.make_mesh()
    state, step, best = restore_state(workdir, config, model, adversary, image_shape, mesh,
                                      checkpoint)

    test_uint8, test_labels = data.load_arrays(config.dataset, "test", config.data_dir or None)
    test_images = data.scale_images(test_uint8, config.value_range)
    eval_step = steps.compile_replicated(
        steps.make_eval_step(config, model, adversary, _steps_per_epoch(config)), mesh)
    objective = _test_objective(eval_step, state, test_images, batch_size)

    fns = {name: steps.compile_replicated(fn, mesh)
           for name, fn in steps.make_figure_fns(config, model).items()}
    noise = sample_quality.prior_noise(config, num_samples, seed)
    samples = sample_quality.apply_in_batches(fns["decode"], state, noise, batch_size, mesh)
    samples_uint8 = figures.to_uint8(samples)

    results: dict[str, Any] = {
        "workdir": os.path.abspath(workdir), "checkpoint": checkpoint,
        "checkpoint_step": int(step), "method": config.method, "dataset": config.dataset,
        "num_samples": num_samples, "sample_seed": seed, "reference_split": reference_split,
        "test": {"num_images": len(test_images), "batch_size": batch_size,
                 "reconstruction_cost": objective["reconstruction"], "cost": config.cost,
                 "penalty": objective["penalty"], "penalty_measure": PENALTIES[config.method]},
        "sharpness": {"pixel_range": [0.0, 1.0],
                      "samples": evaluation.sharpness_summary(samples_uint8),
                      "test_images": evaluation.sharpness_summary(test_uint8[:num_samples])},
    }
    if best is not None:
        results["best_checkpoint_score"] = best
    if metrics:
        results.update(_sample_scores(config, samples_uint8, metrics, reference_split,
                                      reference_n, cache_dir, batch_size))
    output_dir = output_dir or workdir
    for name, image in _figures(config, fns, state, test_images, test_labels, samples,
                                batch_size, mesh).items():
        figures.save_png(os.path.join(output_dir, "eval_figures", f"{name}.png"), image)
    json_file.write(os.path.join(output_dir, "eval.json"), results)
    return results
