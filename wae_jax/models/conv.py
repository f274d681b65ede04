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


def _space_to_depth(x: jax.Array, s: int, phases: int) -> jax.Array:
    """[B, H, W, C] -> [B, H/s, W/s, p*p*C], keeping the first `phases` rows/cols of each block."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // s, s, w // s, s, c)[:, :, :phases, :, :phases]
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(b, h // s, w // s, phases * phases * c)


def _depth_to_space(y: jax.Array, s: int) -> jax.Array:
    """[B, M, N, s*s*C] with channels ordered (row phase, col phase, C) -> [B, M*s, N*s, C]."""
    b, m, n, c = y.shape
    y = y.reshape(b, m, n, s, s, c // (s * s))
    return y.transpose(0, 1, 3, 2, 4, 5).reshape(b, m * s, n * s, c // (s * s))


def _conv_stride1(x: jax.Array, w: jax.Array,
                  pads: Sequence[tuple[int, int]]) -> jax.Array:
    """Stride-1 conv that never has all-zero padding.

    XLA:CPU hands stride-1 convs to YNNPACK, which ran 2-3x slower with zero padding than
    with any nonzero padding on the same shapes (jax 0.10.2, this machine; also for the
    weight-gradient conv that autodiff derives from this one). An all-zero padding is
    therefore turned into one extra zero row at the bottom whose output row is dropped.
    """
    if all(p == (0, 0) for p in pads):
        y = lax.conv_general_dilated(x, w, (1, 1), [(0, 1), (0, 0)],
                                     dimension_numbers=DIMENSION_NUMBERS)
        return y[:, :-1]
    return lax.conv_general_dilated(x, w, (1, 1), pads, dimension_numbers=DIMENSION_NUMBERS)


def _flip_taps(w: jax.Array) -> jax.Array:
    """w[::-1, ::-1] written as slices + concatenate.

    A `reverse` in the forward pass becomes a window reversal in the weight-gradient conv,
    which XLA:CPU runs in its naive loop emitter (minutes instead of ~100 ms).
    """
    w = jnp.concatenate([w[i:i + 1] for i in reversed(range(w.shape[0]))], axis=0)
    return jnp.concatenate([w[:, i:i + 1] for i in reversed(range(w.shape[1]))], axis=1)


def _conv2d_space_to_depth(x: jax.Array, w: jax.Array, s: int,
                           pads: Sequence[tuple[int, int]]) -> jax.Array:
    """Strided conv as space-to-depth + stride-1 VALID conv.

    Output pixel o reads padded rows s*o + a for taps a < k; writing a = s*q + r turns this
    into a stride-1 conv over blocks (tap q) with the in-block offset r folded into channels.
    Taps a >= k are zero. When k < s only the first k offsets of a block are ever read, so
    the others are dropped instead of being multiplied by zero taps.
    """
    k = w.shape[0]
    phases = min(s, k)
    taps = -(-k // phases)
    out = [(n + lo + hi - k) // s + 1 for n, (lo, hi) in zip(x.shape[1:3], pads)]
    config = [(0, 0, 0)] + [(lo, s * (o + taps - 1) - n - lo, 0)
                            for n, (lo, _), o in zip(x.shape[1:3], pads, out)] + [(0, 0, 0)]
    x = _space_to_depth(lax.pad(x, jnp.zeros((), x.dtype), config), s, phases)
    w = jnp.pad(w, [(0, taps * phases - k)] * 2 + [(0, 0)] * 2)
    cin, cout = w.shape[2:]
    w = w.reshape(taps, phases, taps, phases, cin, cout).transpose(0, 2, 1, 3, 4, 5)
    w = w.reshape(taps, taps, phases * phases * cin, cout)
    return _conv_stride1(x, w, [(0, 0), (0, 0)])


def _subpixel_fused(x: jax.Array, w: jax.Array, s: int, m0: int,
                    m1: Sequence[int]) -> jax.Array:
    """All s*s output phases of a transposed conv as one stride-1 conv with s*s*Cout outputs.

    Phase r of the uncropped output is full_r[m] = sum_q x[m - q] w[s*q + r], a stride-1
    correlation with the flipped taps w[r::s]; taps are zero-padded to a common count so a
    single conv computes every phase (k not a multiple of s costs extra FLOPs). Rows
    m0..m1 of each phase are produced.
    """
    k, _, cin, cout = w.shape
    taps = -(-k // s)
    w = jnp.pad(w, [(0, taps * s - k)] * 2 + [(0, 0)] * 2)
    w = w.reshape(taps, s, taps, s, cin, cout).transpose(0, 2, 4, 1, 3, 5)
    w = _flip_taps(w).reshape(taps, taps, cin, s * s * cout)
    pads = [(taps - 1 - m0, hi - n + 1) for n, hi in zip(x.shape[1:3], m1)]
    return _conv_stride1(x, w, pads)


def _subpixel_per_phase(x: jax.Array, w: jax.Array, s: int, m0: int,
                        m1: Sequence[int]) -> jax.Array:
    """Same result as `_subpixel_fused`, one conv per phase with its exact taps (k*k in all)."""
    b, cout = x.shape[0], w.shape[3]
    rows = [hi - m0 + 1 for hi in m1]
    phases = []
    for rh in range(s):
        for rw in range(s):
            taps = w[rh::s, rw::s]
            if taps.size == 0:
                phases.append(jnp.zeros((b, *rows, cout), x.dtype))
                continue
            pads = [(t - 1 - m0, hi - n + 1)
                    for t, n, hi in zip(taps.shape[:2], x.shape[1:3], m1)]
            phases.append(_conv_stride1(x, _flip_taps(taps), pads))
    return jnp.concatenate(phases, axis=-1)


def _conv_transpose2d_subpixel(x: jax.Array, w: jax.Array, s: int, p: int,
                               output_padding: int, fused: bool) -> jax.Array:
    """Transposed conv as s*s stride-1 convs (one per output phase) + depth-to-space.

    Output pixel o is uncropped pixel o + p = s*m + r. Only m in [p // s, (p + size - 1) // s]
    is computed; interleaving the phases gives uncropped pixels from s*(p // s), so the
    result is cropped by p mod s at the start and to `size` at the end.
    """
    k = w.shape[0]
    sizes = [(n - 1) * s - 2 * p + k + output_padding for n in x.shape[1:3]]
    m0, m1 = p // s, [(p + size - 1) // s for size in sizes]
    phases = (_subpixel_fused if fused else _subpixel_per_phase)(x, w, s, m0, m1)
    y = _depth_to_space(phases, s)
    start = p - s * m0
    return y[:, start:start + sizes[0], start:start + sizes[1]]


def conv2d(x: jax.Array, w: jax.Array, stride: int = 1, padding: Padding = "SAME",
           lowering: str = "auto") -> jax.Array:
    """Strided 2-D convolution, NHWC x HWIO -> NHWC.

    Stride 1 always uses XLA's convolution (its backward is fast); strides > 1 use the
    space-to-depth rewrite when the lowering resolves to 'rewrite'.
    """
    pads = explicit_padding(padding, x.shape[1:3], w.shape[0], stride)
    if resolve_lowering(lowering) == "xla" or stride == 1:
        return conv2d_xla(x, w, stride, pads)
    return _conv2d_space_to_depth(x, w, stride, pads)


def conv_transpose2d(x: jax.Array, w: jax.Array, stride: int = 2, padding: int = 0,
                     output_padding: int = 0, lowering: str = "auto",
                     fused: bool = True) -> jax.Array:
    """Transposed 2-D convolution with PyTorch semantics, NHWC x HWIO -> NHWC."""
    _check_transpose_args(stride, padding, output_padding)
    if resolve_lowering(lowering) == "xla" or stride == 1:
        return conv_transpose2d_xla(x, w, stride, padding, output_padding)
    return _conv_transpose2d_subpixel(x, w, stride, padding, output_padding, fused)


def _check_transpose_args(stride: int, padding: int, output_padding: int) -> None:
    """PyTorch's ConvTranspose2d constraints, so both lowerings reject the same inputs."""
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding={padding!r}: ConvTranspose takes a non-negative int "
                         "(PyTorch semantics)")
    if not 0 <= output_padding < stride:
        raise ValueError(f"output_padding={output_padding}: must be in [0, stride={stride})")


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
