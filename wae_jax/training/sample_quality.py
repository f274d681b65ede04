"""Periodic sample quality during training (config.sample_eval) and the best checkpoint.

Every `sample_eval.every_steps` (and at the last step) the trainer decodes
`num_samples` prior samples and scores them with the named metrics
(wae_jax.evaluation.sample_metrics) against `sample_eval.reference_split`, the
selection reference (never the test split unless select_on_test). The noise is
`prior_noise(config, n, seed=0)`, as in `python -m wae_jax.evaluate --seed=0`, so a logged
value is reproduced by evaluating that checkpoint with the same sample count and
reference (--reference_split, --reference_n).
"""

from typing import Any, Callable, Optional, Sequence

from absl import logging
import jax
import ml_collections
import numpy as np
from jax.sharding import Mesh

from wae_jax.evaluation.batching import map_batches
from wae_jax.evaluation.sample_metrics import SampleScorer
from wae_jax.training import figures, methods, steps
from wae_jax.training.random_streams import stream_key
from wae_jax.training.state import TrainState

SAMPLE_SEED = 0


def prior_noise(config: ml_collections.ConfigDict, num_samples: int, seed: int) -> np.ndarray:
    """float32 [num_samples, latent_dim] draws of N(0, prior_std^2 I), stream sample_eval."""
    rng = stream_key(jax.random.PRNGKey(seed), "sample_eval")
    return np.asarray(methods.sample_prior(rng, num_samples, config.latent_dim,
                                           config.prior_std))


def apply_in_batches(fn: Callable[[TrainState, jax.Array], jax.Array], state: TrainState,
                     inputs: np.ndarray, batch_size: int, mesh: Mesh) -> np.ndarray:
    """fn(state, batch) over `inputs` in padded batches (`map_batches`) replicated on the mesh."""
    replicated = steps.replicated(mesh)
    return map_batches(
        lambda batch: fn(state, jax.make_array_from_process_local_data(replicated, batch)),
        inputs, batch_size)


class SampleQuality:
    """`sample_quality(state) -> {metric: details}` on fixed prior samples; see the module doc."""

    def __init__(self, config: ml_collections.ConfigDict, model, mesh: Mesh):
        options = config.sample_eval
        if options.reference_split == "test":  # validation allows it only with select_on_test
            logging.warning("sample_eval.reference_split='test': the best checkpoint is "
                            "selected on the test split, so test scores of it are biased")
        self._scorer = SampleScorer(
            options.metrics, config.dataset, split=options.reference_split,
            reference_n=options.reference_n or None,
            data_dir=config.data_dir or None, classifier_steps=options.classifier_steps)
        self._noise = prior_noise(config, options.num_samples, SAMPLE_SEED)
        decode = steps.make_figure_fns(config, model)["decode"]
        self._decode = steps.compile_replicated(decode, mesh)
        # A population's members: latents [b, K, latent] -> images [b, K, H, W, C].
        self._decode_members = steps.compile_replicated(
            lambda members, z: jax.vmap(decode)(members, z.swapaxes(0, 1)).swapaxes(0, 1), mesh)
        self._batch_size, self._mesh = options.batch_size, mesh

    def __call__(self, state: TrainState, noise: Optional[np.ndarray] = None
                 ) -> dict[str, dict[str, Any]]:
        """`noise`: other prior draws than the config's (a population member's own)."""
        samples = apply_in_batches(self._decode, state,
                                   self._noise if noise is None else noise, self._batch_size,
                                   self._mesh)
        return self._scorer(figures.to_uint8(samples))

    def members(self, members: TrainState, noises: np.ndarray, scored: Sequence[int]
                ) -> dict[int, dict[str, dict[str, Any]]]:
        """Scores of the members `scored` of a stacked population state: every member's
        samples are decoded by one vmapped program, each from its own draws (noises
        [K, num_samples, latent]), then scored one member at a time."""
        samples = apply_in_batches(self._decode_members, members, noises.swapaxes(0, 1),
                                   self._batch_size, self._mesh)
        return {i: self._scorer(figures.to_uint8(samples[:, i])) for i in scored}


def scalars(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """TensorBoard scalars: sample/<metric> and, for KID, sample/kid_std."""
    values = {f"sample/{name}": float(r["value"]) for name, r in results.items()}
    values.update({f"sample/{name}_std": float(r["std"]) for name, r in results.items()
                   if "std" in r})
    return values
