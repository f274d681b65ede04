"""Conventional augmentation: random rotations and shifts, as Keras' ImageDataGenerator.

The augmentation paper's AUG condition: rotation_range=20 (degrees) and
width/height_shift_range=0.2 (fractions of the image size), each drawn uniformly per
image; points mapped from outside the image take the nearest edge pixel (Keras'
fill_mode='nearest'); bilinear interpolation. Pure JAX, so it runs inside a jitted
(and vmapped) train step.
"""

import jax
import jax.numpy as jnp
from jax.scipy import ndimage


def affine_warp(image: jax.Array, angle: jax.Array, shift: jax.Array) -> jax.Array:
    """One image [H, W, C] rotated by `angle` radians about its centre and moved by
    `shift` = (rows, columns) pixels: output(p) = input(R^-1 (p - c - shift) + c)."""
    height, width = image.shape[:2]
    rows, cols = jnp.meshgrid(jnp.arange(height, dtype=jnp.float32),
                              jnp.arange(width, dtype=jnp.float32), indexing="ij")
    centre_r, centre_c = (height - 1) / 2.0, (width - 1) / 2.0
    r, c = rows - centre_r - shift[0], cols - centre_c - shift[1]
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    source_r = cos * r + sin * c + centre_r
    source_c = -sin * r + cos * c + centre_c
    channels = [ndimage.map_coordinates(image[..., k], [source_r, source_c], order=1,
                                        mode="nearest") for k in range(image.shape[-1])]
    return jnp.stack(channels, axis=-1)


def random_affine(rng: jax.Array, images: jax.Array, max_rotation_degrees: float,
                  max_shift_fraction: float) -> jax.Array:
    """Images [B, H, W, C], each rotated by U(-max, max) degrees and shifted by
    U(-f, f) * (H, W) pixels, independently per image."""
    angle_rng, shift_rng = jax.random.split(rng)
    batch, height, width = images.shape[:3]
    angles = jnp.deg2rad(max_rotation_degrees) * jax.random.uniform(
        angle_rng, (batch,), minval=-1.0, maxval=1.0)
    shifts = max_shift_fraction * jnp.array([height, width], jnp.float32) * (
        jax.random.uniform(shift_rng, (batch, 2), minval=-1.0, maxval=1.0))
    return jax.vmap(affine_warp)(images, angles, shifts)
