"""Distances between sample sets: energy distance, RBF MMD², Fréchet distance of Gaussian fits."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from genrl.errors import InputError
from genrl.validation import as_float_tensor


def _pair(x: np.ndarray | Tensor, y: np.ndarray | Tensor, min_rows: int = 1) -> tuple[Tensor, Tensor]:
    """Two sample sets -> float64 ``(n, k)`` and ``(m, k)``, refusing non-finite data and differing features."""
    x, y = as_float_tensor(x, "x", dtype=torch.float64), as_float_tensor(y, "y", dtype=torch.float64)
    if x.shape[1:] != y.shape[1:]:
        raise InputError(f"x and y must have the same sample shape, got {tuple(x.shape[1:])} and {tuple(y.shape[1:])}")
    if len(x) < min_rows or len(y) < min_rows:
        raise InputError(f"need at least {min_rows} samples in each set, got {len(x)} and {len(y)}")
    # Sets on different devices meet on x's.
    return x.reshape(len(x), -1), y.reshape(len(y), -1).to(x.device)


def energy_distance(x: np.ndarray | Tensor, y: np.ndarray | Tensor) -> float:
    """Energy distance ``2E||X-Y|| - E||X-X'|| - E||Y-Y'||`` (U-statistics within each set).

    Zero in expectation when the two distributions are equal; ``x (n, ...)``, ``y (m, ...)``.
    """
    x, y = _pair(x, y)
    n, m = len(x), len(y)
    xy = torch.cdist(x, y).mean()
    xx = torch.cdist(x, x).sum() / (n * (n - 1)) if n > 1 else x.new_zeros(())
    yy = torch.cdist(y, y).sum() / (m * (m - 1)) if m > 1 else y.new_zeros(())
    return float(2 * xy - xx - yy)


def mmd_rbf(x: np.ndarray | Tensor, y: np.ndarray | Tensor, bandwidth: float | None = None) -> float:
    """Unbiased Gaussian-RBF MMD²; the bandwidth defaults to the median pairwise distance."""
    x, y = _pair(x, y, min_rows=2)
    z = torch.cat([x, y])
    d2 = torch.cdist(z, z).pow(2)
    if bandwidth is None:
        bandwidth = float(d2[d2 > 0].median().sqrt()) if (d2 > 0).any() else 1.0
    k = torch.exp(-d2 / (2 * bandwidth**2))
    n, m = len(x), len(y)
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    return float(
        (kxx.sum() - kxx.diag().sum()) / (n * (n - 1)) + (kyy.sum() - kyy.diag().sum()) / (m * (m - 1)) - 2 * kxy.mean()
    )


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """``||μ1-μ2||² + tr(Σ1 + Σ2 - 2(Σ1 Σ2)^½)`` between two Gaussians.

    ``tr (Σ1 Σ2)^½`` is computed as ``tr (Σ1^½ Σ2 Σ1^½)^½`` from symmetric eigendecompositions,
    which stays real and stable for singular covariances.
    """
    w, v = np.linalg.eigh(np.asarray(sigma1, dtype=np.float64))
    s1_half = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(s1_half @ np.asarray(sigma2, dtype=np.float64) @ s1_half)
    tr_covmean = np.sqrt(np.clip(inner, 0, None)).sum()
    diff = np.asarray(mu1, dtype=np.float64) - np.asarray(mu2, dtype=np.float64)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


def frechet_distance_features(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two feature sets ``(n, k)`` and ``(m, k)``, n, m >= 2."""
    a, b = (t.cpu().numpy() for t in _pair(f1, f2, min_rows=2))
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))  # 2-D for one feature too
    return frechet_distance(a.mean(0), cov_a, b.mean(0), cov_b)
