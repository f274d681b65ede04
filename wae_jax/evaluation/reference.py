"""Reference FID statistics of a dataset split, computed once and cached as .npz.

A CelebA test split takes minutes through Inception on a CPU, and every evaluation of
every model compares against the same numbers, so they are cached under
`<cache_dir>/fid_stats/<dataset>_<split>_<n>_<network>.npz`. The network id carries
the weights' hash: statistics of another network never get mixed in. With `n`, the
first n images of the split are used (split order is fixed), so runs agree on them.
"""

from pathlib import Path
from typing import Optional, Union

from wae_jax.evaluation.features import inception_features
from wae_jax.evaluation.frechet import Statistics, feature_statistics, load_statistics, save_statistics
from wae_jax.evaluation.inception_weights import TORCHSCRIPT_SHA256, default_cache_dir

NETWORK_ID = f"inception2015_{TORCHSCRIPT_SHA256[:8]}"


def statistics_path(dataset: str, split: str, n: Optional[int],
                    cache_dir: Optional[Union[str, Path]] = None) -> Path:
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    count = "all" if n is None else str(n)
    return root / "fid_stats" / f"{dataset}_{split}_{count}_{NETWORK_ID}.npz"


def reference_statistics(dataset: str, split: str = "test", n: Optional[int] = None, *,
                         cache_dir: Optional[Union[str, Path]] = None,
                         data_dir: Optional[str] = None, batch_size: int = 50) -> Statistics:
    """Inception statistics of `wae_jax.data.load_arrays(dataset, split)[:n]`, cached."""
    path = statistics_path(dataset, split, n, cache_dir)
    if path.exists():
        return load_statistics(path)
    from wae_jax.data import load_arrays  # lazy: evaluation must not need the data stack
    images, _ = load_arrays(dataset, split, data_dir=data_dir)
    if n is not None:
        if not 2 <= n <= len(images):
            raise ValueError(f"n={n}: must lie in [2, {len(images)}] for {dataset}/{split}")
        images = images[:n]
    stats = feature_statistics(inception_features(images, batch_size=batch_size))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    save_statistics(tmp, stats)
    tmp.replace(path)
    return stats
