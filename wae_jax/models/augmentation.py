"""The VAE nets of "Data Augmentation via Variational Auto-Encoders" (Garay-Maestre et al.).

Their Table 1, which is the Keras deconvolutional VAE example (variational_autoencoder_deconv):
  encoder: Conv(1, 2x2), Conv(64, 2x2, stride 2), Conv(64, 3x3), Conv(64, 3x3),
           flatten, FC(128); the Gaussian head then maps 128 -> (mean, log-variance);
  decoder: FC(128), FC(14*14*64), reshape 14x14x64, ConvT(64, 3x3), ConvT(64, 3x3),
           ConvT(64, 3x3, stride 2, valid: 14 -> 29), Conv(1, 2x2, valid: 29 -> 28).
ReLU after every layer but the last. The paper leaves the padding of the other layers
unstated: 'same', as the Keras example (28 -> 28 -> 14 -> 14 -> 14 in the encoder).
The last conv outputs the pre-activation image (the paper's sigmoid is the registry's
output_activation, or inside the Bernoulli cost on logits). `width` (64) and `hidden`
(128) narrow the same layout for the `:tiny` test configs.
"""

import flax.linen as nn
import jax

from wae_jax.models.conv import Conv, ConvTranspose
from wae_jax.models.initializers import FLAX, Initializers

FEATURE_SIZE = 14  # side of the feature maps between the stride-2 layers


class AugmentationVAEEncoder(nn.Module):
    width: int = 64
    hidden: int = 128
    lowering: str = "auto"
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        del train
        layers = ((x.shape[-1], 2, 1), (self.width, 2, 2), (self.width, 3, 1),
                  (self.width, 3, 1))
        for features, kernel, stride in layers:
            x = nn.relu(Conv(features, kernel, strides=stride, padding="SAME",
                             lowering=self.lowering, kernel_init=self.inits.conv)(x))
        h = x.reshape(x.shape[0], -1)
        return nn.relu(nn.Dense(self.hidden, kernel_init=self.inits.dense)(h))


class AugmentationVAEDecoder(nn.Module):
    """z -> pre-activation image [B, 28, 28, channels]."""
    channels: int = 1
    width: int = 64
    hidden: int = 128
    lowering: str = "auto"
    inits: Initializers = FLAX

    @nn.compact
    def __call__(self, z: jax.Array, train: bool) -> jax.Array:
        del train
        h = nn.relu(nn.Dense(self.hidden, kernel_init=self.inits.dense)(z))
        h = nn.relu(nn.Dense(FEATURE_SIZE * FEATURE_SIZE * self.width,
                             kernel_init=self.inits.dense)(h))
        x = h.reshape(z.shape[0], FEATURE_SIZE, FEATURE_SIZE, self.width)
        for stride, padding in ((1, 1), (1, 1), (2, 0)):  # 'same', 'same', 'valid'
            x = nn.relu(ConvTranspose(self.width, 3, strides=stride, padding=padding,
                                      lowering=self.lowering,
                                      kernel_init=self.inits.conv_transpose)(x))
        return Conv(self.channels, 2, padding="VALID", lowering=self.lowering,
                    kernel_init=self.inits.conv)(x)
