"""classifier_fd: a Frechet distance on a small trained classifier's features.

A cheap CPU proxy for quick model comparisons on MNIST-like data: Inception at 299x299
costs ~5.7 GFLOP per image forward, the augmentation paper's CNN (wae_jax.models.Classifier)
0.135 GFLOP at 28x28, and the trained proxy (wae_jax.evaluation.proxy_classifier, widths
(8, 16, 32, 32)) 0.0037. The numbers are NOT FID and are comparable only between runs that
use the same classifier checkpoint; hence the distinct name everywhere.

Features are the classifier's penultimate activations: ReLU of its first Dense layer
(128-d), in inference mode. The images follow the metric convention (uint8, or floats
in [0, 1]) and are fed as float32 in [0, 1], the range the classifier trains on.
"""

import functools
from typing import Any

import flax.linen as nn
import jax
import numpy as np

from wae_jax.evaluation import images as image_checks
from wae_jax.evaluation.batching import map_batches
from wae_jax.evaluation.frechet import feature_statistics, frechet_distance

PENULTIMATE = "Dense_0"  # Classifier's hidden Dense layer (auto-named by Linen)


@functools.partial(jax.jit, static_argnums=0)
def _hidden(model: nn.Module, variables: Any, batch: jax.Array) -> jax.Array:
    _, state = model.apply(variables, batch, train=False,
                           capture_intermediates=lambda m, _: m.name == PENULTIMATE,
                           mutable=["intermediates"])
    return nn.relu(state["intermediates"][PENULTIMATE]["__call__"][0])


def classifier_features(model: nn.Module, variables: Any, images: np.ndarray, *,
                        batch_size: int = 500) -> np.ndarray:
    """[N, H, W, C] images -> float32 [N, hidden] penultimate activations of `model`."""
    images = image_checks.to_unit_float(images).astype(np.float32)
    return map_batches(functools.partial(_hidden, model, variables), images, batch_size)


def classifier_fd(model: nn.Module, variables: Any, generated: np.ndarray,
                  reference: np.ndarray, *, batch_size: int = 500) -> float:
    """Frechet distance between the two sets' classifier features (not FID)."""
    s1 = feature_statistics(classifier_features(model, variables, generated,
                                                batch_size=batch_size))
    s2 = feature_statistics(classifier_features(model, variables, reference,
                                                batch_size=batch_size))
    return frechet_distance(s1.mu, s1.sigma, s2.mu, s2.sigma)
