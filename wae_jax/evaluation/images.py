"""The image convention shared by every metric: NHWC, 1 or 3 channels, and either
uint8 in [0, 255] or floating point in [0, 1].

Checking the range catches the common mistake of passing tanh outputs in [-1, 1]:
the metrics would run and return plausible but wrong numbers.
"""

import numpy as np

RANGE_SLACK = 1e-3  # float rounding tolerated outside [0, 1] before the range is refused


def check_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    """Validates the convention and returns the images as a numpy array."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"{name}: expected [N, H, W, C] with C in (1, 3), got {images.shape}")
    if images.shape[0] == 0:
        raise ValueError(f"{name}: empty batch; pass at least one image")
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"{name}: dtype {images.dtype}; use uint8 in [0, 255] or floats in [0, 1]")
    lo, hi = float(images.min()), float(images.max())
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -RANGE_SLACK or hi > 1 + RANGE_SLACK:
        raise ValueError(f"{name}: float values span [{lo:.3g}, {hi:.3g}], need [0, 1] "
                         f"(map [-1, 1] images with (x + 1) / 2)")
    return images


def to_uint8(images: np.ndarray, name: str = "images") -> np.ndarray:
    """8-bit images, as they would be saved to PNG: floats are clipped and rounded.

    FID is defined on 8-bit images in the reference implementations; quantising here
    makes float and uint8 inputs of the same picture give the same features.
    """
    images = check_images(images, name)
    if images.dtype == np.uint8:
        return images
    return np.rint(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_unit_float(images: np.ndarray, name: str = "images") -> np.ndarray:
    """float64 images in [0, 1] (uint8 divided by 255; floats clipped, not rounded)."""
    images = check_images(images, name)
    if images.dtype == np.uint8:
        return images.astype(np.float64) / 255.0
    return np.clip(images.astype(np.float64), 0.0, 1.0)
