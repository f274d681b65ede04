"""The auto-encoder every method trains: backbone encoder + latent head + decoder.

VAE, W2-VAE, WAE-MMD and WAE-GAN differ in their losses, not their networks, so
one module serves them all; `wae_jax.models.registry` assembles it from config.
"""

from typing import Callable, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

OUTPUT_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "sigmoid": nn.sigmoid,  # data in [0, 1] (MNIST in the WAE paper)
    "tanh": jnp.tanh,  # data in [-1, 1] (CelebA in the WAE paper)
    "identity": lambda x: x,  # logits, for the Bernoulli reconstruction cost
}


class AutoEncoder(nn.Module):
    """x -> features -> (mean, logvar) -> x_hat.

    Attributes:
      encoder: backbone, `(x [B,H,W,C], train) -> features [B,F]`.
      head: `features -> (mean [B,z], logvar [B,z] | None)`; see `heads.py`.
      decoder: `(z [B,z], train) -> pre-activation image [B,H,W,C]`.
      output_activation: a key of OUTPUT_ACTIVATIONS.
    """
    encoder: nn.Module
    head: nn.Module
    decoder: nn.Module
    output_activation: str = "sigmoid"

    def __post_init__(self):
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"output_activation={self.output_activation!r}: use one of "
                             f"{tuple(OUTPUT_ACTIVATIONS)}")
        super().__post_init__()

    def encode(self, x: jax.Array, train: bool) -> tuple[jax.Array, Optional[jax.Array]]:
        """(mean, logvar) for a Gaussian head, (z, None) otherwise."""
        return self.head(self.encoder(x, train))

    def decode(self, z: jax.Array, train: bool) -> jax.Array:
        return OUTPUT_ACTIVATIONS[self.output_activation](self.decoder(z, train))

    def __call__(self, x: jax.Array, train: bool
                 ) -> tuple[jax.Array, Optional[jax.Array], jax.Array]:
        """Touches every parameter (for init); reconstructs from the mean."""
        mean, logvar = self.encode(x, train)
        return mean, logvar, self.decode(mean, train)
