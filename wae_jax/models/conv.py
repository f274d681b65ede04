"""Convolution layers whose lowering is chosen per backend.

Every model in wae_jax routes its convolutions through `Conv` and `ConvTranspose` here. On
GPU/TPU they call XLA's own convolution. On CPU ('auto' resolves to 'rewrite') the ones that
XLA:CPU runs pathologically slowly (the backward of strided and transposed convs, every pass
of a stride-1 conv with a narrow output) are rewritten into the same function built from
matmuls (one matmul to every tap, then shifted sums); their gradients are plain JAX autodiff
of the rewrite.

'matmul' is for populations (`jax.vmap` over members with per-member weights) on CPU: it
leaves no convolution op, every one becomes patches + one matmul (or, for narrow outputs,
one matmul + shift-and-add), which vmaps to one batched dot over the members, whereas a
vmapped convolution becomes a grouped convolution that XLA:CPU runs badly. Measured on the
`:small` DCGAN decoder's last conv (batch 100, 16 members, forward+backward): 3.1-3.3 s with
XLA's op or the rewrite, 0.6 s with 'matmul' (benchmarks/population_throughput.py has the
whole train step). Accelerators keep XLA's op: cuDNN has no such problem.

Why (jax 0.10.2, measured by benchmarks/conv_lowering.py): XLA's algebraic simplifier swaps
the operands of a convolution whose kernel is larger than its input, producing a
window-reversed convolution that XLA:CPU runs in its naive loop emitter at 1-5 GFLOP/s. That
hits the input gradient of a strided conv whose output is smaller than its kernel (a 4x4
stride-2 conv to 2x2: 9 s instead of 0.2 s) and the weight gradient of every strided
transposed conv (the dilated input is smaller than the output gradient). The rewrites keep
every convolution input at least as large as its kernel. Separately, XLA:CPU's convolution
with few output channels runs at 1-6 GFLOP/s in every pass (a DCGAN decoder's last 256 -> 1
conv, the augmentation VAE's 64 -> 1): those are shift-and-add. Tested equal in
tests/models/test_conv.py.

Layouts: images NHWC, square kernels HWIO (`[k, k, in, out]`) for both layers.
`ConvTranspose` has PyTorch's `ConvTranspose2d` semantics:
`y[s*i + a - p] += x[i] * w[a]`, output size `(n - 1)*s - 2p + k + output_padding`.
"""

import functools
from typing import Callable, Sequence, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

Padding = Union[str, int, Sequence[tuple[int, int]]]
# (x, w, stride, first phase row m0, last phase rows m1) -> phases, channels (rh, rw, out).
PhaseFn = Callable[[jax.Array, jax.Array, int, int, Sequence[int]], jax.Array]
DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")
LOWERINGS = ("auto", "xla", "rewrite", "matmul")
# 'matmul' transposed convs whose k is not a multiple of s: one matmul per output phase with
# exact taps (no zero taps) wins up to 8x8 inputs (k=3: 1.2-1.5x); beyond, the per-phase patch
# copies cost more than the zero taps of the single fused matmul (16x16, k=5: 1.8x slower).
PER_PHASE_MAX_PIXELS = 64
# Solo CPU transposed convs with at most this many input channels run over groups of about
# BLOCK_IMAGES images (`_in_image_blocks`). Their taps' matmul writes k*k*out values per input
# pixel for 2*in FLOP each, so over a whole batch it streams from memory; a group's stays in
# cache. Forward + backward, batch 100 (ad-hoc timing, session 18): the `:small` DCGAN
# decoder's 14 -> 28, 32 -> 16 layer 16.3 -> 4.7 ms, its 7 -> 14, 64 -> 32 4.3 -> 3.6 ms, the
# `:small` CelebA decoder's three 1.9-2.1x; pythae's 1024 -> 512 and 512 -> 256 (compute-bound)
# gained nothing or lost, so wider layers keep the whole batch.
BLOCKED_MAX_IN_CHANNELS = 64
BLOCK_IMAGES = 20


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
    pairs = [tuple(p) for p in padding]
    if len(pairs) != len(size) or any(len(p) != 2 for p in pairs):
        raise ValueError(f"padding={padding!r}: give one (lo, hi) pair per spatial dim")
    return pairs


