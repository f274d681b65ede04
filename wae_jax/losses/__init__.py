"""Reconstruction costs, latent divergences, MMD, adversary losses and objectives."""

from wae_jax.losses.adversarial import add_log_prior, adversary_loss, encoder_adversary_loss
from wae_jax.losses.divergences import kl_to_standard_normal, w2_squared_to_standard_normal
from wae_jax.losses.kernels import imq_kernel, rbf_kernel, squared_distances
from wae_jax.losses.mmd import (DEFAULT_SCALES, KERNELS, imq_base, mmd_u_statistic,
                                rbf_median_bandwidth)
from wae_jax.losses.objectives import vae, w2vae, wae_gan, wae_gan_adversary, wae_mmd
from wae_jax.losses.reconstruction import COSTS, reconstruction_cost

__all__ = [
    "COSTS", "DEFAULT_SCALES", "KERNELS",
    "add_log_prior", "adversary_loss", "encoder_adversary_loss",
    "imq_base", "imq_kernel", "kl_to_standard_normal", "mmd_u_statistic",
    "rbf_kernel", "rbf_median_bandwidth", "reconstruction_cost", "squared_distances",
    "vae", "w2_squared_to_standard_normal", "w2vae", "wae_gan", "wae_gan_adversary",
    "wae_mmd",
]
