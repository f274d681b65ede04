"""Stride-1 convolutions by Winograd's minimal filtering (Lavin & Gray, 2016).

Why: a direct k-tap convolution spends k multiply-adds per output along each kernel axis;
F(m, k) computes m outputs from m + k - 1 inputs with m + k - 1 multiplications, so a 1x7
conv with m = 6 needs 2 instead of 7 per output. The multiplications become one batched
matmul over the transform's (m + k - 1)^2 points, and the transforms are cheap sums. On CPU
this beats XLA's own convolution on some of the FID Inception's layers
(benchmarks/inception_layers.py; docs/results.md). The price is round-off: the transforms
grow with m (relative error ~1e-6 for m = 2, ~1e-5 for m = 4-6, float32).

Layouts: images NHWC, kernels HWIO, as in `conv`. Kernel axes of size 1 are left alone, so
1 x k, k x 1 and k x k kernels all work. The function is plain jnp: its gradients are JAX
autodiff of the same algorithm (the transposed transforms).
"""

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

# Interpolation points of the Toom-Cook construction (plus the point at infinity): small
# integers and their reciprocals keep the transforms' entries, and so the round-off, small.
POINTS = (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 1 / 3, -1 / 3, 4.0, -4.0)


@functools.cache
def transforms(m: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A^T [m, a], G [a, k], B^T [a, a]) of F(m, k), a = m + k - 1: for inputs d [a] and
    taps g [k], A^T ((G g) * (B^T d)) is the correlation y[i] = sum_j d[i + j] g[j], i < m.

    A^T evaluates at the points, G interpolates (Lagrange weights); B^T is then the unique
    solution of that identity, found by least squares and checked exact.
    """
    a = m + k - 1
    if not 1 <= a - 1 <= len(POINTS):
        raise ValueError(f"F({m}, {k}) needs {a - 1} points; at most {len(POINTS)} are defined")
    points = POINTS[:a - 1]
    a_t, g = np.zeros((m, a)), np.zeros((a, k))
    for j, p in enumerate(points):
        a_t[:, j] = [p ** i for i in range(m)]
        g[j] = [p ** t / np.prod([p - q for q in points if q != p]) for t in range(k)]
    a_t[m - 1, a - 1] = g[a - 1, k - 1] = 1.0  # the point at infinity
    pairs = [(i, t) for i in range(m) for t in range(k)]
    system = np.stack([a_t[i] * g[:, t] for i, t in pairs])  # [m*k, a]
    target = np.array([[float(col == i + t) for col in range(a)] for i, t in pairs])
    b_t = np.linalg.lstsq(system, target, rcond=None)[0]
    if not np.allclose(system @ b_t, target, atol=1e-9):
        raise ArithmeticError(f"no exact input transform for F({m}, {k})")
    return a_t, g, b_t


def _weighted_sum(coefficients: np.ndarray, terms: Sequence[jax.Array]) -> jax.Array:
    """sum_j c[j] * terms[j], skipping zero coefficients (most of B^T's and A^T's)."""
    out = None
    for c, term in zip(coefficients, terms):
        if c == 0:
            continue
        term = term if c == 1 else -term if c == -1 else term * np.float32(c)
        out = term if out is None else out + term
    return out if out is not None else jnp.zeros_like(terms[0])


def _axis_transforms(m: int, k: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Tile size and transforms along one kernel axis; a 1-tap axis is the identity."""
    if k == 1:
        return 1, np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1))
    return (m,) + transforms(m, k)


def conv2d_winograd(x: jax.Array, w: jax.Array, pads: Sequence[tuple[int, int]],
                    tile: int) -> jax.Array:
    """Stride-1 conv of x [n, h, w, in] with w [kh, kw, in, out], explicit padding, by
    F(tile, kh) x F(tile, kw) over tiles of tile x tile outputs."""
    kh, kw, _, features = w.shape
    x = jnp.pad(x, [(0, 0), tuple(pads[0]), tuple(pads[1]), (0, 0)])
    n, height, width, channels = x.shape
    out_h, out_w = height - kh + 1, width - kw + 1
    (mh, ah_t, gh, bh_t), (mw, aw_t, gw, bw_t) = (_axis_transforms(tile, kh),
                                                  _axis_transforms(tile, kw))
    th, tw = -(-out_h // mh), -(-out_w // mw)  # tiles per axis
    ah, aw = mh + kh - 1, mw + kw - 1  # inputs per tile
    x = jnp.pad(x, [(0, 0), (0, th * mh + kh - 1 - height), (0, tw * mw + kw - 1 - width),
                    (0, 0)])
    tiles = [[x[:, r:r + th * mh:mh, c:c + tw * mw:mw] for c in range(aw)] for r in range(ah)]
    rows = [[_weighted_sum(bh_t[i], [tiles[r][c] for r in range(ah)]) for c in range(aw)]
            for i in range(ah)]
    v = jnp.stack([_weighted_sum(bw_t[j], rows[i]) for i in range(ah) for j in range(aw)])
    u = jnp.einsum("ik,klco,jl->ijco", gh.astype(np.float32), w, gw.astype(np.float32))
    products = jnp.einsum("tpc,tco->tpo", v.reshape(ah * aw, n * th * tw, channels),
                          u.reshape(ah * aw, channels, features))
    products = products.reshape(ah, aw, n, th, tw, features)
    cols = [[_weighted_sum(aw_t[q], [products[i, j] for j in range(aw)]) for q in range(mw)]
            for i in range(ah)]
    y = jnp.stack([jnp.stack([_weighted_sum(ah_t[p], [cols[i][q] for i in range(ah)])
                              for q in range(mw)]) for p in range(mh)])  # [mh, mw, n, th, tw, o]
    y = jnp.transpose(y, (2, 3, 0, 4, 1, 5)).reshape(n, th * mh, tw * mw, features)
    return y[:, :out_h, :out_w]