def conv2d_xla(x: jax.Array, w: jax.Array, stride: int, padding: Padding) -> jax.Array:
    """Reference: XLA's strided convolution, given at most k - 1 padding per side.

    Any excess is padded beforehand: where a side is padded by more than k - 1, XLA:CPU's
    input gradient is wrong (off by up to 3.7 under jit, NaN or stale memory eagerly and
    intermittently).
    """
    pads = explicit_padding(padding, x.shape[1:3], w.shape[0], stride)
    excess = [(max(lo - (k - 1), 0), max(hi - (k - 1), 0))
              for (lo, hi), k in zip(pads, w.shape[:2])]
    if any(lo or hi for lo, hi in excess):
        x = _pad_hw(x, excess)
        pads = [(lo - e_lo, hi - e_hi) for (lo, hi), (e_lo, e_hi) in zip(pads, excess)]
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


def _check_stride(stride: int) -> None:
    if not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride={stride!r}: use a positive int")


def _pad_hw(x: jax.Array, pads: Sequence[tuple[int, int]]) -> jax.Array:
    """Zero-pad (or, for negative pairs, crop) the two spatial dims of an NHWC array."""
    config = [(0, 0, 0), *[(lo, hi, 0) for lo, hi in pads], (0, 0, 0)]
    return lax.pad(x, jnp.zeros((), x.dtype), config)


def _tap_slice(x: jax.Array, a: int, b: int, rows: int, cols: int, stride: int) -> jax.Array:
    """The [B, rows, cols, C] pixels of x that tap (a, b) of a VALID window at `stride` reads."""
    return lax.slice(x, (0, a, b, 0),
                     (x.shape[0], a + stride * (rows - 1) + 1, b + stride * (cols - 1) + 1,
                      x.shape[3]), (1, stride, stride, 1))


