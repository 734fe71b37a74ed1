"""Datasets: the PacGAN 2-D Gaussian mixtures and sklearn's 8x8 digits (embedded, no download)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genrl.errors import InputError


@dataclass(frozen=True)
class Mixture:
    """An equal-weight isotropic Gaussian mixture.

    :param centers: ``(K, d)`` mode means.
    :param sigma: the common standard deviation.
    """

    name: str
    centers: np.ndarray
    sigma: float

    def sample(self, n: int, seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` samples ``(n, d)`` float32 and their mode indices ``(n,)``."""
        rng = np.random.default_rng(seed)
        modes = rng.integers(len(self.centers), size=n)
        x = self.centers[modes] + self.sigma * rng.standard_normal((n, self.centers.shape[1]))
        return x.astype(np.float32), modes


def ring8() -> Mixture:
    """8 Gaussians with means on the unit circle, σ = 0.01 (PacGAN)."""
    angles = 2 * np.pi * np.arange(8) / 8
    return Mixture("ring8", np.stack([np.cos(angles), np.sin(angles)], 1), 0.01)


def grid25() -> Mixture:
    """25 Gaussians with means at {-4, -2, 0, 2, 4}², σ = 0.05 (PacGAN)."""
    g = np.arange(-4, 5, 2, dtype=np.float64)
    return Mixture("grid25", np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2), 0.05)


MIXTURES = {"ring8": ring8, "grid25": grid25}


def get_mixture(name: str) -> Mixture:
    if name not in MIXTURES:
        raise InputError(f"unknown mixture {name!r}; choose one of {sorted(MIXTURES)}")
    return MIXTURES[name]()


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """sklearn's digits as images ``(1797, 1, 8, 8)`` scaled to [-1, 1], and labels ``(1797,)``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 8.0 - 1.0)[:, None]
    return x, d.target.astype(np.int64)
