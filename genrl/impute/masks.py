"""Seeded missingness masks for benchmarks: MCAR, MAR and MNAR (``True`` = the entry goes missing).

* :func:`mcar`: every entry independently with probability ``rate``.
* :func:`mar`: a random half of the columns stays fully observed; each other column goes missing
  with a logistic probability of a random linear score of the observed columns, its intercept set
  so that the column's expected missing fraction is ``rate`` (as in HyperImpute's and
  Muzellec et al.'s benchmark code). Missingness depends only on values that stay observed.
* :func:`mnar`: each entry goes missing with a logistic probability of its own standardised value
  (self-masking: large values go missing more often), intercept set per column for ``rate``.

All take a complete numeric matrix ``X (N, d)`` and return a boolean ``(N, d)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from genrl.errors import InputError
from genrl.registry import Registry

Mask = Callable[[np.ndarray, float, int], np.ndarray]
MASKS: Registry[Mask] = Registry("missingness mask")


def _check(X: np.ndarray, rate: float) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise InputError(f"masks need a complete, finite 2-D matrix; got shape {X.shape}")
    if not 0.0 < rate < 1.0:
        raise InputError(f"rate must be in (0, 1), got {rate}")
    return X


def _standardise(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)


def _logistic_with_rate(scores: np.ndarray, rate: float) -> np.ndarray:
    """Per column, ``σ(s + b)`` with ``b`` found by bisection so the mean probability is ``rate``."""
    lo, hi = np.full(scores.shape[1], -50.0), np.full(scores.shape[1], 50.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        too_high = (1 / (1 + np.exp(-(scores + mid)))).mean(0) > rate
        hi, lo = np.where(too_high, mid, hi), np.where(too_high, lo, mid)
    return 1 / (1 + np.exp(-(scores + (lo + hi) / 2)))


def mcar(X: np.ndarray, rate: float, seed: int) -> np.ndarray:
    X = _check(X, rate)
    return np.random.default_rng(seed).random(X.shape) < rate


def mar(X: np.ndarray, rate: float, seed: int) -> np.ndarray:
    X = _check(X, rate)
    if X.shape[1] < 2:
        raise InputError("a MAR mask needs at least 2 columns (one stays observed)")
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    observed = rng.permutation(d)[: max(1, d // 2)]
    masked = np.setdiff1d(np.arange(d), observed)
    Z = _standardise(X)[:, observed]
    W = rng.standard_normal((len(observed), len(masked)))
    scores = Z @ W / np.sqrt(len(observed))  # unit-variance scores whatever the number of inputs
    out = np.zeros(X.shape, dtype=bool)
    # A rate over the masked columns of ``rate * d / len(masked)`` keeps the overall fraction at ``rate``.
    out[:, masked] = rng.random((X.shape[0], len(masked))) < _logistic_with_rate(scores, min(0.95, rate * d / len(masked)))
    return out


def mnar(X: np.ndarray, rate: float, seed: int) -> np.ndarray:
    X = _check(X, rate)
    rng = np.random.default_rng(seed)
    return rng.random(X.shape) < _logistic_with_rate(2.0 * _standardise(X), rate)


for _mask in (mcar, mar, mnar):
    MASKS.register(_mask.__name__, _mask)
