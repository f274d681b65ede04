"""Winograd convolutions against independent references.

The transforms are checked in float64 against numpy's correlation; the convolution against
a float64 loop over taps (values) and XLA's own convolution (input and kernel gradients).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from tests.fast_compilation import jit as fast_jit
from wae_jax.models import winograd

DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")


@pytest.mark.parametrize("m,k", [(2, 3), (4, 3), (6, 3), (2, 5), (4, 7), (6, 7), (2, 2), (6, 1)])
def test_transforms_compute_the_correlation(m, k):
    a_t, g, b_t = winograd.transforms(m, k)
    assert a_t.shape == (m, m + k - 1) and g.shape == (m + k - 1, k)
    rng = np.random.default_rng(m * 10 + k)
    for _ in range(3):
        d, taps = rng.normal(size=m + k - 1), rng.normal(size=k)
        np.testing.assert_allclose(a_t @ ((g @ taps) * (b_t @ d)),
                                   np.correlate(d, taps, mode="valid"), rtol=1e-9, atol=1e-9)


def test_transforms_refuse_more_points_than_defined():
    with pytest.raises(ValueError, match="points"):
        winograd.transforms(12, 7)


def _conv_reference(x: np.ndarray, w: np.ndarray, pads) -> np.ndarray:
    """float64 stride-1 correlation as a loop over taps."""
    x = np.pad(x.astype(np.float64), [(0, 0), pads[0], pads[1], (0, 0)])
    kh, kw = w.shape[:2]
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    return sum(x[:, a:a + oh, b:b + ow] @ w[a, b].astype(np.float64)
               for a in range(kh) for b in range(kw))


CASES = [  # kernel (kh, kw), pads, tile; sizes below are not multiples of the tiles
    ((3, 3), ((1, 1), (1, 1)), 2),
    ((3, 3), ((0, 0), (0, 0)), 4),
    ((3, 3), ((1, 1), (1, 1)), 6),
    ((1, 7), ((0, 0), (3, 3)), 6),
    ((7, 1), ((3, 3), (0, 0)), 4),
    ((5, 5), ((2, 2), (2, 2)), 2),
    ((1, 3), ((0, 0), (1, 1)), 6),
    ((3, 2), ((2, 0), (0, 1)), 4),
]


@pytest.mark.parametrize("kernel,pads,tile", CASES)
def test_conv_equals_a_loop_over_taps(kernel, pads, tile):
    rng = np.random.default_rng(tile)
    x = rng.normal(size=(2, 11, 13, 5)).astype(np.float32)
    w = (rng.normal(size=(*kernel, 5, 3)) / np.sqrt(np.prod(kernel) * 5)).astype(np.float32)
    got = np.asarray(fast_jit(winograd.conv2d_winograd, static_argnums=(2, 3))(
        x, w, pads, tile))
    ref = _conv_reference(x, w, pads)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got / np.abs(ref).max(), ref / np.abs(ref).max(), atol=2e-5)


@pytest.mark.parametrize("kernel,pads,tile", CASES[::2])
def test_gradients_equal_xla(kernel, pads, tile):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 9, 10, 4)).astype(np.float32)
    w = (rng.normal(size=(*kernel, 4, 3)) / np.sqrt(np.prod(kernel) * 4)).astype(np.float32)
    cotangent = rng.normal(size=_conv_reference(x, w, pads).shape).astype(np.float32)

    def xla(x, w):
        return lax.conv_general_dilated(x, w, (1, 1), pads, dimension_numbers=DIMENSION_NUMBERS,
                                        precision=lax.Precision.HIGHEST)

    @fast_jit
    def gradients(x, w, cotangent):
        def vjp(conv):
            return jax.vjp(conv, x, w)[1](cotangent)
        return vjp(lambda x, w: winograd.conv2d_winograd(x, w, pads, tile)), vjp(xla)

    ours, reference = gradients(x, w, cotangent)
    for got, ref in zip(ours, reference):
        scale = float(jnp.abs(ref).max())
        np.testing.assert_allclose(got / scale, ref / scale, atol=2e-5)
