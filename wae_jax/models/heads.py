"""Latent heads: backbone features -> the encoder's output `(mean, logvar | None)`.

The three encoder kinds of the WAE paper differ only here, so every backbone can
be combined with every kind:
  deterministic  z = W h + b (WAE's default encoder);
  gaussian       mean and a clamped log-variance (VAE, W2-VAE, WAE with a random encoder);
  noise          "universal approximator" (Makhzani et al.): z = f(x, eps), eps ~ N(0, I).
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from wae_jax.models.initializers import FLAX, Initializers


class DeterministicHead(nn.Module):
    """A linear map to the code; returns `(z, None)`."""
    latent_dim: int
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, features: jax.Array) -> tuple[jax.Array, None]:
        code = nn.Dense(self.latent_dim, kernel_init=self.inits.dense, name="mean")(features)
        return code, None


class GaussianHead(nn.Module):
    """Mean and log-variance of a diagonal Gaussian posterior.

    The log-variance is clipped to [-logvar_clamp, logvar_clamp] because an
    unbounded log-variance overflows `exp` early in training and turns the KL or
    W2 penalty into inf/NaN. `nonpositive` applies `min(0, .)` to both heads, as
    the W2-VAE paper does, which keeps every posterior std at most 1.
    """
    latent_dim: int
    logvar_clamp: float
    nonpositive: bool = False
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, features: jax.Array) -> tuple[jax.Array, jax.Array]:
        dense = functools.partial(nn.Dense, self.latent_dim, kernel_init=self.inits.dense)
        mean, logvar = dense(name="mean")(features), dense(name="logvar")(features)
        if self.nonpositive:
            mean, logvar = jnp.minimum(mean, 0.0), jnp.minimum(logvar, 0.0)
        return mean, jnp.clip(logvar, -self.logvar_clamp, self.logvar_clamp)


class NoiseHead(nn.Module):
    """Random encoder `z = m + g([m, eps])`, m = W h + b, eps from the "noise" RNG stream.

    The noise enters after the backbone, not at the pixels, so the one head
    serves every backbone (MLP or convolutional) without changing its input
    layer, and mixing it with the z-sized code `m` rather than the raw features
    keeps the head small (ResNet features are 100k wide). `g` is a ReLU MLP: a
    linear map of `[h, eps]` would only add x-independent Gaussian noise, while a
    non-linear `g` can give Q(Z|X) any shape. The residual form keeps the
    deterministic head's linear path to z and lets training shrink the noise
    term where the penalty allows. Returns `(z, None)`.
    """
    latent_dim: int
    noise_dim: int
    hidden: int
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, features: jax.Array) -> tuple[jax.Array, None]:
        dense = functools.partial(nn.Dense, kernel_init=self.inits.dense)
        code = dense(self.latent_dim, name="mean")(features)
        eps = jax.random.normal(self.make_rng("noise"), (features.shape[0], self.noise_dim),
                                features.dtype)
        h = nn.relu(dense(self.hidden, name="mix")(jnp.concatenate([code, eps], -1)))
        return code + dense(self.latent_dim, name="perturbation")(h), None