def window_slices(x: jax.Array, kh: int, kw: int, stride: int) -> list[jax.Array]:
    """Every tap's `_tap_slice` of a VALID kh x kw window over x, tap-major: a strided conv
    is their concatenation times the kernel, a pool their elementwise reduction."""
    rows, cols = [(n - k) // stride + 1 for n, k in zip(x.shape[1:3], (kh, kw))]
    return [_tap_slice(x, a, b, rows, cols, stride) for a in range(kh) for b in range(kw)]


def _matmul_conv(x: jax.Array, w: jax.Array, stride: int) -> jax.Array:
    """VALID strided conv as patches + one matmul.

    Patches are k*k strided slices concatenated on channels (tap-major, matching
    `w.reshape(k*k*in, out)`), so the backward pass is matmuls plus pad-and-add of slices;
    no convolution is left for XLA to swap.
    """
    kh, kw, cin, cout = w.shape
    cols = window_slices(x, kh, kw, stride)
    patches = cols[0] if len(cols) == 1 else jnp.concatenate(cols, axis=-1)
    return patches @ w.reshape(kh * kw * cin, cout)


def _shift_add_conv(x: jax.Array, w: jax.Array, stride: int,
                    pads: Sequence[tuple[int, int]]) -> jax.Array:
    """Conv of x padded by `pads` as one matmul to every tap's output, then a sum of shifted
    slices.

    The matmul's output has k*k*out channels against the patch matrix's k*k*in, so for narrow
    outputs (e.g. a decoder's last 256 -> 1 conv) it moves less memory than `_matmul_conv`;
    like it, it leaves no convolution for XLA and vmaps to a batched dot. The padding goes on
    the matmul's output (zero pixels map to zero), not on the wide input: padding 100 MNIST
    images of 256 channels copied 80 MB, a third of the layer's time.
    """
    kh, kw, cin, cout = w.shape
    z = _pad_hw(x @ w.transpose(2, 0, 1, 3).reshape(cin, kh * kw * cout), pads)
    oh, ow = [(n - k) // stride + 1 for n, k in zip(z.shape[1:3], (kh, kw))]
    # Split first: its transpose concatenates the taps' small gradients into one array,
    # where channel slices would transpose to k*k full-size pads.
    z = lax.split(z, [cout] * (kh * kw), axis=3)
    taps = [_tap_slice(z[a * kw + b], a, b, oh, ow, stride)
            for a in range(kh) for b in range(kw)]
    return functools.reduce(jnp.add, taps)


def _conv_free(x: jax.Array, w: jax.Array, stride: int, pads: Sequence[tuple[int, int]]
               ) -> jax.Array:
    """The 'matmul' lowering of a conv: whichever matmul form moves less memory."""
    if stride * stride * w.shape[3] < w.shape[2]:
        return _shift_add_conv(x, w, stride, pads)
    return _matmul_conv(_pad_hw(x, pads), w, stride)


def _narrow_output(w: jax.Array) -> bool:
    """Whether a stride-1 conv's taps' outputs (k*k*out channels) are at most half its input
    channels: there XLA:CPU's conv runs at 1-6 GFLOP/s and `_shift_add_conv` is 1.2-10x
    faster (forward + backward; benchmarks/conv_lowering.py: a DCGAN decoder's last 256 -> 1
    conv, 2.9x). Wider outputs lost (256 -> 16 with k=4: 0.66x; 128 -> 3 with k=5: 0.8x)."""
    kh, kw, cin, cout = w.shape
    return 2 * kh * kw * cout <= cin


def conv2d_patches(x: jax.Array, w: jax.Array, stride: int,
                   pads: Sequence[tuple[int, int]], block_images: int = 0,
                   block_rows: int = 0) -> jax.Array:
    """Explicitly padded conv (any kh x kw) as patches + one matmul, no convolution op.

    With blocks (`lax.map` over groups of block_images images, then of block_rows output
    rows) a block's patch matrix stays in cache: for large images with few channels, where
    XLA:CPU's conv and the whole batch's patch matrix both stream from memory (the FID
    Inception's 149x149, 32 -> 32 layer, batch 16: 18 GFLOP/s as XLA's conv, 64 in blocks
    of 4 images x 4 rows). 0 means no blocks along that axis.
    """
    batch = x.shape[0]
    if 0 < block_images < batch:
        return _in_image_blocks(
            lambda images: conv2d_patches(images, w, stride, pads, 0, block_rows), x,
            block_images)
    x = _pad_hw(x, pads)
    if not block_rows:
        return _matmul_conv(x, w, stride)
    kh = w.shape[0]
    out_rows = (x.shape[1] - kh) // stride + 1
    blocks = -(-out_rows // block_rows)
    span = (block_rows - 1) * stride + kh  # input rows of one block
    x = _pad_hw(x, [(0, (blocks - 1) * block_rows * stride + span - x.shape[1]), (0, 0)])
    y = lax.map(lambda i: _matmul_conv(
        lax.dynamic_slice_in_dim(x, i * block_rows * stride, span, axis=1), w, stride),
        jnp.arange(blocks))  # [blocks, B, block_rows, W, out]
    y = jnp.moveaxis(y, 0, 1)
    return y.reshape(batch, blocks * block_rows, *y.shape[3:])[:, :out_rows]


def _in_image_blocks(fn: Callable[[jax.Array], jax.Array], x: jax.Array, block_images: int
                     ) -> jax.Array:
    """fn (per image: images [n, ...] -> [n, ...]) over groups of block_images images, one
    after another (`lax.map`), the batch zero-padded to whole groups and cropped back."""
    batch = x.shape[0]
    groups = -(-batch // block_images)
    x = jnp.pad(x, [(0, groups * block_images - batch)] + [(0, 0)] * (x.ndim - 1))
    y = lax.map(fn, x.reshape(groups, block_images, *x.shape[1:]))
    return y.reshape(-1, *y.shape[2:])[:batch]


def _conv_output_size(size: Sequence[int], pads: Sequence[tuple[int, int]], kernel: int,
                      stride: int) -> list[int]:
    return [(n + lo + hi - kernel) // stride + 1 for n, (lo, hi) in zip(size, pads)]


def _xla_backward_is_slow(out_size: Sequence[int], kernel: int) -> bool:
    """XLA swaps the input-gradient conv of a strided conv iff the kernel outsizes dy."""
    return kernel * kernel > out_size[0] * out_size[1]


def _depth_to_space(y: jax.Array, s: int) -> jax.Array:
    """[B, M, N, s*s*C] with channels ordered (row phase, col phase, C) -> [B, M*s, N*s, C]."""
    b, m, n, c = y.shape
    y = y.reshape(b, m, n, s, s, c // (s * s))
    return y.transpose(0, 1, 3, 2, 4, 5).reshape(b, m * s, n * s, c // (s * s))


def _fused_phases(x: jax.Array, w: jax.Array, s: int, m0: int, m1: Sequence[int]
                  ) -> jax.Array:
    """All s*s phases of a transposed conv as one stride-1 correlation with s*s*out features.

    Phase r of the uncropped output is full_r[m] = sum_q x[m - q] w[s*q + r]: a stride-1
    correlation with the flipped taps w[r::s]. Taps are zero-padded to a common count
    ceil(k/s), so k not a multiple of s costs zero-tap FLOPs. Rows m0..m1 are produced.
    """
    k, _, cin, cout = w.shape
    taps = -(-k // s)
    w = jnp.pad(w, [(0, taps * s - k)] * 2 + [(0, 0)] * 2)
    w = w.reshape(taps, s, taps, s, cin, cout).transpose(0, 2, 4, 1, 3, 5)
    w = w[::-1, ::-1].reshape(taps, taps, cin, s * s * cout)
    pads = [(taps - 1 - m0, hi - n + 1) for n, hi in zip(x.shape[1:3], m1)]
    return _conv_free(x, w, 1, pads)


def _per_phase(x: jax.Array, w: jax.Array, s: int, m0: int, m1: Sequence[int]
               ) -> jax.Array:
    """Same as `_fused_phases`, one correlation per phase with its exact taps (k*k in all)."""
    rows = [hi - m0 + 1 for hi in m1]
    phases = []
    for rh in range(s):
        for rw in range(s):
            taps = w[rh::s, rw::s][::-1, ::-1]
            if taps.size == 0:  # k < s: this phase receives no tap
                phases.append(jnp.zeros((x.shape[0], *rows, w.shape[3]), x.dtype))
                continue
            pads = [(t - 1 - m0, hi - n + 1)
                    for t, n, hi in zip(taps.shape[:2], x.shape[1:3], m1)]
            phases.append(_conv_free(x, taps, 1, pads))
    return jnp.concatenate(phases, axis=-1)


def _scattered_taps(x: jax.Array, w: jax.Array, s: int, m0: int, m1: Sequence[int]
                    ) -> jax.Array:
    """Same as `_fused_phases`: one matmul of every input pixel with all k*k taps, then sums.

    z[i, a, b] = x[i] w[a, b] is the transposed conv's k*k multiply-adds per input pixel
    (no zero taps, no patch copy); phase r then adds, for each of its taps a = s*q + r, the
    block z[., a] shifted by q. The backward is slices of dy and two matmuls with k*k*out
    as K or N. Some taps land in the cropped border (pythae's 4 -> 7 layer: 31%) and it
    still beat both patch forms on every shape measured, but not under vmap (see
    `_phase_function`).
    """
    k, _, cin, cout = w.shape
    batch, h, wd = x.shape[:3]
    # A 2-D matmul: its weight gradient is one plain dot (x's batch dims fold into K).
    z = x.reshape(-1, cin) @ w.transpose(2, 0, 1, 3).reshape(cin, k * k * cout)
    z = lax.split(z.reshape(batch, h, wd, k * k * cout), [cout] * (k * k), axis=3)
    rows = [hi - m0 + 1 for hi in m1]
    phases = []
    for rh in range(s):
        for rw in range(s):
            blocks = [_pad_hw(z[a * k + b], [(a // s - m0, m0 + rows[0] - a // s - h),
                                             (b // s - m0, m0 + rows[1] - b // s - wd)])
                      for a in range(rh, k, s) for b in range(rw, k, s)]
            phases.append(functools.reduce(jnp.add, blocks) if blocks
                          else jnp.zeros((batch, *rows, cout), x.dtype))
    return jnp.concatenate(phases, axis=-1)


def _phase_function(resolved: str, x_shape: Sequence[int], k: int, s: int) -> PhaseFn:
    """How a transposed conv's phases are computed under 'rewrite' or 'matmul'.

    Measured (benchmarks/conv_lowering.py, batch 100, forward + backward): solo,
    `_scattered_taps` beat the patch forms on every layer tried, 1.03x (pythae's 4 -> 7,
    1024 -> 512) to 1.8x (its 7 -> 14) and 2-5x on narrow outputs. Vmapped over 4 members
    with the `:small` DCGAN decoder's widths it was 0.7x of `_fused_phases`, so 'matmul'
    keeps the patch forms.
    """
    if resolved == "rewrite":
        return _scattered_taps
    if k % s != 0 and x_shape[1] * x_shape[2] <= PER_PHASE_MAX_PIXELS:
        return _per_phase
    return _fused_phases


def _conv_transpose2d_rewrite(x: jax.Array, w: jax.Array, s: int, p: int,
                              output_padding: int, phase_fn: PhaseFn) -> jax.Array:
    """Transposed conv as its s*s output phases (phase_fn) + depth-to-space.

    Output pixel o is uncropped pixel o + p = s*m + r. Only m in [p // s, (p + size - 1) // s]
    is computed; interleaving the phases gives uncropped pixels from s*(p // s) on, so the
    result is cropped by p mod s at the start and to `size` at the end.
    """
    k = w.shape[0]
    sizes = [(n - 1) * s - 2 * p + k + output_padding for n in x.shape[1:3]]
    m0, m1 = p // s, [(p + size - 1) // s for size in sizes]
    phases = phase_fn(x, w, s, m0, m1)
    y = _depth_to_space(phases, s)
    start = p - s * m0
    return y[:, start:start + sizes[0], start:start + sizes[1]]


def conv2d(x: jax.Array, w: jax.Array, stride: int = 1, padding: Padding = "SAME",
           lowering: str = "auto") -> jax.Array:
    """Strided 2-D convolution, NHWC x HWIO -> NHWC.

    'rewrite' computes strides > 1 as patches + matmul. 'auto' on CPU does so only where
    XLA's own backward is slow (output smaller than the kernel), because elsewhere XLA's
    conv is as fast and needs no patch copy. Stride 1 stays on XLA's conv, except for
    narrow outputs (`_narrow_output`: shift-and-add) and under 'matmul', which computes every
    stride from matmuls.
    """
    _check_stride(stride)
    pads = explicit_padding(padding, x.shape[1:3], w.shape[0], stride)
    resolved = resolve_lowering(lowering)
    if resolved == "matmul":
        return _conv_free(x, w, stride, pads)
    if resolved == "rewrite" and stride == 1 and _narrow_output(w):
        return _shift_add_conv(x, w, 1, pads)
    rewrite = resolved == "rewrite" and stride > 1
    if rewrite and lowering == "auto":
        out_size = _conv_output_size(x.shape[1:3], pads, w.shape[0], stride)
        rewrite = _xla_backward_is_slow(out_size, w.shape[0])
    if rewrite:
        return _matmul_conv(_pad_hw(x, pads), w, stride)
    return conv2d_xla(x, w, stride, pads)


def conv_transpose2d(x: jax.Array, w: jax.Array, stride: int = 2, padding: int = 0,
                     output_padding: int = 0, lowering: str = "auto") -> jax.Array:
    """Transposed 2-D convolution with PyTorch semantics, NHWC x HWIO -> NHWC.

    XLA:CPU's weight gradient of a strided one is operand-swapped (the dilated input is
    smaller than the output gradient), so on CPU strides > 1 are computed per output phase
    from matmuls (`_phase_function` says which), narrow ones over groups of images
    (BLOCKED_MAX_IN_CHANNELS). Stride 1 is a plain conv with the flipped
    kernel, whose backward XLA runs well: `conv2d` (2x faster than the phases on the
    augmentation VAE's 14x14 64 -> 64 layers, forward + backward).
    """
    _check_stride(stride)
    _check_transpose_args(stride, padding, output_padding)
    resolved = resolve_lowering(lowering)
    if resolved == "xla":
        return conv_transpose2d_xla(x, w, stride, padding, output_padding)
    if resolved == "rewrite" and stride == 1:
        pad = w.shape[0] - 1 - padding
        return conv2d(x, w[::-1, ::-1], 1, [(pad, pad)] * 2, lowering)
    phase_fn = _phase_function(resolved, x.shape, w.shape[0], stride)

    def transposed(images: jax.Array) -> jax.Array:
        return _conv_transpose2d_rewrite(images, w, stride, padding, output_padding, phase_fn)

    batch = x.shape[0]
    if resolved == "rewrite" and x.shape[3] <= BLOCKED_MAX_IN_CHANNELS and batch > BLOCK_IMAGES:
        groups = -(-batch // BLOCK_IMAGES)
        return _in_image_blocks(transposed, x, -(-batch // groups))  # even, <= BLOCK_IMAGES
    return transposed(x)


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
