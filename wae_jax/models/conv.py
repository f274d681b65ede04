"""Convolution layers whose lowering is chosen per backend.

XLA:CPU differentiates strided and transposed convolutions 10-30x slower than
an equivalent stride-1 formulation (see the guide, section 4). Every model in
wae_jax therefore routes its convolutions through `Conv` and `ConvTranspose`
here: on GPU/TPU they call XLA's own convolution; on CPU they use a rewrite
that computes the same function (proven equal in tests/models/test_conv.py).

Layouts: images NHWC, kernels HWIO (`[kh, kw, in, out]`) for both layers.
`ConvTranspose` has PyTorch's `ConvTranspose2d` semantics:
`y[s*i + a - p] += x[i] * w[a]`, output size `(n - 1)*s - 2p + k + output_padding`.
"""

from typing import Sequence, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

Padding = Union[str, int, Sequence[tuple[int, int]]]
DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")
LOWERINGS = ("auto", "xla", "rewrite")


def resolve_lowering(lowering: str) -> str:
    """'auto' means XLA's own convolution on accelerators and the rewrite on CPU."""
    if lowering not in LOWERINGS:
        raise ValueError(f"lowering={lowering!r}: use one of {LOWERINGS}")
    if lowering == "auto":
        return "rewrite" if jax.default_backend() == "cpu" else "xla"
    return lowering


def explicit_padding(padding: Padding, size: Sequence[int], kernel: int,
                     stride: int) -> list[tuple[int, int]]:
    """Per-side padding pairs for 'SAME' (TF rule), 'VALID', an int or explicit pairs."""
    if isinstance(padding, str):
        if padding == "VALID":
            return [(0, 0)] * len(size)
        if padding == "SAME":
            pairs = []
            for n in size:
                total = max((-(-n // stride) - 1) * stride + kernel - n, 0)
                pairs.append((total // 2, total - total // 2))
            return pairs
        raise ValueError(f"padding={padding!r}: use 'SAME', 'VALID', an int or (lo, hi) pairs")
    if isinstance(padding, int):
        return [(padding, padding)] * len(size)
    return [tuple(p) for p in padding]


def conv2d_xla(x: jax.Array, w: jax.Array, stride: int, padding: Padding) -> jax.Array:
    """Reference: XLA's strided convolution."""
    pads = explicit_padding(padding, x.shape[1:3], w.shape[0], stride)
    return lax.conv_general_dilated(x, w, (stride, stride), pads,
                                    dimension_numbers=DIMENSION_NUMBERS)


def conv_transpose2d_xla(x: jax.Array, w: jax.Array, stride: int, padding: int,
                         output_padding: int = 0) -> jax.Array:
    """Reference: PyTorch-semantics transposed convolution as an input-dilated convolution."""
    k = w.shape[0]
    pad = (k - 1 - padding, k - 1 - padding + output_padding)
    return lax.conv_general_dilated(x, w[::-1, ::-1], (1, 1), [pad, pad],
                                    lhs_dilation=(stride, stride),
                                    dimension_numbers=DIMENSION_NUMBERS)


def conv2d(x: jax.Array, w: jax.Array, stride: int = 1, padding: Padding = "SAME",
           lowering: str = "auto") -> jax.Array:
    """Strided 2-D convolution, NHWC x HWIO -> NHWC."""
    del lowering  # The CPU rewrite is added in the conv-lowering change.
    return conv2d_xla(x, w, stride, padding)


def conv_transpose2d(x: jax.Array, w: jax.Array, stride: int = 2, padding: int = 0,
                     output_padding: int = 0, lowering: str = "auto") -> jax.Array:
    """Transposed 2-D convolution with PyTorch semantics, NHWC x HWIO -> NHWC."""
    del lowering  # The CPU rewrite is added in the conv-lowering change.
    return conv_transpose2d_xla(x, w, stride, padding, output_padding)


class Conv(nn.Module):
    """2-D convolution (NHWC) with a per-backend lowering."""
    features: int
    kernel_size: int
    strides: int = 1
    padding: Padding = "SAME"
    use_bias: bool = True
    lowering: str = "auto"
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel_size
        w = self.param("kernel", self.kernel_init, (k, k, x.shape[-1], self.features))
        y = conv2d(x, w, self.strides, self.padding, self.lowering)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))
        return y


class ConvTranspose(nn.Module):
    """Transposed 2-D convolution (PyTorch semantics) with a per-backend lowering."""
    features: int
    kernel_size: int
    strides: int = 2
    padding: int = 0
    output_padding: int = 0
    use_bias: bool = True
    lowering: str = "auto"
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel_size
        w = self.param("kernel", self.kernel_init, (k, k, x.shape[-1], self.features))
        y = conv_transpose2d(x, w, self.strides, self.padding, self.output_padding,
                             self.lowering)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))
        return y
