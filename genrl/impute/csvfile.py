"""CSV tables for ``genrl impute``, read and written with the standard library (no pandas needed).

A column is numeric when every non-missing cell is a number, categorical otherwise or when named
in ``categorical``. A column that is nearly all numbers but holds a few other cells is refused,
naming the first such cell: it is far more often a typo than a category. Every complaint names
the column by its header.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import cast

import numpy as np

from genrl.errors import InputError

MISSING = frozenset({"", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "<NA>", "#N/A"})
"""Cells read as missing (pandas' defaults, less the exotic ones)."""


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def read_table(path: Path, categorical: list[str]) -> tuple[list[str], list[list[str]], np.ndarray, list[int]]:
    """-> (header, raw cells by row, table ``(N, C)`` object array with ``None`` for missing cells,
    indices of the categorical columns)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"--csv {path}: cannot read it as a text CSV file ({e})") from None
    if len(rows) < 2:
        raise InputError(f"--csv {path}: needs a header row and at least one data row")
    header, cells = rows[0], rows[1:]
    bad = [i for i, r in enumerate(cells) if len(r) != len(header)]
    if bad:
        raise InputError(f"--csv {path}: line {bad[0] + 2} has {len(cells[bad[0]])} cells, the header {len(header)}")
    unknown = [c for c in categorical if c not in header]
    if unknown:
        raise InputError(f"--categorical names column {unknown[0]!r}, which {path} does not have (columns: {header})")
    table = np.empty((len(cells), len(header)), dtype=object)
    kinds = []
    for j, name in enumerate(header):
        column = [r[j].strip() for r in cells]
        present = [(i, c) for i, c in enumerate(column) if c not in MISSING]
        if not present:
            raise InputError(f"--csv {path}: column {name!r} has no observed entries; drop it before imputing")
        numbers = [_number(c) for _, c in present]
        words = [(i, c) for (i, c), v in zip(present, numbers) if v is None]
        if name in categorical or (present and len(words) > 0.1 * len(present)):
            kinds.append(j)
            table[:, j] = [None if c in MISSING else c for c in column]
            continue
        if words:
            i, c = words[0]
            raise InputError(f"--csv {path}: column {name!r} is numbers but for a few cells, e.g. {c!r} on line {i + 2}; "
                             "fix them, leave them empty (missing) or list the column in --categorical")  # fmt: skip
        values = np.full(len(column), math.nan)
        for (i, c), v in zip(present, numbers):
            if not math.isfinite(cast(float, v)):
                raise InputError(f"--csv {path}: column {name!r} holds {c!r} on line {i + 2}; only finite numbers")
            values[i] = v
        table[:, j] = values
    return header, cells, table, kinds


def write_table(path: Path, header: list[str], cells: list[list[str]], completed: np.ndarray, missing: np.ndarray) -> None:
    """Write the input with its ``missing (N, C)`` cells filled from ``completed``; the other cells
    are copied from the input text unchanged."""
    write_draws(path, header, cells, completed[None], missing, index=False)


def write_draws(path: Path, header: list[str], cells: list[list[str]], draws: np.ndarray, missing: np.ndarray,
                index: bool = True) -> None:  # fmt: skip
    """Write ``draws (m, N, C)`` as one long table, the input once per draw with its missing cells
    filled from that draw, led by an ``imputation`` column (1..m) when ``index``."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["imputation", *header] if index else header)
        for i, completed in enumerate(draws, 1):
            for raw, filled, gaps in zip(cells, completed, missing):
                row = [_cell(v) if gap else c for c, v, gap in zip(raw, filled, gaps)]
                w.writerow([str(i), *row] if index else row)


def _cell(value: object) -> str:
    return f"{value:.8g}" if isinstance(value, float) else str(value)
