"""Tables with missing entries <-> the numeric matrix the imputation game is played on.

Numeric columns are standardised by the mean and standard deviation of their observed entries;
categorical columns become one-hot blocks (a missing category is a whole missing block). Every
complaint names the column, so a user can find the bad cell.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from genrl.errors import InputError


@dataclass
class Column:
    """One input column: its name, kind, standardisation and, if categorical, its categories and
    the slice ``[start, start + width)`` it occupies in the encoded matrix."""

    name: str
    categorical: bool
    start: int
    width: int = 1
    mean: float = 0.0
    std: float = 1.0
    categories: list[Any] = field(default_factory=list)


def _is_missing(values: np.ndarray) -> np.ndarray:
    """Missing markers of an object column: None, NaN and pandas' NA/NaT."""
    out = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v is None:
            out[i] = True
        else:
            try:
                out[i] = bool(v != v)  # NaN, pd.NA-like
            except (TypeError, ValueError):  # pd.NA's comparison is ambiguous: it is missing
                out[i] = True
    return out


def _numeric(values: np.ndarray, name: str) -> np.ndarray:
    """A column as float64 with NaN for missing entries; refuses non-numeric values and infinities."""
    if values.dtype.kind in "biuf":
        out = values.astype(np.float64)
    else:
        missing = _is_missing(values)
        out = np.full(len(values), np.nan)
        for i in np.flatnonzero(~missing):
            v = values[i]
            try:
                if isinstance(v, (str, bytes)):
                    raise ValueError
                out[i] = float(v)
            except (TypeError, ValueError):
                raise InputError(
                    f"column {name} is numeric but row {i} holds {v!r}; list the column in categorical_features "
                    "if it is categorical"
                ) from None
    if np.isinf(out).any():
        row = int(np.flatnonzero(np.isinf(out))[0])
        raise InputError(f"column {name} holds an infinite value (row {row}); only finite numbers or NaN for missing")
    return out


class TableEncoder:
    """Fitted on a table ``(N, C)`` (any dtype; object for mixed columns) and the indices of its
    categorical columns; maps tables to ``(values (N, D) float32, observed (N, D) bool)`` and back."""

    def __init__(self, names: list[str], categorical: set[int]) -> None:
        self.names, self.categorical = names, categorical
        self.columns: list[Column] = []

    @property
    def width(self) -> int:
        """Columns of the encoded matrix, D."""
        return sum(c.width for c in self.columns)

    def entry_columns(self) -> np.ndarray:
        """``(D,)`` the input column of each encoded entry."""
        return np.concatenate([np.full(c.width, j) for j, c in enumerate(self.columns)])

    def categorical_blocks(self) -> list[tuple[int, int]]:
        """``[start, stop)`` of each one-hot block."""
        return [(c.start, c.start + c.width) for c in self.columns if c.categorical]

    def fit(self, X: np.ndarray) -> TableEncoder:
        start = 0
        for j, name in enumerate(self.names):
            col = X[:, j]
            if j in self.categorical:
                observed = col[~_is_missing(col)]
                if not len(observed):
                    raise InputError(f"column {name} has no observed entries; drop it before imputing")
                categories = sorted(set(observed.tolist()), key=lambda v: (str(type(v)), str(v)))
                self.columns.append(Column(name, True, start, len(categories), categories=categories))
            else:
                values = _numeric(col, name)
                observed = values[~np.isnan(values)]
                if not len(observed):
                    raise InputError(f"column {name} has no observed entries; drop it before imputing")
                std = float(observed.std())
                self.columns.append(Column(name, False, start, mean=float(observed.mean()), std=std if std > 0 else 1.0))
            start += self.columns[-1].width
        return self

    def encode(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Table ``(N, C)`` -> standardised values ``(N, D)`` (0 where missing) and observed mask ``(N, D)``."""
        n = X.shape[0]
        values = np.zeros((n, self.width), dtype=np.float32)
        observed = np.zeros((n, self.width), dtype=bool)
        for c, col in zip(self.columns, X.T):
            block = slice(c.start, c.start + c.width)
            if c.categorical:
                missing = _is_missing(col)
                index = {v: k for k, v in enumerate(c.categories)}
                for i in np.flatnonzero(~missing):
                    k = index.get(col[i])
                    if k is None:
                        raise InputError(f"column {c.name} holds category {col[i]!r} (row {i}), not seen in fit")
                    values[i, c.start + k] = 1.0
                observed[:, block] = ~missing[:, None]
            else:
                v = _numeric(col, c.name)
                seen = ~np.isnan(v)
                values[seen, c.start] = (v[seen] - c.mean) / c.std
                observed[:, c.start] = seen
        return values, observed

    def decode(self, values: np.ndarray, uniforms: np.ndarray | None = None) -> np.ndarray:
        """Encoded values ``(N, D)`` -> a table ``(N, C)``: float64, or object when any column is
        categorical. A categorical block gives its most probable category, or with ``uniforms``
        ``(N, n_categorical)`` (one per categorical column, in order) a category drawn from the
        block's probabilities by inverting their cumulative sum."""
        cat = any(c.categorical for c in self.columns)
        out = np.empty((values.shape[0], len(self.columns)), dtype=object if cat else np.float64)
        n_cat = 0
        for j, c in enumerate(self.columns):
            block = values[:, c.start : c.start + c.width]
            if c.categorical:
                if uniforms is None:
                    chosen = block.argmax(1)
                else:
                    cdf = np.cumsum(np.clip(block, 0, None), 1)
                    cdf /= np.where(cdf[:, -1:] > 0, cdf[:, -1:], 1.0)
                    chosen = np.minimum((cdf < uniforms[:, n_cat, None]).sum(1), c.width - 1)
                    n_cat += 1
                out[:, j] = np.asarray(c.categories, dtype=object)[chosen]
            else:
                out[:, j] = block[:, 0].astype(np.float64) * c.std + c.mean
        return out

    def state(self) -> dict[str, Any]:
        """JSON-ready description (categories as plain Python values) for checkpoints."""
        columns = [{**asdict(c), "categories": [v.item() if isinstance(v, np.generic) else v for v in c.categories]}
                   for c in self.columns]  # fmt: skip
        return {"names": self.names, "categorical": sorted(self.categorical), "columns": columns}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TableEncoder:
        enc = cls(list(state["names"]), set(state["categorical"]))
        enc.columns = [Column(**c) for c in state["columns"]]
        return enc
