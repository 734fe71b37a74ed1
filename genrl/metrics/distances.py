"""Distances between sample sets: energy distance, RBF MMD², Fréchet distance of Gaussian fits."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from genrl.errors import InputError


def _t(x: np.ndarray | Tensor) -> Tensor:
    return torch.as_tensor(x, dtype=torch.float64).flatten(1) if not isinstance(x, Tensor) else x.double().flatten(1)


def energy_distance(x: np.ndarray | Tensor, y: np.ndarray | Tensor) -> float:
    """Energy distance ``2E||X-Y|| - E||X-X'|| - E||Y-Y'||`` (U-statistics within each set).

    Zero in expectation when the two distributions are equal; ``x (n, ...)``, ``y (m, ...)``.
    """
    x, y = _t(x), _t(y)
    n, m = len(x), len(y)
    xy = torch.cdist(x, y).mean()
    xx = torch.cdist(x, x).sum() / (n * (n - 1)) if n > 1 else x.new_zeros(())
    yy = torch.cdist(y, y).sum() / (m * (m - 1)) if m > 1 else y.new_zeros(())
    return float(2 * xy - xx - yy)


def mmd_rbf(x: np.ndarray | Tensor, y: np.ndarray | Tensor, bandwidth: float | None = None) -> float:
    """Unbiased Gaussian-RBF MMD²; the bandwidth defaults to the median pairwise distance."""
    x, y = _t(x), _t(y)
    if len(x) < 2 or len(y) < 2:
        raise InputError("mmd_rbf needs at least 2 samples in each set")
    z = torch.cat([x, y])
    d2 = torch.cdist(z, z).pow(2)
    if bandwidth is None:
        bandwidth = float(d2[d2 > 0].median().sqrt()) if (d2 > 0).any() else 1.0
    k = torch.exp(-d2 / (2 * bandwidth**2))
    n, m = len(x), len(y)
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    return float(
        (kxx.sum() - kxx.diag().sum()) / (n * (n - 1))
        + (kyy.sum() - kyy.diag().sum()) / (m * (m - 1))
        - 2 * kxy.mean()
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
    """Fréchet distance between Gaussian fits of two feature sets ``(n, k)`` and ``(m, k)``."""
    return frechet_distance(f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False))
