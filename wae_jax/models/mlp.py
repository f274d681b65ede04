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


class MLPEncoder(nn.Module):
    """Flattened image -> ReLU hidden layers -> features."""
    hidden: Sequence[int] = (512, 256)

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        del train
        h = x.reshape(x.shape[0], -1)
        for width in self.hidden:
            h = nn.relu(nn.Dense(width)(h))
        return h


class MLPDecoder(nn.Module):
    """z -> ReLU hidden layers -> pre-activation image of `image_shape`."""
    image_shape: tuple[int, int, int]
    hidden: Sequence[int] = (256, 512)

    @nn.compact
    def __call__(self, z: jax.Array, train: bool) -> jax.Array:
        del train
        h = z
        for width in self.hidden:
            h = nn.relu(nn.Dense(width)(h))
        return nn.Dense(math.prod(self.image_shape))(h).reshape(z.shape[0], *self.image_shape)
