"""Reference features of a dataset split, computed once per network and cached as .npy.

A CelebA test split takes minutes through Inception on a CPU, and every evaluation of
every model compares against the same features, so they are cached under
`<cache_dir>/reference_features/<dataset>_<split>_<n>_<data>_<network>.npy`:
- `<data>` is a hash of the images themselves, so a cache is never reused for other
  data (another data_dir, a re-prepared dataset);
- `<network>` names the feature network and carries its weights' hash (NETWORK_ID for
  Inception), so features of another network never get mixed in.
Features, not statistics, are kept: FID needs their mean and covariance, KID the
features themselves. With `n`, the first n images of the split are used (split
order is fixed), so runs agree on them.
"""

import hashlib
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np

from wae_jax.evaluation.features import inception_features
from wae_jax.evaluation.frechet import Statistics, feature_statistics
from wae_jax.evaluation.inception_weights import TORCHSCRIPT_SHA256, default_cache_dir
from wae_jax.files import atomic_file

NETWORK_ID = f"inception2015_{TORCHSCRIPT_SHA256[:8]}"
FeatureFn = Callable[[np.ndarray], np.ndarray]  # uint8 images [N, H, W, C] -> [N, D]


def content_hash(*arrays: np.ndarray) -> str:
    """sha256 (hex) of the arrays' shapes, dtypes and bytes: names data in cache keys."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def features_path(dataset: str, split: str, n: Optional[int], data_hash: str, network_id: str,
                  cache_dir: Optional[Union[str, Path]] = None) -> Path:
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    count = "all" if n is None else str(n)
    return root / "reference_features" / f"{dataset}_{split}_{count}_{data_hash}_{network_id}.npy"


def split_images(dataset: str, split: str, n: Optional[int],
                 data_dir: Optional[str] = None) -> np.ndarray:
    """The first n images (all for None) of a split, uint8, checked against its size."""
    from wae_jax.data import load_arrays  # lazy: evaluation must not need the data stack
    images, _ = load_arrays(dataset, split, data_dir=data_dir)
    if n is not None and not 2 <= n <= len(images):
        raise ValueError(f"n={n}: must lie in [2, {len(images)}] for {dataset}/{split}")
    return images if n is None else images[:n]


def reference_features(dataset: str, split: str = "test", n: Optional[int] = None, *,
                       network_id: str = NETWORK_ID, features: Optional[FeatureFn] = None,
                       cache_dir: Optional[Union[str, Path]] = None,
                       data_dir: Optional[str] = None) -> np.ndarray:
    """float32 [n, D]: `features` (default Inception) of the split's first n images, cached.

    `network_id` must change whenever `features` computes something else.
    """
    images = split_images(dataset, split, n, data_dir)
    path = features_path(dataset, split, n, content_hash(images)[:8], network_id, cache_dir)
    if path.exists():
        return np.load(path)
    extract = features or (lambda x: inception_features(x, batch_size=50))
    values = np.asarray(extract(images), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file.replaced(path, "wb") as f:  # processes may race
        np.save(f, values)
    return values


def reference_statistics(dataset: str, split: str = "test", n: Optional[int] = None, *,
                         cache_dir: Optional[Union[str, Path]] = None,
                         data_dir: Optional[str] = None) -> Statistics:
    """FID statistics of the split's first n images (Inception features, cached)."""
    return feature_statistics(reference_features(dataset, split, n, cache_dir=cache_dir,
                                                 data_dir=data_dir))
