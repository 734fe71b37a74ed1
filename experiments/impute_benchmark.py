"""GANImputer beside the imputers people use, in the same run, on scikit-learn's offline datasets.

For each dataset, missingness setting (MCAR 20/50/80%, MAR 20%, MNAR 20%; ``genrl.impute.MASKS``)
and mask seed: the rows are split 70/30 (stratified where there are labels); every method is fitted
on the masked training rows and imputes them (``fit_transform``) and the masked held-out rows
(``transform``, new rows). One JSON line per (dataset, mask, rate, method, seed):

* ``rmse``: over every masked entry, after min-max scaling by the complete data's column ranges
  (GAIN's metric); ``rmse_new_rows``: the held-out rows' entries alone;
* ``accuracy``: a fixed classifier (standardise + logistic regression) trained on the imputed
  training rows and scored on the imputed held-out rows, for datasets with class labels;
* ``fit_seconds``: fit and impute the training rows, one thread.

Methods: ``mean`` (SimpleImputer), ``knn`` (KNNImputer), ``mice`` (IterativeImputer with
BayesianRidge), ``missforest`` (IterativeImputer with ExtraTreesRegressor), ``gan`` (GANImputer at
its defaults unless ``--gan`` overrides) and its ablations ``gan_reconstruction_only`` and
``gan_holdout0`` (see ``ABLATIONS``). Lines already in ``--out`` are skipped, so a killed run
resumes. Seeds 0-9 are the reported masks; GANImputer's defaults were chosen on seeds 100 and up.

    python experiments/impute_benchmark.py [--datasets breast_cancer wine --seeds 0 1 2]
    python experiments/impute_benchmark.py --plot-only
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
from sklearn import datasets
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (makes IterativeImputer importable)
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from genrl.cli import parse_dataclass
from genrl.impute import MASKS, GANImputer
from genrl.plotting import bar_chart

DATASETS = {
    "breast_cancer": (datasets.load_breast_cancer, True),
    "wine": (datasets.load_wine, True),
    "diabetes": (datasets.load_diabetes, False),
    "digits": (datasets.load_digits, True),
}
ABLATIONS = {"gan": {}, "gan_reconstruction_only": {"hint_rate": 1.0}, "gan_holdout0": {"holdout": 0.0}}
"""GANImputer and two ablations: the hint reveals every entry (no adversarial term), and GAIN's
original reconstruction targets (the entries the generator sees)."""
SETTINGS = [("mcar", 0.2), ("mar", 0.2), ("mnar", 0.2), ("mcar", 0.5), ("mcar", 0.8)]


@dataclass
class Args:
    datasets: list[str] = field(default_factory=lambda: list(DATASETS))
    settings: list[str] = field(default_factory=lambda: [f"{m}:{r}" for m, r in SETTINGS])
    """mask:rate pairs, in the order they run"""
    methods: list[str] = field(default_factory=lambda: ["mean", "knn", "mice", "missforest", "gan"])
    seeds: list[int] = field(default_factory=lambda: list(range(10)))
    gan: str = "{}"
    """GANImputer parameters over its defaults, as JSON (for tuning runs)"""
    out: str = "results/impute_benchmark.jsonl"
    plot_only: bool = False
    """only redraw the figures from --out"""


def make_method(name: str, seed: int, gan: dict[str, Any]) -> Any:
    if name == "mean":
        return SimpleImputer()
    if name == "knn":
        return KNNImputer()
    if name == "mice":
        return IterativeImputer(BayesianRidge(), max_iter=10, random_state=seed)
    if name == "missforest":
        return IterativeImputer(ExtraTreesRegressor(n_estimators=50, n_jobs=1, random_state=seed), max_iter=10,
                                random_state=seed)  # fmt: skip
    if name in ABLATIONS:
        return GANImputer(random_state=seed, device="cpu", **{**gan, **ABLATIONS[name]})
    raise SystemExit(f"unknown method {name!r}")


def evaluate(data: str, kind: str, rate: float, method: str, seed: int, gan: dict[str, Any]) -> dict[str, Any]:
    load, labelled = DATASETS[data]
    X, y = load(return_X_y=True)
    X = X.astype(np.float64)
    mask = MASKS.get(kind)(X, rate, seed)
    rows = np.arange(len(X))
    train, test = train_test_split(rows, test_size=0.3, random_state=seed, stratify=y if labelled else None)
    Xm = np.where(mask, np.nan, X)
    span = X.max(0) - X.min(0)
    span[span == 0] = 1.0
    imputer = make_method(method, seed, gan)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IterativeImputer's convergence warnings
        imputed_train = imputer.fit_transform(Xm[train])
        seconds = time.perf_counter() - t0
        imputed_test = imputer.transform(Xm[test])
    if imputed_train.shape[1] != X.shape[1]:  # scikit-learn imputers drop columns with no observed entry
        raise RuntimeError(f"{method} dropped columns on {data} {kind} {rate} seed {seed}")
    err = lambda imputed, r: ((imputed - X[r]) / span)[mask[r]]  # noqa: E731
    both = np.concatenate([err(imputed_train, train), err(imputed_test, test)])
    row = {"dataset": data, "mask": kind, "rate": rate, "method": method, "seed": seed,
           "rmse": float(np.sqrt(np.mean(both**2))), "rmse_new_rows": float(np.sqrt(np.mean(err(imputed_test, test) ** 2))),
           "fit_seconds": round(seconds, 2)}  # fmt: skip
    if labelled:
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(imputed_train, y[train])
        row["accuracy"] = float(clf.score(imputed_test, y[test]))
    if method in ABLATIONS and gan:
        row["gan"] = gan
    return row


def main(args: Args) -> None:
    torch.set_num_threads(1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    gan = json.loads(args.gan)
    if not args.plot_only:
        key = lambda r: (r["dataset"], r["mask"], r["rate"], r["method"], r["seed"])  # noqa: E731
        done = {key(json.loads(line)) for line in out.read_text().splitlines()} if out.exists() else set()
        for setting in args.settings:
            kind, rate = setting.split(":")[0], float(setting.split(":")[1])
            for data in args.datasets:
                for seed in args.seeds:
                    for method in args.methods:
                        if (data, kind, rate, method, seed) in done:
                            continue
                        row = evaluate(data, kind, rate, method, seed, gan)
                        print(json.dumps(row), flush=True)
                        with out.open("a") as f:
                            f.write(json.dumps(row) + "\n")
    plot(out, args)


def table(rows: list[dict[str, Any]], args: Args, metric: str = "rmse") -> str:
    """Markdown: mean ± std of ``metric`` over masks per (dataset, setting) and method, the best in
    bold, and whether the GAN imputer is best by more than the spread (std over masks) of its
    paired difference to the best other method (lowest RMSE, or highest accuracy)."""
    sign = 1.0 if metric == "rmse" else -1.0  # lower is better for RMSE
    methods = [m for m in args.methods if any(r["method"] == m for r in rows)]
    verdict_title = "GAN lowest by more than the spread" if metric == "rmse" else "GAN highest by more than the spread"
    lines = ["| dataset | setting | masks | " + " | ".join(methods) + f" | {verdict_title} |",
             "|---|---|---|" + "---|" * (len(methods) + 1)]  # fmt: skip
    for data in args.datasets:
        for kind, rate in [(s.split(":")[0], float(s.split(":")[1])) for s in args.settings]:
            here = [r for r in rows if (r["dataset"], r["mask"], r["rate"]) == (data, kind, rate)]
            cell = {m: {r["seed"]: r[metric] for r in here if r["method"] == m and metric in r} for m in methods}
            if not all(cell.values()):
                continue
            seeds = sorted(set.intersection(*(set(v) for v in cell.values())))
            means = {m: float(np.mean([cell[m][s] for s in seeds])) for m in methods}
            best = min(means, key=lambda m: sign * means[m])
            shown = [f"**{means[m]:.4f}**" if m == best else f"{means[m]:.4f}" for m in methods]
            shown = [f"{v} ± {np.std([cell[m][s] for s in seeds]):.4f}" for v, m in zip(shown, methods)]
            verdict = "-"
            if "gan" in means:
                rival = min((m for m in methods if not m.startswith("gan")), key=lambda m: sign * means[m])
                diff = sign * np.array([cell[rival][s] - cell["gan"][s] for s in seeds])
                verdict = f"{'yes' if diff.mean() > diff.std() else 'no'} (vs {rival}: {diff.mean():+.4f} ± {diff.std():.4f})"
            lines.append(f"| {data} | {kind} {int(rate * 100)}% | {len(seeds)} | " + " | ".join(shown) + f" | {verdict} |")
    return "\n".join(lines)


def plot(out: Path, args: Args) -> None:
    """One figure per dataset (mean RMSE per setting and method) and the table on stdout."""
    if not out.exists():
        return
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    print(table(rows, args))
    print(table(rows, args, "accuracy"))
    for data in args.datasets:
        groups = {}
        for kind, rate in [(s.split(":")[0], float(s.split(":")[1])) for s in args.settings]:
            cells = {m: [r["rmse"] for r in rows if (r["dataset"], r["mask"], r["rate"], r["method"]) == (data, kind, rate, m)]
                     for m in args.methods}  # fmt: skip
            if any(cells.values()):
                groups[f"{kind} {int(rate * 100)}%"] = {m: float(np.mean(v)) if v else 0.0 for m, v in cells.items()}
        if groups:
            label = "RMSE, masked entries (lower: better)"
            bar_chart(groups, out.with_name(f"{out.stem}_{data}.png"), label, data)


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
