"""pythae's MNIST benchmark nets (`Encoder_Conv_AE_MNIST` / `Decoder_Conv_AE_MNIST`).

Rebuilt from their published layer list so wae_jax's throughput can be compared
with pythae's on the same function (17.1M parameters with latent 8):
  encoder: four 4x4 stride-2 convs, padding 1, 28->14->7->3->1, batch norm + ReLU,
           flatten (1024 features; the dense map to z is the latent head's);
  decoder: dense to 4x4x1024 (no activation), 3x3 stride-2 transposed convs with
           padding 1 and output_padding 0, 1, 1 (4->7->14->28), batch norm + ReLU
           after all but the last. The sigmoid is AutoEncoder's output activation.
"""

import functools
from typing import Sequence

import flax.linen as nn
import jax

from wae_jax.models.conv import Conv, ConvTranspose
from wae_jax.models.initializers import FLAX, Initializers

# PyTorch's BatchNorm2d defaults: momentum 0.1 (= flax momentum 0.9), eps 1e-5.
BatchNorm = functools.partial(nn.BatchNorm, momentum=0.9, epsilon=1e-5)

# Output paddings that take 4x4 to 7, 14 and 28 with 3x3 stride-2 padding-1 kernels.
DECODER_OUTPUT_PADDINGS = (0, 1, 1)


class PythaeMNISTEncoder(nn.Module):
    widths: Sequence[int] = (128, 256, 512, 1024)
    lowering: str = "auto"
    batch_norm: bool = True
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        for width in self.widths:
            x = Conv(width, 4, strides=2, padding=1, lowering=self.lowering,
                     kernel_init=self.inits.conv)(x)
            if self.batch_norm:
                x = BatchNorm(use_running_average=not train)(x)
            x = nn.relu(x)
        return x.reshape(x.shape[0], -1)


class PythaeMNISTDecoder(nn.Module):
    """z -> 28x28 pre-activation image; `widths` are the 4x4, 7x7 and 14x14 channels."""
    widths: Sequence[int] = (1024, 512, 256)
    channels: int = 1
    lowering: str = "auto"
    batch_norm: bool = True
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, z: jax.Array, train: bool) -> jax.Array:
        x = nn.Dense(4 * 4 * self.widths[0], kernel_init=self.inits.dense)(z)
        x = x.reshape(z.shape[0], 4, 4, self.widths[0])
        out_features = (*self.widths[1:], self.channels)
        for i, (features, output_padding) in enumerate(
                zip(out_features, DECODER_OUTPUT_PADDINGS, strict=True)):
            x = ConvTranspose(features, 3, strides=2, padding=1, output_padding=output_padding,
                              lowering=self.lowering, kernel_init=self.inits.conv_transpose)(x)
            if i < len(out_features) - 1:
                if self.batch_norm:
                    x = BatchNorm(use_running_average=not train)(x)
                x = nn.relu(x)
        return x
