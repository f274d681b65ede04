"""The WAE-GAN latent adversary: tells prior samples from encoded codes.

As in the official WAE code: a ReLU MLP on z with one logit (4 x 512 units for
MNIST, 4 x 1024 for CelebA). The "log-prior trick" is added to these logits by
`wae_jax.losses.add_log_prior`, so the network itself stays a plain MLP.
"""

from typing import Sequence

import flax.linen as nn
import jax

from wae_jax.models.initializers import FLAX, Initializers


class LatentAdversary(nn.Module):
    """z [B, d] -> logits [B] (positive: "drawn from the prior")."""
    hidden: Sequence[int] = (512,) * 4
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        h = z
        for width in self.hidden:
            h = nn.relu(nn.Dense(width, kernel_init=self.inits.dense)(h))
        return nn.Dense(1, kernel_init=self.inits.dense)(h)[:, 0]
