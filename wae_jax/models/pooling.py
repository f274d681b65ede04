"""2x2 max pooling (stride 2) with a gradient that is fast on XLA:CPU.

flax's `nn.max_pool` is XLA's reduce_window, whose gradient is select_and_scatter: on
XLA:CPU 3-6x slower than the gradient of a max over a reshaped [B, H/2, 2, W/2, 2, C]
view, and most of the study CNN's backward pass (`benchmarks/classifier_step.py`). The
values equal `nn.max_pool`'s (VALID: an odd last row or column is dropped). So do the
gradients, except within a window holding tied maxima: reduce_max splits the gradient
among them, select_and_scatter gives it all to the first. Behind a ReLU the ties are
zeros, whose gradient the ReLU discards, so a network's parameter gradients agree.
"""

import jax


def max_pool_2x2(x: jax.Array) -> jax.Array:
    """[B, H, W, C] -> [B, H // 2, W // 2, C], the max of each 2x2 window."""
    batch, height, width, channels = x.shape
    x = x[:, :height // 2 * 2, :width // 2 * 2]
    return x.reshape(batch, height // 2, 2, width // 2, 2, channels).max(axis=(2, 4))
