"""Small convolutional VAE nets for the data-augmentation experiments (latent 2-8).

Garay-Maestre et al. trained one small Keras VAE per MNIST class; their exact
layers are not reproduced here. This is a standard small design in the style of
the Keras convolutional-VAE example, chosen and documented as such:
  encoder: 3x3 stride-2 'SAME' convs 32, 64 with ReLU (28->14->7), flatten,
           dense 16 + ReLU (the Gaussian head then maps 16 -> z);
  decoder: dense to 7x7x64 + ReLU, 3x3 stride-2 transposed convs 64, 32 with ReLU
           (7->14->28, Keras 'SAME' = padding 1, output_padding 1), 3x3 stride-1
           conv to the image channels.
No batch norm: classes have only 50-1000 training images.
"""

from typing import Sequence

import flax.linen as nn
import jax

from wae_jax.models.conv import Conv, ConvTranspose
from wae_jax.models.initializers import FLAX, Initializers


class AugmentationConvEncoder(nn.Module):
    widths: Sequence[int] = (32, 64)
    hidden: Sequence[int] = (16,)
    lowering: str = "auto"
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        del train
        for width in self.widths:
            x = nn.relu(Conv(width, 3, strides=2, padding="SAME", lowering=self.lowering,
                             kernel_init=self.inits.conv)(x))
        h = x.reshape(x.shape[0], -1)
        for width in self.hidden:
            h = nn.relu(nn.Dense(width, kernel_init=self.inits.dense)(h))
        return h


class AugmentationConvDecoder(nn.Module):
    """z -> pre-activation image; `widths` run coarse to fine, one doubling each."""
    image_shape: tuple[int, int, int]
    widths: Sequence[int] = (64, 32)
    lowering: str = "auto"
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, z: jax.Array, train: bool) -> jax.Array:
        del train
        height, width, channels = self.image_shape
        scale = 2 ** len(self.widths)
        if height % scale or width % scale:
            raise ValueError(f"image_shape={self.image_shape}: {len(self.widths)} "
                             f"upsamplings need height and width divisible by {scale}")
        x = nn.Dense(height // scale * width // scale * self.widths[0],
                     kernel_init=self.inits.dense)(z)
        x = nn.relu(x.reshape(z.shape[0], height // scale, width // scale, self.widths[0]))
        for features in self.widths:
            x = nn.relu(ConvTranspose(features, 3, strides=2, padding=1, output_padding=1,
                                      lowering=self.lowering,
                                      kernel_init=self.inits.conv_transpose)(x))
        return Conv(channels, 3, lowering=self.lowering, kernel_init=self.inits.conv)(x)
