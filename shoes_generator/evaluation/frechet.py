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


def frechet_from_moments(mu_a: np.ndarray, cov_a: np.ndarray, mu_b: np.ndarray, cov_b: np.ndarray, eps: float = 1e-6) -> float:
    """``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` of two Gaussians given by their moments.

    Args:
        mu_a: ``[D]`` mean of the first set.
        cov_a: ``[D, D]`` covariance of the first set.
        mu_b: ``[D]`` mean of the second set.
        cov_b: ``[D, D]`` covariance of the second set.
        eps: added to both covariances' diagonals when the square root of
            their product is not finite (near-singular, e.g. N <= D).

    Raises:
        ValueError: mismatched shapes, or no finite square root even after regularization.
    """
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    cov_a, cov_b = np.atleast_2d(np.asarray(cov_a, np.float64)), np.atleast_2d(np.asarray(cov_b, np.float64))
    dim = mu_a.shape[0] if mu_a.ndim == 1 else -1
    if mu_b.shape != (dim,) or cov_a.shape != (dim, dim) or cov_b.shape != (dim, dim):
        raise ValueError(
            f"Need means [D] and covariances [D, D] of the same D. "
            f"Received: shapes {mu_a.shape}, {cov_a.shape}, {mu_b.shape}, {cov_b.shape}"
        )
    root = _sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():
        eye = np.eye(dim) * eps
        root = _sqrtm((cov_a + eye) @ (cov_b + eye))
        if not np.isfinite(root).all():
            finite = all(np.isfinite(m).all() for m in (mu_a, cov_a, mu_b, cov_b))
            raise ValueError(
                f"The covariance product has no finite square root even with eps={eps} on the diagonals. "
                f"Received: D={dim}, finite moments: {finite}"
            )
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * np.real(root)))


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
    try:
        return frechet_from_moments(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False), eps)
    except ValueError as error:
        finite = np.isfinite(a).all() and np.isfinite(b).all()
        raise ValueError(f"{error}; feature shapes {a.shape} and {b.shape}, finite features: {finite}") from error
