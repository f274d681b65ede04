"""The trainer's periodic progress report on held-out images: the objective on fixed
test images and the three figure grids (`figures.figure_grids`).

Everything is fixed at construction (the test images, the prior noise for samples,
the interpolation pairs), so the figures of successive evaluations show the same
inputs and differ only by training progress.
"""

from typing import Optional

import flax.linen as nn
import jax
import ml_collections
import numpy as np
from jax.sharding import Mesh

from wae_jax.training import figures, methods, steps
from wae_jax.training.random_streams import stream_key
from wae_jax.training.state import TrainState


def figure_noise(config: ml_collections.ConfigDict, num: int) -> np.ndarray:
    """The prior draws decoded into the samples grid, the same at every evaluation."""
    prior_rng = stream_key(jax.random.PRNGKey(config.seed), "figure_samples")
    return np.asarray(methods.sample_prior(prior_rng, num, config.latent_dim, config.prior_std))


class ProgressReport:
    """`metrics(state)`: test scalars; `grids(state)`: uint8 [H, W, C] images by name."""

    def __init__(self, config: ml_collections.ConfigDict, model: nn.Module,
                 adversary: Optional[nn.Module], mesh: Mesh, test_images: np.ndarray,
                 steps_per_epoch: int):
        replicated = steps.replicated(mesh)
        self._originals = figures.data_to_unit(test_images, config.value_range)
        self._images = jax.make_array_from_process_local_data(replicated, test_images)
        self._prior_noise = jax.make_array_from_process_local_data(
            replicated, figure_noise(config, len(test_images)))
        self._eval_step = steps.compile_replicated(
            steps.make_eval_step(config, model, adversary, steps_per_epoch), mesh)
        self._figure_fns = {name: steps.compile_replicated(fn, mesh)
                            for name, fn in steps.make_figure_fns(config, model).items()}

    def metrics(self, state: TrainState) -> dict[str, float]:
        values = jax.device_get(self._eval_step(state, self._images))
        return {k: float(v) for k, v in values.items()}

    def grids(self, state: TrainState, prior_noise: Optional[np.ndarray] = None
              ) -> dict[str, np.ndarray]:
        """`prior_noise`: other draws than the config's (a population member's figure_noise)."""
        if prior_noise is not None:
            prior_noise = jax.make_array_from_process_local_data(self._prior_noise.sharding,
                                                                 prior_noise)
        reconstructions = np.asarray(self._figure_fns["reconstruct"](state, self._images))
        samples = np.asarray(self._figure_fns["decode"](
            state, self._prior_noise if prior_noise is None else prior_noise))
        codes = np.asarray(self._figure_fns["encode"](state, self._images))
        path = jax.make_array_from_process_local_data(self._prior_noise.sharding,
                                                      figures.interpolation_path(codes))
        interpolations = np.asarray(self._figure_fns["decode"](state, path))
        return figures.figure_grids(self._originals, reconstructions, samples, interpolations)
