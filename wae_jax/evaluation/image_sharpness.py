"""Image sharpness as in the WAE paper: variance of the Laplace-filtered greyscale image.

Blurry samples (a VAE's hallmark) have little high-frequency energy, so the variance of
the Laplacian response is small. Protocol, stated because values depend on each choice:
- pixel range [0, 1] (uint8 / 255); values scale with the square of the range, so
  numbers computed on [-1, 1] images are 4x these;
- greyscale = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as tf.image.rgb_to_grayscale);
- filter [[0, 1, 0], [1, -4, 1], [0, 1, 0]] as a VALID convolution (no padding, so the
  border does not add artificial edges): (H-2) x (W-2) responses per image;
- population variance (ddof=0) of those responses, one value per image.
The paper averages over images; the official code logged the minimum, so
`sharpness_summary` reports both.
"""

import numpy as np

from wae_jax.evaluation import images as image_checks

GREY_WEIGHTS = np.array([0.299, 0.587, 0.114])


def greyscale(images: np.ndarray) -> np.ndarray:
    """[N, H, W, 1|3] in [0, 1] -> [N, H, W] float64."""
    if images.shape[-1] == 1:
        return images[..., 0]
    return images @ GREY_WEIGHTS


def laplace_valid(grey: np.ndarray) -> np.ndarray:
    """5-point Laplacian of [N, H, W] on the interior: [N, H-2, W-2]."""
    return (grey[:, :-2, 1:-1] + grey[:, 2:, 1:-1] + grey[:, 1:-1, :-2] + grey[:, 1:-1, 2:]
            - 4.0 * grey[:, 1:-1, 1:-1])


def sharpness(images: np.ndarray) -> np.ndarray:
    """Per-image sharpness [N] (float64) of uint8 images or floats in [0, 1]."""
    grey = greyscale(image_checks.to_unit_float(images))
    if min(grey.shape[1:]) < 3:
        raise ValueError(f"images: need at least 3x3 pixels, got {grey.shape[1:]}")
    response = laplace_valid(grey)
    return response.reshape(response.shape[0], -1).var(axis=1)


def sharpness_summary(images: np.ndarray) -> dict[str, float]:
    """Mean (the paper's number) and minimum (the official code's log) over images."""
    values = sharpness(images)
    return {"sharpness_mean": float(values.mean()), "sharpness_min": float(values.min())}
