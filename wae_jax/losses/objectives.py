"""Training objectives: loss = recon_scale * mean(c(x, x_hat)) + lambda_ * penalty.

One formula for all methods, so that VAE, W2-VAE, WAE-MMD and WAE-GAN differ
only in their penalty and share one trainer. Each returns (loss, aux) where aux
holds scalars: "loss", "reconstruction" (batch mean of the unscaled cost),
"penalty" (unweighted) and method-specific keys. `lambda_` and `recon_scale`
may be traced (schedules, vmapped sweeps); `cost`, `kernel` and `scales` are
static: bind them with functools.partial before jax.jit.
"""

from typing import Sequence, Union

import jax
import jax.numpy as jnp

from wae_jax.losses.adversarial import adversary_loss, encoder_adversary_loss
from wae_jax.losses.divergences import kl_to_standard_normal, w2_squared_to_standard_normal
from wae_jax.losses.mmd import DEFAULT_SCALES, mmd_u_statistic
from wae_jax.losses.reconstruction import reconstruction_cost

Scalar = Union[float, jax.Array]
Aux = dict[str, jax.Array]


def _compose(x: jax.Array, x_hat: jax.Array, cost: str, recon_scale: Scalar,
             lambda_: Scalar, penalty: jax.Array, **extra: jax.Array) -> tuple[jax.Array, Aux]:
    reconstruction = jnp.mean(reconstruction_cost(x, x_hat, cost))
    loss = recon_scale * reconstruction + lambda_ * penalty
    return loss, dict(loss=loss, reconstruction=reconstruction, penalty=penalty, **extra)


def vae(x: jax.Array, x_hat: jax.Array, mean: jax.Array, logvar: jax.Array, *,
        cost: str = "bernoulli", recon_scale: Scalar = 1.0,
        lambda_: Scalar = 1.0) -> tuple[jax.Array, Aux]:
    """Negative ELBO (Kingma & Welling 2014); lambda_ != 1 gives a beta-VAE."""
    kl = jnp.mean(kl_to_standard_normal(mean, logvar))
    return _compose(x, x_hat, cost, recon_scale, lambda_, kl, kl=kl)


def w2vae(x: jax.Array, x_hat: jax.Array, mean: jax.Array, logvar: jax.Array, *,
          cost: str = "bernoulli", recon_scale: Scalar = 1.0,
          lambda_: Scalar = 1.0) -> tuple[jax.Array, Aux]:
    """Closed-form W2-VAE (Chen & Liu): the KL term replaced by W_2^2 to N(0, I).

    aux["T"] = W2 - KL is the batch statistic the paper monitors; KL is logged
    but carries no gradient weight here.
    """
    w2 = jnp.mean(w2_squared_to_standard_normal(mean, logvar))
    kl = jnp.mean(kl_to_standard_normal(mean, logvar))
    return _compose(x, x_hat, cost, recon_scale, lambda_, w2, w2=w2, kl=kl, T=w2 - kl)


def wae_mmd(x: jax.Array, x_hat: jax.Array, z_q: jax.Array, z_p: jax.Array, *,
            cost: str = "l2sq", recon_scale: Scalar = 0.05, lambda_: Scalar = 10.0,
            kernel: str = "imq", scales: Sequence[float] = DEFAULT_SCALES,
            prior_std: Scalar = 1.0) -> tuple[jax.Array, Aux]:
    """WAE-MMD (Tolstikhin et al. 2018); recon_scale 0.05 is the official code's l2sq factor."""
    mmd = mmd_u_statistic(z_q, z_p, kernel=kernel, scales=scales, prior_std=prior_std)
    return _compose(x, x_hat, cost, recon_scale, lambda_, mmd, mmd=mmd)


def wae_gan(x: jax.Array, x_hat: jax.Array, logits_encoded: jax.Array, *,
            cost: str = "l2sq", recon_scale: Scalar = 0.05,
            lambda_: Scalar = 1.0) -> tuple[jax.Array, Aux]:
    """Auto-encoder side of WAE-GAN: the penalty is the non-saturating BCE(D(z_q), 1).

    aux["adversary"] is that same encoder-side adversarial loss.
    """
    adversary = encoder_adversary_loss(logits_encoded)
    return _compose(x, x_hat, cost, recon_scale, lambda_, adversary, adversary=adversary)


def wae_gan_adversary(logits_prior: jax.Array, logits_encoded: jax.Array, *,
                      lambda_: Scalar = 1.0) -> tuple[jax.Array, Aux]:
    """Adversary side of WAE-GAN: lambda_ * (BCE(D(z_p), 1) + BCE(D(z_q), 0)).

    Scaling by lambda_ as the official code does keeps the adversary's step size
    in proportion to the penalty weight. aux: "loss" and the unweighted "adversary".
    """
    adversary = adversary_loss(logits_prior, logits_encoded)
    loss = lambda_ * adversary
    return loss, dict(loss=loss, adversary=adversary)
