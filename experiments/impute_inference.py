"""Inference after multiple imputation: does the pooled confidence interval cover the true coefficient?

The table is ``genrl.impute.SYNTHETIC["linear"]`` (1,000 rows; y = x₁ − 0.5·x₂ + 0.25·x₃ + ε, its
five x columns correlated 0.5), a new table per mask seed. Each mask is MAR 30% (``genrl.impute.MASKS``);
each method draws ``--draws`` completed tables, the regression of y on the x (``genrl.impute.ols``)
is fitted on each and pooled with Rubin's rules (``genrl.impute.pool``, Barnard–Rubin degrees of
freedom). One JSON line per (method, seed): the pooled estimate of x₁'s coefficient (truth 1.0), its
95% interval, whether it covers the truth, its width and the fraction of missing information.
Methods are ``experiments/impute_benchmark.py``'s (``mice``: ``sample_posterior=True`` fits;
``miceforest``; ``gan``: GANImputer's defaults), fitted on every row. Lines already in ``--out``
are skipped, so a killed run resumes.

    python experiments/impute_inference.py [--methods gan mice miceforest --seeds 0 1 ...]
    python experiments/impute_inference.py --plot-only
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from impute_benchmark import impute

from genrl.cli import parse_dataclass
from genrl.impute import MASKS, SYNTHETIC, ols, pool
from genrl.impute.synthetic import LINEAR_COEFFICIENTS

ROWS = 1000
TARGET = len(LINEAR_COEFFICIENTS)  # y is the last column


@dataclass
class Args:
    methods: list[str] = field(default_factory=lambda: ["gan", "mice", "miceforest"])
    seeds: list[int] = field(default_factory=lambda: list(range(50)))
    rate: float = 0.3
    draws: int = 20
    out: str = "results/impute_inference.jsonl"
    plot_only: bool = False
    """only print the table from --out"""


def evaluate(method: str, seed: int, rate: float, draws: int) -> dict[str, Any]:
    X = SYNTHETIC.get("linear")(ROWS, seed)
    Xm = np.where(MASKS.get("mar")(X, rate, seed), np.nan, X)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = impute(method, seed, draws, {}, Xm, Xm[:0])["draws"]
    pooled = pool(tables, ols(TARGET), complete_df=ROWS - TARGET - 1)
    lo, hi = pooled.ci(0.95)
    truth = float(LINEAR_COEFFICIENTS[0])
    return {"method": method, "seed": seed, "mask": "mar", "rate": rate, "draws": len(tables),
            "estimate": float(pooled.estimate[1]), "lower": float(lo[1]), "upper": float(hi[1]),
            "covers": bool(lo[1] <= truth <= hi[1]), "width": float(hi[1] - lo[1]),
            "missing_information": float(pooled.missing_information[1]),
            "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| method | masks | coverage of the 95% interval | mean width | mean estimate (truth 1.0) |",
             "|---|---|---|---|---|"]  # fmt: skip
    for method in dict.fromkeys(r["method"] for r in rows):
        here = [r for r in rows if r["method"] == method]
        covers, width, estimate = (np.mean([r[k] for r in here]) for k in ("covers", "width", "estimate"))
        lines.append(f"| {method} | {len(here)} | {covers:.3f} | {width:.4f} | {estimate:.4f} |")
    return "\n".join(lines)


def main(args: Args) -> None:
    torch.set_num_threads(1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not args.plot_only:
        done = {(r["method"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())} if out.exists() else set()
        for seed in args.seeds:
            for method in args.methods:
                if (method, seed) not in done:
                    row = evaluate(method, seed, args.rate, args.draws)
                    print(json.dumps(row), flush=True)
                    with out.open("a") as f:
                        f.write(json.dumps(row) + "\n")
    if out.exists():
        print(table([json.loads(line) for line in out.read_text().splitlines()]))


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
