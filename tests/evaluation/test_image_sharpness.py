"""Sharpness against scipy.ndimage.laplace and PIL's greyscale conversion."""

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from wae_jax.evaluation import image_sharpness


def test_matches_scipy_laplace_on_the_valid_region():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (3, 9, 11, 1))
    expected = [ndimage.laplace(img[..., 0])[1:-1, 1:-1].var() for img in images]
    np.testing.assert_allclose(image_sharpness.sharpness(images), expected, rtol=1e-12)


def test_rgb_uses_bt601_weights_like_pil():
    rgb = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 3), np.uint8)
    pil = np.stack([np.asarray(Image.fromarray(img).convert("L")) for img in rgb])
    grey = image_sharpness.greyscale(rgb / 255.0) * 255
    np.testing.assert_allclose(grey, pil, atol=0.5 + 1e-9)  # PIL rounds to integers
    expected = [ndimage.laplace(g)[1:-1, 1:-1].var() for g in grey / 255.0]
    np.testing.assert_allclose(image_sharpness.sharpness(rgb), expected, rtol=1e-9)


def test_known_values():
    flat = np.full((1, 6, 6, 1), 0.3)
    checker = (np.indices((6, 6)).sum(0) % 2).astype(np.float64)[None, ..., None]
    # Interior responses of a 0/1 checkerboard are +4 (on 0) and -4 (on 1): variance 16.
    np.testing.assert_allclose(image_sharpness.sharpness(np.concatenate([flat, checker])),
                               [0.0, 16.0])
    np.testing.assert_allclose(image_sharpness.sharpness((checker * 255).astype(np.uint8)), 16.0)


def test_summary_reports_mean_and_min():
    images = np.random.default_rng(2).uniform(0, 1, (5, 8, 8, 3))
    values = image_sharpness.sharpness(images)
    summary = image_sharpness.sharpness_summary(images)
    assert summary == {"sharpness_mean": pytest.approx(values.mean()),
                       "sharpness_min": pytest.approx(values.min())}


def test_refuses_symmetric_range_and_tiny_images():
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        image_sharpness.sharpness(np.full((1, 8, 8, 1), -0.5))
    with pytest.raises(ValueError, match="3x3"):
        image_sharpness.sharpness(np.zeros((1, 2, 8, 1)))
