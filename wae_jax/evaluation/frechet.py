"""Frechet distance between Gaussian fits of feature sets, and FID on images.

FID = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}).
The usual code takes `scipy.linalg.sqrtm(S1 @ S2)`, a non-symmetric Schur-based root
that needs an eps * I retry for singular covariances (fewer samples than the 2048
feature dimensions) and discards spurious imaginary parts. Here the trace term comes
from symmetric eigendecompositions and one SVD instead (`trace_sqrt_product`): real by
construction, no offset, exact to rounding when the sets coincide, at a cost similar
to sqrtm's (~20-30 s at 2048 dimensions on 2 busy cores). The only rounding artefacts
are tiny negative eigenvalues of the covariances; they are clipped to zero, and clearly
negative ones (inputs that are not covariances) raise instead.
"""

from pathlib import Path
from typing import NamedTuple, Optional, Union

import numpy as np

from wae_jax.evaluation.features import inception_features
from wae_jax.files import atomic_file

# Eigenvalues below -NEG_EIG_TOL * (largest |eigenvalue|) mean "not a covariance matrix".
NEG_EIG_TOL = 1e-6
SYMMETRY_TOL = 1e-6


class Statistics(NamedTuple):
    """Gaussian fit of a feature set: mean [D], covariance [D, D] (ddof=1), count."""
    mu: np.ndarray
    sigma: np.ndarray
    n: int


def feature_statistics(features: np.ndarray) -> Statistics:
    """Mean and unbiased covariance in float64 (float32 loses digits in the trace)."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features: need [N >= 2, D], got shape {features.shape}")
    return Statistics(features.mean(0), np.cov(features, rowvar=False), features.shape[0])


def _check_covariance(sigma: np.ndarray, dim: int, name: str) -> np.ndarray:
    sigma = np.asarray(sigma, np.float64)
    if sigma.shape != (dim, dim) or not np.all(np.isfinite(sigma)):
        raise ValueError(f"{name}: need a finite [{dim}, {dim}] matrix, got shape {sigma.shape}")
    scale = max(np.abs(sigma).max(), np.finfo(np.float64).tiny)
    if np.abs(sigma - sigma.T).max() > SYMMETRY_TOL * scale:
        raise ValueError(f"{name}: not symmetric; pass a covariance matrix")
    return (sigma + sigma.T) / 2


def _nonnegative(eigenvalues: np.ndarray, name: str) -> np.ndarray:
    if eigenvalues.min() < -NEG_EIG_TOL * max(np.abs(eigenvalues).max(), 1e-300):
        raise ValueError(f"{name}: eigenvalue {eigenvalues.min():.3g} < 0; "
                         "not a positive semi-definite covariance")
    return np.clip(eigenvalues, 0.0, None)


def psd_sqrt(sigma: np.ndarray, name: str) -> np.ndarray:
    """Symmetric square root of a PSD matrix via its eigendecomposition."""
    w, v = np.linalg.eigh(sigma)
    return (v * np.sqrt(_nonnegative(w, name))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((sigma1 sigma2)^{1/2}) = nuclear norm of sigma1^{1/2} sigma2^{1/2}.

    (A^{1/2} B^{1/2})(A^{1/2} B^{1/2})^T = A^{1/2} B A^{1/2}, whose eigenvalues are those
    of AB, so the singular values are their square roots. Summing singular values
    rather than square roots of eigenvalues keeps rounding noise in the null space
    (fewer samples than dimensions) at ~1e-16 relative instead of ~1e-8.
    """
    product = psd_sqrt(sigma1, "sigma1") @ psd_sqrt(sigma2, "sigma2")
    return float(np.linalg.svd(product, compute_uv=False).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray,
                     mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Squared 2-Wasserstein distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(f"mu1, mu2: need equal [D] vectors, got {mu1.shape} and {mu2.shape}")
    sigma1 = _check_covariance(sigma1, mu1.shape[0], "sigma1")
    sigma2 = _check_covariance(sigma2, mu1.shape[0], "sigma2")
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
                 - 2.0 * trace_sqrt_product(sigma1, sigma2))


def save_statistics(path: Union[str, Path], stats: Statistics) -> None:
    """An .npz at `path` exactly as given, replaced whole: reference statistics are shared
    by the runs that read them."""
    with atomic_file.replaced(path, "wb") as f:
        np.savez(f, mu=stats.mu, sigma=stats.sigma, n=stats.n)


def load_statistics(path: Union[str, Path]) -> Statistics:
    with np.load(path) as data:
        missing = {"mu", "sigma", "n"} - set(data.files)
        if missing:
            raise ValueError(f"statistics file {path}: missing {sorted(missing)}")
        return Statistics(data["mu"], data["sigma"], int(data["n"]))


ImagesOrStatistics = Union[np.ndarray, Statistics]


def inception_statistics(images: ImagesOrStatistics, *, batch_size: int = 50,
                         params: Optional[dict] = None) -> Statistics:
    """Statistics of the images' Inception features (statistics pass through)."""
    if isinstance(images, Statistics):
        return images
    return feature_statistics(inception_features(images, batch_size=batch_size, params=params))


def fid(generated: ImagesOrStatistics, reference: ImagesOrStatistics, *,
        batch_size: int = 50, params: Optional[dict] = None) -> float:
    """FID between two image sets, either of which may be given as cached Statistics.

    Comparable with published numbers only with the default weights and enough
    samples (the WAE paper used 10,000): the estimator is biased upwards for small N.
    """
    s1 = inception_statistics(generated, batch_size=batch_size, params=params)
    s2 = inception_statistics(reference, batch_size=batch_size, params=params)
    return frechet_distance(s1.mu, s1.sigma, s2.mu, s2.sigma)
