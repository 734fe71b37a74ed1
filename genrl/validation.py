"""Checks at public entry points: turn arrays into tensors or fail with an error naming the problem."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from genrl.errors import InputError


def _numeric_array(x: Any, name: str) -> np.ndarray:
    """Array-like -> numpy array of numbers or bools in native byte order (torch refuses the other)."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as e:
        raise InputError(f"{name} is not array-like: {e}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"{name} must be numeric, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))


def as_float_tensor(
    x: Any, name: str, feature_shape: Sequence[int] | None = None, dtype: torch.dtype = torch.float32
) -> Tensor:
    """Array-like ``(N, *feature_shape)`` -> float tensor (``dtype``); refuses empty, misshapen or non-finite data."""
    if isinstance(x, Tensor):
        t = x.detach()
    else:
        t = torch.from_numpy(_numeric_array(x, name))
    if t.is_complex():
        raise InputError(f"{name} must be real-valued, got dtype {t.dtype}")
    if t.dim() == 0 or t.shape[0] == 0:
        raise InputError(f"{name} is empty (shape {tuple(t.shape)}); at least one row is needed")
    if feature_shape is not None and tuple(t.shape[1:]) != tuple(feature_shape):
        raise InputError(f"{name} must have shape (N, {', '.join(map(str, feature_shape))}), got {tuple(t.shape)}")
    t = t.to(dtype)
    bad = ~torch.isfinite(t)
    if bad.any():
        row = int(bad.reshape(t.shape[0], -1).any(1).nonzero()[0, 0])
        raise InputError(f"{name} contains NaN or inf ({int(bad.sum())} values; first in row {row})")
    return t


def as_label_tensor(y: Any, name: str, n: int, n_classes: int | None = None, allow_unlabeled: bool = False) -> Tensor:
    """Integer labels ``(n,)`` in ``[0, n_classes)`` (or -1 when ``allow_unlabeled``) -> int64 tensor."""
    if isinstance(y, Tensor):  # numpy has no bfloat16: floats go through float64, which holds every label exactly
        t = y.detach().cpu()
        arr = (t.double() if t.is_floating_point() else t).numpy()
    else:
        try:
            arr = np.asarray(y)
        except (ValueError, TypeError) as e:
            raise InputError(f"{name} is not array-like: {e}") from None
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InputError(f"{name} must have shape ({n},) to match the data, got {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise InputError(f"{name} must hold whole-number class labels")
    elif arr.dtype.kind not in "iub":
        raise InputError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    low = -1 if allow_unlabeled else 0
    if arr.size and (arr.min() < low or (n_classes is not None and arr.max() >= n_classes)):
        hi = f"{n_classes - 1}" if n_classes is not None else "inf"
        raise InputError(f"{name} has labels outside [{low}, {hi}]: min {arr.min()}, max {arr.max()}")
    return torch.from_numpy(arr)


def as_array(x: Any, name: str, dtype: type, row_shape: tuple[int, ...] = (), n: int | None = None) -> np.ndarray:
    """Array-like of real numbers -> numpy ``(N, *row_shape)`` array of ``dtype`` (-1 in ``row_shape``: any size).

    Refuses empty data and, when ``n`` is given, any other number of rows.
    """
    arr = _numeric_array(x, name)
    if arr.dtype.kind == "c":
        raise InputError(f"{name} must be real-valued, got dtype {arr.dtype}")
    rows = len(arr) if arr.ndim else 0
    if n is not None and rows != n:
        raise InputError(f"{name} has {rows} rows, expected {n}")
    if rows == 0:
        raise InputError(f"{name} is empty (shape {arr.shape}); at least one row is needed")
    try:
        return arr.astype(dtype, copy=False).reshape(rows, *row_shape)
    except ValueError:
        raise InputError(f"{name} must have rows of shape {row_shape} (-1: any size), got shape {arr.shape}") from None


def check_count(n: Any, name: str, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (a count of samples, draws or steps)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)
