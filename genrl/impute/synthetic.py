"""Synthetic tables whose conditionals are known, for scoring imputers' draws against the truth.

Each maker takes ``(n, seed)`` and returns a complete float64 table ``(n, d)``; every one is built
so that imputing the conditional mean is wrong in its own way:

* :func:`rings`: two independent noisy rings of radius 2, columns (x₁, x₂) and (x₃, x₄) (noise sd
  0.1). A missing x₂ given x₁ is **bimodal**, ±√(4 − x₁²): the mean (about 0) lies where no row does.
* :func:`mixture_regression`: x₁, x₂, x₃ standard normal; y = s·(1.5 + x₁ + 0.5·x₂) + 0.3·ε with a
  hidden fair sign s. A missing y given the x is a **two-line mixture**; the mean is near 0.
* :func:`heteroscedastic`: x₁ uniform on [−2, 2], x₂, x₃ standard normal; y = x₁ + 0.5·x₂ +
  (0.1 + 0.6·|x₁|)·ε. The mean is right, but the spread of a missing y **grows with |x₁|**, so
  one interval width for every row covers too much near 0 and too little at the ends.
* :func:`linear`: five correlated normal columns (pairwise correlation 0.5) and
  y = x₁ − 0.5·x₂ + 0.25·x₃ + ε (the coefficients in :data:`LINEAR_COEFFICIENTS`), the test bed
  for inference after imputation (the coefficient of x₁ is known).

:data:`SYNTHETIC` registers them by name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from genrl.registry import Registry

Maker = Callable[[int, int], np.ndarray]
SYNTHETIC: Registry[Maker] = Registry("synthetic table")
LINEAR_COEFFICIENTS = np.array([1.0, -0.5, 0.25, 0.0, 0.0])
"""y's true coefficients on x₁..x₅ in :func:`linear` (intercept 0, noise sd 1)."""


def _ring(rng: np.random.Generator, n: int) -> np.ndarray:
    theta = rng.uniform(0, 2 * np.pi, n)
    return 2.0 * np.stack([np.cos(theta), np.sin(theta)], 1) + 0.1 * rng.standard_normal((n, 2))


def rings(n: int = 2000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([_ring(rng, n), _ring(rng, n)], 1)


def mixture_regression(n: int = 2000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    sign = rng.choice([-1.0, 1.0], n)
    y = sign * (1.5 + x[:, 0] + 0.5 * x[:, 1]) + 0.3 * rng.standard_normal(n)
    return np.column_stack([x, y])


def heteroscedastic(n: int = 2000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(-2, 2, n)
    x = np.column_stack([x1, rng.standard_normal((n, 2))])
    y = x1 + 0.5 * x[:, 1] + (0.1 + 0.6 * np.abs(x1)) * rng.standard_normal(n)
    return np.column_stack([x, y])


def linear(n: int = 1000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = len(LINEAR_COEFFICIENTS)
    cov = np.full((d, d), 0.5) + 0.5 * np.eye(d)
    x = rng.multivariate_normal(np.zeros(d), cov, n)
    return np.column_stack([x, x @ LINEAR_COEFFICIENTS + rng.standard_normal(n)])


for _maker in (rings, mixture_regression, heteroscedastic, linear):
    SYNTHETIC.register(_maker.__name__, _maker)
