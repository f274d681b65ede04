"""DCGAN-style encoder and decoder of the official WAE code (`tolstikhin/wae`).

Encoder: stride-2 'SAME' convolutions (widths 128-256-512-1024 in the paper),
each followed by batch norm and ReLU, then flatten (the linear map to z is the
latent head's). Decoder ("dcgan_mod" in that code): dense to a
`(H/2^n, W/2^n, widths[0])` map and ReLU (no batch norm there), n stride-2
transposed convolutions with batch norm and ReLU, then a stride-1 convolution to
the image channels. MNIST: 4x4 kernels, 28->14->7->4->2 and 7->14->28.
CelebA: 5x5 kernels, 64->32->16->8->4 and 8->16->32->64.
`batch_norm=False` drops every batch norm (the paper's CelebA VAE baseline).
"""

import functools
from typing import Sequence

import flax.linen as nn
import jax

from wae_jax.models.conv import Conv, ConvTranspose
from wae_jax.models.initializers import FLAX, Initializers

# The official code's batch norm: decay 0.9, epsilon 1e-5.
BatchNorm = functools.partial(nn.BatchNorm, momentum=0.9, epsilon=1e-5)


def doubling_padding(kernel_size: int) -> tuple[int, int]:
    """(padding, output_padding) making a stride-2 ConvTranspose map n -> 2n exactly.

    Solves (n-1)*2 - 2p + k + op = 2n with 0 <= op < 2. For k=4 this is TF's
    'SAME' transposed convolution; for odd k TF pads asymmetrically, which
    PyTorch semantics cannot express, so the output sits one pixel off TF's
    (same function class, same parameter count).
    """
    padding = (kernel_size - 1) // 2
    return padding, 2 * padding + 2 - kernel_size


class DCGANEncoder(nn.Module):
    """Image -> flattened features of the last stride-2 conv block."""
    widths: Sequence[int] = (128, 256, 512, 1024)
    kernel_size: int = 4
    lowering: str = "auto"
    batch_norm: bool = True
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        for width in self.widths:
            x = Conv(width, self.kernel_size, strides=2, padding="SAME",
                     lowering=self.lowering, kernel_init=self.inits.conv)(x)
            if self.batch_norm:
                x = BatchNorm(use_running_average=not train)(x)
            x = nn.relu(x)
        return x.reshape(x.shape[0], -1)


class DCGANDecoder(nn.Module):
    """z -> pre-activation image; `widths` runs coarse to fine, one upsampling per extra width."""
    image_shape: tuple[int, int, int]
    widths: Sequence[int] = (1024, 512, 256)
    kernel_size: int = 4
    lowering: str = "auto"
    batch_norm: bool = True
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, z: jax.Array, train: bool) -> jax.Array:
        height, width, channels = self.image_shape
        scale = 2 ** (len(self.widths) - 1)
        if height % scale or width % scale:
            raise ValueError(f"image_shape={self.image_shape}: {len(self.widths) - 1} "
                             f"upsamplings need height and width divisible by {scale}")
        x = nn.Dense(height // scale * width // scale * self.widths[0],
                     kernel_init=self.inits.dense)(z)
        x = nn.relu(x.reshape(z.shape[0], height // scale, width // scale, self.widths[0]))
        padding, output_padding = doubling_padding(self.kernel_size)
        for features in self.widths[1:]:
            x = ConvTranspose(features, self.kernel_size, strides=2, padding=padding,
                              output_padding=output_padding, lowering=self.lowering,
                              kernel_init=self.inits.conv_transpose)(x)
            if self.batch_norm:
                x = BatchNorm(use_running_average=not train)(x)
            x = nn.relu(x)
        return Conv(channels, self.kernel_size, strides=1, padding="SAME",
                    lowering=self.lowering, kernel_init=self.inits.conv)(x)
