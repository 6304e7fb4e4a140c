"""Frechet distance between two sets of feature vectors (the FID formula on any features)."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    """`scipy.linalg.sqrtm` without its singular / ill-conditioned warning (callers check finiteness)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        return linalg.sqrtm(matrix)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray, eps: float = 1e-6) -> float:
    """``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` of two ``[N, D]`` feature sets.

    Args:
        features_a: features of the first set (e.g. generated shoes).
        features_b: features of the second set (e.g. real test shoes).
        eps: added to both covariances' diagonals when the square root of
            their product is not finite (near-singular, e.g. N <= D).

    Raises:
        ValueError: fewer than two rows, different feature sizes, or no finite
            square root even after regularization.
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"Need two [N>=2, D] feature sets of the same D. Received: shapes {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = _sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():
        eye = np.eye(len(cov_a)) * eps
        root = _sqrtm((cov_a + eye) @ (cov_b + eye))
        if not np.isfinite(root).all():
            raise ValueError(
                f"The covariance product has no finite square root even with eps={eps} on the diagonals. "
                f"Received: shapes {a.shape} and {b.shape}, finite features: {np.isfinite(a).all() and np.isfinite(b).all()}"
            )
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * np.real(root)))
