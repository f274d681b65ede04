"""The data-augmentation paper's CNN, which scores VAE-augmented training sets.

Conv64-Conv128-MaxPool-Dropout-Conv128-Conv128-MaxPool-Dropout-FC128-Dropout-FC10
with 3x3 ReLU convs, 2x2 max-pools and dropout 0.5, as the paper lists it. The
convolutions are 'VALID' (Keras' default, the paper's framework):
28->26->24->12->10->8->4, so FC128 sees 4*4*128 features.
"""

import functools

import flax.linen as nn
import jax

from wae_jax.models.conv import Conv


class Classifier(nn.Module):
    """Images [B,H,W,C] -> logits [B, num_classes]; dropout draws from the "dropout" RNG."""
    num_classes: int = 10
    dropout_rate: float = 0.5
    lowering: str = "auto"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        conv = functools.partial(Conv, kernel_size=3, padding="VALID", lowering=self.lowering)
        dropout = functools.partial(nn.Dropout, self.dropout_rate, deterministic=not train)
        for widths in ((64, 128), (128, 128)):
            for width in widths:
                x = nn.relu(conv(width)(x))
            x = dropout()(nn.max_pool(x, (2, 2), strides=(2, 2)))
        x = dropout()(nn.relu(nn.Dense(128)(x.reshape(x.shape[0], -1))))
        return nn.Dense(self.num_classes)(x)
