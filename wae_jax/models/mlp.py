"""Feed-forward encoder and decoder (the W2-VAE paper's "3-layer" nets).

The paper does not print the layer sizes; the default (512, 256) gives three
weight layers each way (784-512-256-z and z-256-512-784 on MNIST). No batch
norm: the paper's nets are plain ReLU MLPs, and `train` is accepted only to
share the backbone interface.
"""

import math
from typing import Sequence

import flax.linen as nn
import jax

from wae_jax.models.initializers import FLAX, Initializers


class MLPEncoder(nn.Module):
    """Flattened image -> ReLU hidden layers -> features."""
    hidden: Sequence[int] = (512, 256)
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        del train
        h = x.reshape(x.shape[0], -1)
        for width in self.hidden:
            h = nn.relu(nn.Dense(width, kernel_init=self.inits.dense)(h))
        return h


class MLPDecoder(nn.Module):
    """z -> ReLU hidden layers -> pre-activation image of `image_shape`."""
    image_shape: tuple[int, int, int]
    hidden: Sequence[int] = (256, 512)
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, z: jax.Array, train: bool) -> jax.Array:
        del train
        h = z
        for width in self.hidden:
            h = nn.relu(nn.Dense(width, kernel_init=self.inits.dense)(h))
        h = nn.Dense(math.prod(self.image_shape), kernel_init=self.inits.dense)(h)
        return h.reshape(z.shape[0], *self.image_shape)
