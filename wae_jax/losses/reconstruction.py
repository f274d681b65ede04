"""Per-example reconstruction costs c(x, x_hat).

Costs are summed over every non-batch axis, never averaged per pixel: the WAE
objective (Tolstikhin et al. 2018) is c(x, G(z)) + lambda * D_Z, so a
per-pixel mean would silently rescale lambda. The 0.05 factor of the official
WAE code is applied by the objectives (`recon_scale`), not here.
"""

from typing import Callable

import jax
import jax.numpy as jnp


def _sum_non_batch(v: jax.Array) -> jax.Array:
    return jnp.sum(v.reshape(v.shape[0], -1), axis=1)


def _safe_sqrt(s: jax.Array) -> jax.Array:
    """sqrt with gradient 0 (a subgradient) at 0 instead of NaN for perfect reconstructions."""
    positive = s > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, s, 1.0)), 0.0)


def l2sq(x: jax.Array, x_hat: jax.Array) -> jax.Array:
    """||x - x_hat||_2^2: the WAE paper's main cost."""
    return _sum_non_batch(jnp.square(x - x_hat))


def l2(x: jax.Array, x_hat: jax.Array) -> jax.Array:
    """||x - x_hat||_2 (the W_1-type cost of the WAE paper's theory)."""
    return _safe_sqrt(l2sq(x, x_hat))


def l1(x: jax.Array, x_hat: jax.Array) -> jax.Array:
    """||x - x_hat||_1."""
    return _sum_non_batch(jnp.abs(x - x_hat))


def bernoulli(x: jax.Array, logits: jax.Array) -> jax.Array:
    """-log Bernoulli(x; sigmoid(logits)), the VAE likelihood (Kingma & Welling 2014).

    Written with log_sigmoid so that logits of +-100 neither overflow nor give
    log(0); x may be grey values in [0, 1] (continuous relaxation).
    """
    nll = -x * jax.nn.log_sigmoid(logits) - (1.0 - x) * jax.nn.log_sigmoid(-logits)
    return _sum_non_batch(nll)


COSTS: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "l2sq": l2sq,
    "l2": l2,
    "l1": l1,
    "bernoulli": bernoulli,
}


def reconstruction_cost(x: jax.Array, x_hat: jax.Array, cost: str) -> jax.Array:
    """Per-example cost [B]; for 'bernoulli' x_hat holds logits, not probabilities."""
    if cost not in COSTS:
        raise ValueError(f"cost={cost!r}: use one of {tuple(COSTS)}")
    if x.shape != x_hat.shape:
        raise ValueError(f"x_hat.shape={x_hat.shape} must equal x.shape={x.shape}")
    return COSTS[cost](x, x_hat)
