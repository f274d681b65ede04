"""The data-augmentation paper's CNN, which scores VAE-augmented training sets.

Conv64-Conv128-MaxPool-Dropout-Conv128-Conv128-MaxPool-Dropout-FC128-Dropout-FC10
with 3x3 ReLU convs, 2x2 max-pools and dropout 0.5, as the paper lists it. By
default the convolutions are 'VALID' (Keras' default): 28->26->24->12->10->8->4, so
FC128 sees 4*4*128 features; the paper's official code pads them 'SAME'
(28->28->14->14->7, FC128 on 7*7*128), which the augmentation study uses.

`widths` and `hidden` narrow the same layout: the classifier_fd proxy uses a narrower
net (wae_jax.evaluation.proxy_classifier) so that training it fits in a minute on CPU.
"""

import functools

import flax.linen as nn
import jax

from wae_jax.models.conv import Conv
from wae_jax.models.pooling import max_pool_2x2

PAPER_WIDTHS = (64, 128, 128, 128)


class Classifier(nn.Module):
    """Images [B,H,W,C] -> logits [B, num_classes]; dropout draws from the "dropout" RNG.

    widths: channels of the four convs, (conv1, conv2) before the first pool and
    (conv3, conv4) before the second; hidden: units of the penultimate Dense layer.
    """
    num_classes: int = 10
    dropout_rate: float = 0.5
    lowering: str = "auto"
    widths: tuple[int, int, int, int] = PAPER_WIDTHS
    hidden: int = 128
    padding: str = "VALID"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        if len(self.widths) != 4 or min(self.widths) < 1 or self.hidden < 1:
            raise ValueError(f"Classifier widths={self.widths}, hidden={self.hidden}: use four "
                             "positive conv widths and a positive hidden size")
        conv = functools.partial(Conv, kernel_size=3, padding=self.padding,
                                 lowering=self.lowering)
        dropout = functools.partial(nn.Dropout, self.dropout_rate, deterministic=not train)
        for block in (self.widths[:2], self.widths[2:]):
            for width in block:
                x = nn.relu(conv(width)(x))
            x = dropout()(max_pool_2x2(x))
        x = dropout()(nn.relu(nn.Dense(self.hidden)(x.reshape(x.shape[0], -1))))
        return nn.Dense(self.num_classes)(x)
