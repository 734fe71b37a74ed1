"""Scores of an imputer's draws against the true values of the masked entries (pure NumPy).

Both take ``draws (m, N, d)`` (m completed copies of a table, or ``(1, N, d)`` for an imputer
that gives one value), the complete ``truth (N, d)`` and the boolean ``mask (N, d)`` of the
entries that were missing, and score only those entries.
"""

from __future__ import annotations

import numpy as np


def crps(draws: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of each masked entry ``(mask.sum(),)``; lower is better.

    The fair estimator from m draws: mean|Xᵢ − y| − Σᵢ≠ⱼ|Xᵢ − Xⱼ| / (2m(m−1)); it is the energy score
    in one dimension (strictly proper) and, for one draw (a point mass), the absolute error.
    """
    x = np.sort(np.asarray(draws, dtype=np.float64)[:, mask], axis=0)  # (m, K)
    y = np.asarray(truth, dtype=np.float64)[mask]
    m = x.shape[0]
    to_truth = np.abs(x - y).mean(0)
    if m == 1:
        return to_truth
    # Σᵢⱼ |xᵢ − xⱼ| over sorted draws is 2 Σᵢ (2i − m + 1) x₍ᵢ₎ (0-based i).
    pairs = 2.0 * ((2 * np.arange(m) - m + 1)[:, None] * x).sum(0)
    return to_truth - pairs / (2 * m * (m - 1))


def interval_coverage(draws: np.ndarray, truth: np.ndarray, mask: np.ndarray, level: float = 0.9) -> float:
    """Share of masked entries whose true value lies in the draws' ``level`` prediction interval.

    From m draws the interval runs from the i-th to the j-th smallest, i = ⌊(m + 1)(1 − level)/2⌋
    and j = m + 1 − i (clipped to [1, m]): if the truth is exchangeable with the draws (the draws are
    calibrated) it falls inside with probability (j − i)/(m + 1), which is ``level`` or just above
    (20 draws at 90%: the smallest to the largest, 19/21 = 0.905). Empirical quantiles of m draws
    would cover less than ``level`` even when calibrated (about 0.81 for 20 draws at 0.9). A point
    mass covers only an exact hit."""
    x = np.sort(np.asarray(draws, dtype=np.float64)[:, mask], axis=0)
    m = x.shape[0]
    i = min(max(int(np.floor((m + 1) * (1 - level) / 2)), 1), m)
    lo, hi = x[i - 1], x[m - i]
    y = np.asarray(truth, dtype=np.float64)[mask]
    return float(((y >= lo) & (y <= hi)).mean())


def nominal_coverage(m: int, level: float = 0.9) -> float:
    """The probability that :func:`interval_coverage`'s interval from ``m`` calibrated draws covers
    the truth: (j − i)/(m + 1)."""
    i = min(max(int(np.floor((m + 1) * (1 - level) / 2)), 1), m)
    return (m + 1 - 2 * i) / (m + 1)
