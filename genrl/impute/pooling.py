"""Multiple imputation's last step: analyse each completed table, pool with Rubin's rules.

    draws = GANImputer(n_imputations=20).fit(X).transform_draws(X)     # (m, N, d)
    pooled = pool(draws, ols(target=5))                                # y = column 5 on the others
    pooled.estimate, pooled.ci(0.95)

:func:`rubin` is Rubin's (1987) rules for m estimates ``Q̂ᵢ`` with variances ``Uᵢ``: the pooled
estimate ``Q̄ = mean Q̂ᵢ``, within-imputation variance ``Ū = mean Uᵢ``, between-imputation variance
``B = var(Q̂ᵢ)`` (ddof 1), total ``T = Ū + (1 + 1/m) B``, and the t reference distribution's degrees
of freedom ``ν = (m − 1)(1 + Ū / ((1 + 1/m) B))²`` (van Buuren, *Flexible Imputation of Missing
Data*, 2nd ed., §2.3). The Barnard–Rubin small-sample correction is applied when the complete-data
degrees of freedom are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from sklearn.base import clone

from genrl.errors import InputError

Analysis = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""A completed table ``(N, d)`` -> (estimates ``(p,)``, their sampling variances ``(p,)``)."""


@dataclass(frozen=True)
class Pooled:
    """Rubin's rules' result; every field is ``(p,)``, one entry per estimated quantity."""

    estimate: np.ndarray
    within: np.ndarray
    between: np.ndarray
    total: np.ndarray
    df: np.ndarray
    m: int

    @property
    def std_error(self) -> np.ndarray:
        return np.sqrt(self.total)

    @property
    def missing_information(self) -> np.ndarray:
        """The fraction of missing information λ = (1 + 1/m) B / T."""
        return (1 + 1 / self.m) * self.between / np.where(self.total > 0, self.total, 1.0)

    def ci(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """The ``level`` confidence interval ``Q̄ ± t_ν √T``: (lower ``(p,)``, upper ``(p,)``)."""
        half = stats.t.ppf((1 + level) / 2, self.df) * self.std_error
        return self.estimate - half, self.estimate + half


def rubin(estimates: Any, variances: Any, complete_df: float | None = None) -> Pooled:
    """Pool ``estimates`` and ``variances`` ``(m, p)`` (or ``(m,)``) from m >= 2 completed tables.

    :param complete_df: the analysis' degrees of freedom without missing data (e.g. N − p for a
        regression); given, ν is Barnard & Rubin's (1999) small-sample form, never above it.
    """
    q = np.asarray(estimates, dtype=np.float64)
    u = np.asarray(variances, dtype=np.float64)
    q, u = (q[:, None], u[:, None]) if q.ndim == 1 else (q, u)
    if q.shape != u.shape or q.ndim != 2:
        raise InputError(f"estimates and variances must have the same shape (m, p); got {q.shape} and {u.shape}")
    m = q.shape[0]
    if m < 2:
        raise InputError(f"Rubin's rules need at least 2 imputations, got {m}")
    if not (np.isfinite(q).all() and np.isfinite(u).all() and (u >= 0).all()):
        raise InputError("estimates must be finite and variances finite and >= 0")
    within, between = u.mean(0), q.var(0, ddof=1)
    total = within + (1 + 1 / m) * between
    lam = np.where(total > 0, (1 + 1 / m) * between / np.where(total > 0, total, 1.0), 0.0)
    with np.errstate(divide="ignore"):
        df = np.where(lam > 0, (m - 1) / np.maximum(lam, 1e-300) ** 2, np.inf)
    if complete_df is not None:
        observed = (complete_df + 1) / (complete_df + 3) * complete_df * (1 - lam)
        df = np.where(np.isinf(df), observed, 1 / (1 / df + 1 / observed))
    return Pooled(q.mean(0), within, between, total, df, m)


def pool(draws: Sequence[np.ndarray] | np.ndarray, analysis: Analysis, complete_df: float | None = None) -> Pooled:
    """Run ``analysis`` on each completed table of ``draws`` ``(m, N, d)`` and pool with :func:`rubin`."""
    fits = [analysis(np.asarray(t)) for t in draws]
    return rubin([f[0] for f in fits], [f[1] for f in fits], complete_df)


def ols(target: int) -> Analysis:
    """Least squares of column ``target`` on the other columns and an intercept: estimates
    ``(d,)`` = (intercept, the other columns' coefficients in order) and their classical variances
    σ̂²(XᵀX)⁻¹ (σ̂² with N − d degrees of freedom, the ``complete_df`` to pass on)."""

    def fit(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(table, dtype=np.float64)
        y = t[:, target]
        X = np.column_stack([np.ones(len(t)), np.delete(t, target, axis=1)])
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ beta
        sigma2 = resid @ resid / (len(t) - X.shape[1])
        return beta, sigma2 * np.diag(np.linalg.pinv(X.T @ X))

    return fit


def fit_each(estimator: Any, draws: Sequence[np.ndarray] | np.ndarray, y: Any = None) -> list[Any]:
    """A fitted clone of a scikit-learn ``estimator`` per completed table of ``draws``; average their
    predictions, or pool their coefficients with :func:`rubin` where their variances are known."""
    return [clone(estimator).fit(np.asarray(t), y) for t in draws]
