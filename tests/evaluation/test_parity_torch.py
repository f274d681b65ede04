"""Parity of the Flax port with torch.jit.load(default_1.pt) on the same images.

Needs the optional torch install and the weights already on disk ($WAE_JAX_FID_WEIGHTS
or <cache>/default_1.pt, e.g. from a first `load_inception_params()`); nothing is
downloaded here.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wae_jax.evaluation import features, frechet, inception_weights

torch = pytest.importorskip("torch", reason="torch is an optional extra: pip install torch")
WEIGHTS = Path(os.environ.get(inception_weights.WEIGHTS_ENV)
               or inception_weights.default_cache_dir() / inception_weights.TORCHSCRIPT_NAME)
pytestmark = pytest.mark.skipif(not WEIGHTS.is_file(),
                                reason=f"FID weights not on disk at {WEIGHTS}; run "
                                "wae_jax.evaluation.load_inception_params() once")


def smooth_images(seed: int, n: int, brightness: float) -> np.ndarray:
    """Natural-ish 64x64 RGB images: upsampled 6x6 noise plus fine grain."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        coarse = rng.uniform(0, 255 * brightness, (6, 6, 3)).astype(np.uint8)
        img = np.asarray(Image.fromarray(coarse).resize((64, 64), Image.BICUBIC), np.float64)
        out.append(np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8))
    return np.stack(out)


@pytest.fixture(scope="module")
def networks():
    params = inception_weights.load_inception_params(WEIGHTS)
    module = torch.jit.load(str(WEIGHTS), map_location="cpu").eval()

    def torch_features(images: np.ndarray) -> np.ndarray:
        x = np.asarray(features.inception_input(images)).transpose(0, 3, 1, 2)
        with torch.inference_mode():
            return module(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    return params, torch_features


@pytest.mark.slow
def test_features_and_fid_match_torch(networks):
    params, torch_features = networks
    set_a, set_b = smooth_images(0, 6, 1.0), smooth_images(1, 6, 0.7)
    ours = features.inception_features(np.concatenate([set_a, set_b]), batch_size=6,
                                       params=params)
    theirs = np.concatenate([torch_features(set_a), torch_features(set_b)])
    normwise = np.abs(ours - theirs).max() / np.abs(theirs).max()
    significant = np.abs(theirs) > 1e-2 * np.abs(theirs).max()
    elementwise = (np.abs(ours - theirs)[significant] / np.abs(theirs)[significant]).max()
    fid_ours = frechet.fid(frechet.feature_statistics(ours[:6]),
                           frechet.feature_statistics(ours[6:]))
    fid_theirs = frechet.fid(frechet.feature_statistics(theirs[:6]),
                             frechet.feature_statistics(theirs[6:]))
    print(f"\nmax|diff|/max|f| = {normwise:.2e}, max elementwise rel. err = {elementwise:.2e}, "
          f"FID flax {fid_ours:.6f} torch {fid_theirs:.6f} diff {fid_ours - fid_theirs:.2e}")
    assert normwise < 1e-5
    assert elementwise < 1e-3
    assert fid_ours > 1.0 and abs(fid_ours - fid_theirs) < 1e-3
    assert abs(frechet.fid(set_a, set_a, batch_size=6, params=params)) < 1e-6


def test_resize_matches_torch_emulation_of_tf_legacy_bilinear():
    # grid_sample(align_corners=False) samples x = ((g + 1) W - 1) / 2; shifting the
    # identity grid by 1/W - 1/W' gives x = i W / W', TF1's legacy source coordinate.
    images = smooth_images(2, 3, 1.0).astype(np.float32)
    n, h, w, _ = images.shape
    theta = torch.tensor([[1.0, 0.0, 1.0 / w - 1.0 / 299], [0.0, 1.0, 1.0 / h - 1.0 / 299]])
    grid = torch.nn.functional.affine_grid(theta.expand(n, 2, 3), [n, 3, 299, 299],
                                           align_corners=False)
    x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
    ref = torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="border",
                                          align_corners=False).numpy().transpose(0, 2, 3, 1)
    ours = np.asarray(features.resize_bilinear_tf(images, 299))
    np.testing.assert_allclose(ours, ref, atol=2e-3)  # 255-scale values, float32 grids
