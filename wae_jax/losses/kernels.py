"""Positive-definite kernels on latent codes, as [N, M] Gram matrices.

Both kernels are functions of the squared Euclidean distance, computed with
the matmul expansion ||x||^2 + ||y||^2 - 2 x.y (one GEMM instead of an
[N, M, d] difference tensor) and clipped at 0, since rounding can make it
slightly negative for near-identical points.
"""

from typing import Sequence, Union

import jax
import jax.numpy as jnp

Scalar = Union[float, jax.Array]


def squared_distances(x: jax.Array, y: jax.Array) -> jax.Array:
    """||x_i - y_j||^2 for x [N, d], y [M, d], clipped at 0."""
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x {x.shape} and y {y.shape} must be [N, d] and [M, d] with equal d")
    sq_x = jnp.sum(jnp.square(x), axis=1)[:, None]
    sq_y = jnp.sum(jnp.square(y), axis=1)[None, :]
    return jnp.maximum(sq_x + sq_y - 2.0 * x @ y.T, 0.0)


def imq_kernel(x: jax.Array, y: jax.Array, scales: Sequence[float],
               base: Scalar) -> jax.Array:
    """sum_s C / (C + ||x - y||^2) with C = base * s (Tolstikhin et al. 2018, WAE).

    The inverse multiquadric has heavier tails than the RBF kernel, so it still
    gives gradients to codes far from the prior's mass; summing several scales
    avoids tuning a single width.
    """
    if len(scales) == 0:
        raise ValueError("scales is empty: pass at least one kernel scale, e.g. (1.0,)")
    c = base * jnp.asarray(scales, dtype=x.dtype)[:, None, None]
    return jnp.sum(c / (c + squared_distances(x, y)[None]), axis=0)


def rbf_kernel(x: jax.Array, y: jax.Array, bandwidth: Scalar) -> jax.Array:
    """exp(-||x - y||^2 / (2 * bandwidth)); `bandwidth` is the variance sigma^2.

    Taking the squared width lets a median of squared distances (the median
    heuristic) be plugged in directly, as the WAE code does.
    """
    return jnp.exp(-squared_distances(x, y) / (2.0 * bandwidth))
