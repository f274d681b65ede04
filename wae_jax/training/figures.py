"""Image grids of reconstructions, prior samples and latent interpolations, as PNG.

Pure numpy on host-side arrays; the model calls that produce the images live in
steps.py. Grids are written with Pillow (no matplotlib) and returned as uint8
arrays so that the same pixels go to the PNG files and to TensorBoard.
`figure_grids` lays out the three figures for the trainer and for wae_jax.evaluate alike.
"""

import math
import os

import numpy as np
from PIL import Image

from wae_jax.files import atomic_file

PAD = 2  # Pixels of white between tiles, so that dark digits stay separable.
NUM_PAIRS = 8  # interpolation rows
NUM_INTERPOLATION_STEPS = 10  # images per interpolation row, ends included


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8, clipped, rounded half up."""
    return (np.clip(np.asarray(images, np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def data_to_unit(images: np.ndarray, value_range: str) -> np.ndarray:
    """Input-pipeline pixels ("unit" [0, 1] or "symmetric" [-1, 1]) -> [0, 1]."""
    images = np.asarray(images, np.float32)
    return (images + 1.0) / 2.0 if value_range == "symmetric" else images


def grid(images: np.ndarray, columns: int) -> np.ndarray:
    """Tiles [N, H, W, C] images (values in [0, 1]) row-major into a uint8 [rows*H, cols*W, C]."""
    if images.ndim != 4:
        raise ValueError(f"images must be [N, H, W, C], got shape {images.shape}")
    n, h, w, c = images.shape
    rows = -(-n // columns)
    canvas = np.full((rows * (h + PAD) + PAD, columns * (w + PAD) + PAD, c), 255, np.uint8)
    tiles = to_uint8(images)
    for i in range(n):
        r, col = divmod(i, columns)
        top, left = PAD + r * (h + PAD), PAD + col * (w + PAD)
        canvas[top:top + h, left:left + w] = tiles[i]
    return canvas


def interleave(originals: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """[o0, r0, o1, r1, ...] so that each original sits left of its reconstruction."""
    stacked = np.stack([originals, reconstructions], axis=1)
    return stacked.reshape((-1,) + originals.shape[1:])


def interpolation_latents(z_start: np.ndarray, z_end: np.ndarray, num: int) -> np.ndarray:
    """[P, z] x [P, z] -> [P * num, z]: `num` evenly spaced points per pair, ends included."""
    t = np.linspace(0.0, 1.0, num, dtype=np.float32)[None, :, None]
    path = (1.0 - t) * z_start[:, None, :] + t * z_end[:, None, :]
    return path.reshape(-1, z_start.shape[-1])


def interpolation_path(codes: np.ndarray) -> np.ndarray:
    """[P * NUM_INTERPOLATION_STEPS, z]: from code 2i to code 2i + 1, for P <= NUM_PAIRS rows."""
    pairs = min(NUM_PAIRS, len(codes) // 2)
    return interpolation_latents(codes[0:2 * pairs:2], codes[1:2 * pairs:2],
                                 NUM_INTERPOLATION_STEPS)


def figure_grids(originals: np.ndarray, reconstructions: np.ndarray, samples: np.ndarray,
                 interpolations: np.ndarray) -> dict[str, np.ndarray]:
    """The three figures as uint8 grids; all inputs are [N, H, W, C] in [0, 1].

    Samples fill a square-ish grid; each original sits left of its reconstruction in
    rows twice as wide; each interpolation row is one `interpolation_path` pair.
    """
    columns = max(1, int(math.sqrt(len(samples))))
    return {
        "reconstructions": grid(interleave(originals, reconstructions), 2 * columns),
        "samples": grid(samples, columns),
        "interpolations": grid(interpolations, NUM_INTERPOLATION_STEPS),
    }


def save_png(path: str, image: np.ndarray) -> None:
    """Writes a uint8 [H, W, 1|3] array; single-channel images become greyscale PNGs."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    array = image[..., 0] if image.shape[-1] == 1 else image
    with atomic_file.replaced(path, "wb") as f:
        Image.fromarray(array).save(f, format="PNG")
