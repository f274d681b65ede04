"""Losses of the latent-space adversary of WAE-GAN (Tolstikhin et al. 2018).

The adversary D(z) outputs a logit for "z was drawn from the prior P_Z". It is
trained with binary cross-entropy; the encoder gets the non-saturating loss
-log sigmoid(D(q)), which keeps gradients alive while D wins easily early on.
"""

import math
from typing import Union

import jax
import jax.numpy as jnp

Scalar = Union[float, jax.Array]


def _bce_with_logits(logits: jax.Array, label: float) -> jax.Array:
    """Mean BCE for a constant label, via log_sigmoid so large |logits| stay finite."""
    return -jnp.mean(label * jax.nn.log_sigmoid(logits)
                     + (1.0 - label) * jax.nn.log_sigmoid(-logits))


def adversary_loss(logits_prior: jax.Array, logits_encoded: jax.Array) -> jax.Array:
    """BCE(D(z_p), 1) + BCE(D(z_q), 0), each a batch mean; lambda is applied by the objective."""
    return _bce_with_logits(logits_prior, 1.0) + _bce_with_logits(logits_encoded, 0.0)


def encoder_adversary_loss(logits_encoded: jax.Array) -> jax.Array:
    """Non-saturating encoder loss BCE(D(z_q), 1), a batch mean."""
    return _bce_with_logits(logits_encoded, 1.0)


def add_log_prior(logits: jax.Array, z: jax.Array, prior_std: Scalar) -> jax.Array:
    """logits + log N(z; 0, prior_std^2 I), the full normalised density.

    The optimal discriminator is log p_z(z) - log q_z(z); adding the known first
    term lets the network learn only the second (the "log-prior trick" of the
    WAE CelebA runs, from AVB). The official code's constant omits a factor
    z_dim on -0.5 log(2 pi); a constant is absorbed by the last bias anyway.
    """
    if z.ndim != 2 or logits.shape != z.shape[:1]:
        raise ValueError(f"logits {logits.shape} and z {z.shape} must be [B] and [B, z_dim]")
    z_dim = z.shape[1]
    log_density = (-0.5 * jnp.sum(jnp.square(z), axis=1) / prior_std**2
                   - z_dim * jnp.log(prior_std) - 0.5 * z_dim * math.log(2.0 * math.pi))
    return logits + log_density
