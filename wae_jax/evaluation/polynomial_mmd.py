"""Kernel Inception Distance (Binkowski et al., "Demystifying MMD GANs", 2018).

KID is the unbiased estimate of the squared MMD between feature sets under the cubic
polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets. Unlike FID
it is unbiased, so values from different sample sizes can be compared; the subset
spread gives an error bar.
"""

from typing import Optional

import numpy as np

from wae_jax.evaluation.features import inception_features


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3,
                      gamma: Optional[float] = None, coef0: float = 1.0) -> np.ndarray:
    """(gamma x.y + coef0)^degree, gamma = 1 / dim by default."""
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * (x @ y.T) + coef0) ** degree


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """U-statistic: within-set sums skip the diagonal, the cross term keeps all pairs."""
    m, n = x.shape[0], y.shape[0]
    kxx = polynomial_kernel(x, x)
    kyy = polynomial_kernel(y, y)
    kxy = polynomial_kernel(x, y)
    within_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * kxy.mean())


def kernel_distance(features1: np.ndarray, features2: np.ndarray, *, num_subsets: int = 100,
                    subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """(mean, std) over `num_subsets` draws of `subset_size` rows (no replacement) per set."""
    f1 = np.asarray(features1, np.float64)
    f2 = np.asarray(features2, np.float64)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError(f"features: need [N, D] and [M, D], got {f1.shape} and {f2.shape}")
    if not 2 <= subset_size <= min(f1.shape[0], f2.shape[0]):
        raise ValueError(f"subset_size={subset_size}: must lie in [2, {min(len(f1), len(f2))}]"
                         " (the smaller set's size)")
    if num_subsets < 1:
        raise ValueError(f"num_subsets={num_subsets}: must be positive")
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(f1[rng.choice(len(f1), subset_size, replace=False)],
                            f2[rng.choice(len(f2), subset_size, replace=False)])
              for _ in range(num_subsets)]
    return float(np.mean(values)), float(np.std(values))


def kid(generated: np.ndarray, reference: np.ndarray, *, num_subsets: int = 100,
        subset_size: int = 1000, seed: int = 0, batch_size: int = 50,
        params: Optional[dict] = None) -> tuple[float, float]:
    """KID (mean, std) between two image sets (uint8, or floats in [0, 1])."""
    f1 = inception_features(generated, batch_size=batch_size, params=params)
    f2 = inception_features(reference, batch_size=batch_size, params=params)
    return kernel_distance(f1, f2, num_subsets=num_subsets, subset_size=subset_size, seed=seed)
