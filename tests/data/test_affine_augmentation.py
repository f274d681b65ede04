"""Conventional augmentation on synthetic images, against numpy rotations and rolls."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wae_jax.data.affine_augmentation import affine_warp, random_affine

SIZE = 28
CENTRE = (SIZE - 1) / 2


def asymmetric_image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((SIZE, SIZE, 1)).astype(np.float32)


def dot(row: int, col: int) -> np.ndarray:
    """A 2x2 bright square whose centre is (row + 0.5, col + 0.5)."""
    image = np.zeros((SIZE, SIZE, 1), np.float32)
    image[row:row + 2, col:col + 2] = 1.0
    return image


def test_quarter_turn_is_numpys_rot90():
    image = asymmetric_image()
    turned = affine_warp(jnp.asarray(image), jnp.deg2rad(90.0), jnp.zeros(2))
    rot90 = np.rot90(image, k=1, axes=(0, 1))  # counter-clockwise as displayed
    np.testing.assert_allclose(turned, rot90, atol=1e-5)


@pytest.mark.parametrize("shift", [(3, 0), (0, -5), (2, 4)])
def test_integer_shift_is_a_roll_with_edge_fill(shift):
    image = asymmetric_image(1)
    moved = np.asarray(affine_warp(jnp.asarray(image), jnp.zeros(()),
                                   jnp.asarray(shift, jnp.float32)))
    padded = np.pad(image, ((abs(shift[0]),) * 2, (abs(shift[1]),) * 2, (0, 0)), mode="edge")
    rows = np.arange(SIZE) - shift[0] + abs(shift[0])
    cols = np.arange(SIZE) - shift[1] + abs(shift[1])
    np.testing.assert_allclose(moved, padded[rows][:, cols], atol=1e-6)


def centroid(images: np.ndarray) -> np.ndarray:
    """[N, 2] intensity centroids (row, col) of [N, H, W, 1] images."""
    weights = images[..., 0]
    rows, cols = np.meshgrid(np.arange(SIZE), np.arange(SIZE), indexing="ij")
    total = weights.sum((1, 2))
    return np.stack([(weights * rows).sum((1, 2)) / total,
                     (weights * cols).sum((1, 2)) / total], axis=1)


def test_random_rotations_stay_within_20_degrees_and_use_the_range():
    images = jnp.asarray(np.stack([dot(4, 13)] * 400))  # centred 9 pixels above the centre
    out = np.asarray(random_affine(jax.random.PRNGKey(0), images, 20.0, 0.0))
    row, col = (centroid(out) - CENTRE).T
    angles = np.degrees(np.arctan2(col, -row))  # 0 = straight up
    assert np.abs(angles).max() <= 20.0 + 0.5  # bilinear resampling moves the centroid a bit
    assert np.abs(angles).max() > 18.0 and angles.min() < 0 < angles.max()


def test_random_shifts_stay_within_20_percent_and_use_the_range():
    images = jnp.asarray(np.stack([dot(13, 13)] * 400))
    out = np.asarray(random_affine(jax.random.PRNGKey(1), images, 0.0, 0.2))
    moves = centroid(out) - CENTRE
    limit = 0.2 * SIZE  # 5.6 pixels per axis
    assert np.abs(moves).max() <= limit + 1e-4
    assert (np.abs(moves).max(0) > 0.9 * limit).all()
    assert (moves.min(0) < 0).all() and (moves.max(0) > 0).all()
