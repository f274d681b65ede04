"""Closed-form divergences from a diagonal Gaussian posterior to the N(0, I) prior.

`mean` and `logvar` are [B, z_dim]; both functions return one value per example
[B] so that objectives can average over the batch and monitor per-example spread.
"""

import jax
import jax.numpy as jnp


def _check_shapes(mean: jax.Array, logvar: jax.Array) -> None:
    if mean.shape != logvar.shape or mean.ndim != 2:
        raise ValueError(f"mean {mean.shape} and logvar {logvar.shape} must both be [B, z_dim]")


def kl_to_standard_normal(mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """KL(N(mean, diag e^logvar) || N(0, I)), the VAE regulariser (Kingma & Welling 2014).

    0.5 * sum(mean^2 + e^logvar - 1 - logvar): exact, so no Monte Carlo noise in the loss.
    """
    _check_shapes(mean, logvar)
    return 0.5 * jnp.sum(jnp.square(mean) + jnp.exp(logvar) - 1.0 - logvar, axis=1)


def w2_squared_to_standard_normal(mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """W_2^2(N(mean, diag sigma^2), N(0, I)) = ||mean||^2 + sum (sigma - 1)^2.

    The W2-VAE replaces the KL term by this (Chen & Liu). Their paper prints a
    "+2" inside the trace; the correct Gelbrich bound for commuting covariances,
    tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2), gives sigma^2 + 1 - 2 sigma per axis.
    """
    _check_shapes(mean, logvar)
    sigma = jnp.exp(0.5 * logvar)
    return jnp.sum(jnp.square(mean), axis=1) + jnp.sum(jnp.square(sigma - 1.0), axis=1)
