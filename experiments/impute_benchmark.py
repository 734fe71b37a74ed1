"""GANImputer beside the imputers people use, in the same run: point error and the calibration of draws.

For each dataset, missingness setting (MCAR, MAR, MNAR at 20%; ``genrl.impute.MASKS``; MCAR 50/80%
on request) and mask seed: the rows are split 70/30 (stratified where there are labels); every
method is fitted on the masked training rows and imputes them and the masked held-out rows (new
rows). One JSON line per (dataset, mask, rate, method, seed), every score after min-max scaling by
the complete data's column ranges (GAIN's convention):

* ``rmse``: of the method's single imputation over every masked entry; ``rmse_new_rows``: the
  held-out rows' entries alone;
* ``crps``: mean CRPS of the method's ``--draws`` draws (multiple imputations) per masked entry
  (:func:`genrl.impute.crps`; a method with one value scores as a point mass: its absolute error);
* ``coverage90``: share of masked entries inside the draws' central 90% interval;
* ``accuracy``: a fixed classifier (standardise + logistic regression) trained on the imputed
  training rows and scored on the imputed held-out rows, for datasets with class labels;
* ``fit_seconds``: fit, impute and draw, one thread.

Datasets: scikit-learn's four offline tables and genrl's synthetic tables with known conditionals
(``genrl.impute.SYNTHETIC``: rings, mixture_regression, heteroscedastic, linear; 2,000 rows, the
mask seed also seeds the table).

Methods (``METHODS``): ``mean`` and ``knn`` (one value); ``mice`` (IterativeImputer with
BayesianRidge; its draws are ``--draws`` fits with ``sample_posterior=True``, scikit-learn's own
multiple imputation); ``missforest`` (IterativeImputer with ExtraTreesRegressor, one value);
``miceforest`` (LightGBM MICE with predictive mean matching, its defaults, ``--draws`` datasets;
``pip install miceforest``, its version in each line); ``gan`` (GANImputer at its defaults unless
``--gan`` overrides; one value: the mean of its draws) and its ablations (``ABLATIONS``). Lines
already in ``--out`` are skipped, so a killed run resumes. Seeds 0-9 are the reported masks;
GANImputer's defaults were chosen on seeds 100 and up.

    python experiments/impute_benchmark.py [--datasets rings wine --seeds 0 1 2]
    python experiments/impute_benchmark.py --plot-only
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from importlib.metadata import version
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
from genrl.impute import MASKS, SYNTHETIC, GANImputer, crps, interval_coverage
from genrl.plotting import bar_chart

TABLES = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
          "diabetes": datasets.load_diabetes, "digits": datasets.load_digits}  # fmt: skip
LABELLED = {"breast_cancer", "wine", "digits"}
DATASETS = [*SYNTHETIC, "wine", "diabetes", "breast_cancer", "digits"]
ABLATIONS = {
    "gan": {},
    "gan_score_only": {"adversarial_weight": 0.0},
    "gan_adversarial_only": {"score_weight": 0.0},
    "gan_mse_only": {"adversarial_weight": 0.0, "score_weight": 0.0, "reconstruction_weight": 10.0},
    "gan_adversarial_mse": {"score_weight": 0.0, "reconstruction_weight": 10.0},
    "gan_all": {"reconstruction_weight": 10.0},
}
"""GANImputer's terms alone and together: the scoring rule, the adversarial game, the squared error
(``gan_adversarial_mse`` is the previous default, GAIN with held-out targets)."""
SETTINGS = [("mcar", 0.2), ("mar", 0.2), ("mnar", 0.2)]


@dataclass
class Args:
    datasets: list[str] = field(default_factory=lambda: list(DATASETS))
    settings: list[str] = field(default_factory=lambda: [f"{m}:{r}" for m, r in SETTINGS])
    """mask:rate pairs, in the order they run (e.g. mcar:0.5)"""
    methods: list[str] = field(default_factory=lambda: ["mean", "knn", "mice", "missforest", "miceforest", "gan"])
    seeds: list[int] = field(default_factory=lambda: list(range(10)))
    draws: int = 20
    """draws (multiple imputations) per row for the CRPS and the intervals"""
    gan: str = "{}"
    """GANImputer parameters over its defaults, as JSON (for tuning runs)"""
    out: str = "results/impute_calibration.jsonl"
    plot_only: bool = False
    """only redraw the figures from --out"""


def load(data: str, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    if data in TABLES:
        X, y = TABLES[data](return_X_y=True)
        return X.astype(np.float64), y if data in LABELLED else None
    return SYNTHETIC.get(data)(2000, seed), None


def impute(method: str, seed: int, draws: int, gan: dict[str, Any], train: np.ndarray, test: np.ndarray) -> dict[str, Any]:
    """Fit ``method`` on ``train`` (N, d) with NaNs; its single imputation ``point`` and ``draws``
    ``(m, N, d)`` of the training rows then the ``test`` rows (none: the training rows alone)."""

    def rows(on_train: np.ndarray, on_test: Any) -> np.ndarray:
        return np.concatenate([on_train, on_test(test)], -2) if len(test) else on_train

    if method in ("mean", "knn", "missforest"):
        imp = {"mean": SimpleImputer(), "knn": KNNImputer(),
               "missforest": IterativeImputer(ExtraTreesRegressor(n_estimators=50, n_jobs=1, random_state=seed),
                                              max_iter=10, random_state=seed)}[method]  # fmt: skip
        point = rows(imp.fit_transform(train), imp.transform)
        return {"point": point, "draws": point[None]}
    if method == "mice":
        fits = [IterativeImputer(BayesianRidge(), max_iter=10, random_state=seed * 1000 + i, sample_posterior=i > 0)
                for i in range(draws + 1)]  # fmt: skip
        tables = [rows(f.fit_transform(train), f.transform) for f in fits]
        return {"point": tables[0], "draws": np.stack(tables[1:])}
    if method == "miceforest":
        import miceforest as mf
        import pandas as pd

        cols = [f"c{j}" for j in range(train.shape[1])]
        kernel = mf.ImputationKernel(pd.DataFrame(train, columns=cols), num_datasets=draws, random_state=seed)
        kernel.mice(5, num_threads=1, verbose=False)
        new = kernel.impute_new_data(pd.DataFrame(test, columns=cols), random_state=seed) if len(test) else None
        tables = np.stack([rows(kernel.complete_data(i).to_numpy(), lambda _, i=i: new.complete_data(i).to_numpy())
                           for i in range(draws)])  # fmt: skip
        return {"point": tables.mean(0), "draws": tables, "version": version("miceforest")}
    if method in ABLATIONS:
        imp = GANImputer(random_state=seed, device="cpu", n_imputations=draws, **{**gan, **ABLATIONS[method]}).fit(train)
        tables = rows(imp.transform_draws(train), imp.transform_draws)
        return {"point": tables.mean(0), "draws": tables}
    raise SystemExit(f"unknown method {method!r}")


def evaluate(data: str, kind: str, rate: float, method: str, seed: int, draws: int, gan: dict[str, Any]) -> dict[str, Any]:
    X, y = load(data, seed)
    mask = MASKS.get(kind)(X, rate, seed)
    rows = np.arange(len(X))
    train, test = train_test_split(rows, test_size=0.3, random_state=seed, stratify=y)
    Xm = np.where(mask, np.nan, X)
    span = X.max(0) - X.min(0)
    span[span == 0] = 1.0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IterativeImputer's convergence warnings
        out = impute(method, seed, draws, gan, Xm[train], Xm[test])
    seconds = time.perf_counter() - t0
    point, tables = out["point"], out["draws"]
    if point.shape[1] != X.shape[1] or tables.shape[2] != X.shape[1]:  # scikit-learn imputers drop empty columns
        raise RuntimeError(f"{method} dropped columns on {data} {kind} {rate} seed {seed}")
    order = np.concatenate([train, test])
    truth, m = X[order] / span, mask[order]
    err = (point / span - truth)[m]
    new_rows = np.arange(len(order)) >= len(train)
    row = {"dataset": data, "mask": kind, "rate": rate, "method": method, "seed": seed,
           "rmse": float(np.sqrt(np.mean(err**2))),
           "rmse_new_rows": float(np.sqrt(np.mean(((point / span - truth)[m & new_rows[:, None]]) ** 2))),
           "crps": float(crps(tables / span, truth, m).mean()), "coverage90": interval_coverage(tables / span, truth, m),
           "draws": int(tables.shape[0]), "fit_seconds": round(seconds, 2)}  # fmt: skip
    if y is not None:
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(point[: len(train)], y[train])
        row["accuracy"] = float(clf.score(point[len(train) :], y[test]))
    if "version" in out:
        row["version"] = out["version"]
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
                        row = evaluate(data, kind, rate, method, seed, args.draws, gan)
                        print(json.dumps(row), flush=True)
                        with out.open("a") as f:
                            f.write(json.dumps(row) + "\n")
    plot(out, args)


LOWER_BETTER = {"rmse": True, "crps": True, "accuracy": False}


def table(rows: list[dict[str, Any]], args: Args, metric: str = "rmse") -> str:
    """Markdown: mean ± std of ``metric`` over masks per (dataset, setting) and method, the best in
    bold, and the GAN imputer's verdict. For RMSE, CRPS and accuracy: whether it is best by more
    than the spread (std over masks) of its paired difference to the best other method (and, for
    RMSE, its ratio to the best); for ``coverage90``: whether it lies in [0.85, 0.95]."""
    methods = [m for m in args.methods if any(r["method"] == m for r in rows)]
    verdicts = {"rmse": "GAN lowest by more than the spread; GAN / best", "crps": "GAN lowest by more than the spread",
                "accuracy": "GAN highest by more than the spread", "coverage90": "GAN in [0.85, 0.95]"}  # fmt: skip
    lines = ["| dataset | setting | masks | " + " | ".join(methods) + f" | {verdicts[metric]} |",
             "|---|---|---|" + "---|" * (len(methods) + 1)]  # fmt: skip
    for data in args.datasets:
        for kind, rate in [(s.split(":")[0], float(s.split(":")[1])) for s in args.settings]:
            here = [r for r in rows if (r["dataset"], r["mask"], r["rate"]) == (data, kind, rate)]
            cell = {m: {r["seed"]: r[metric] for r in here if r["method"] == m and metric in r} for m in methods}
            if not all(cell.values()):
                continue
            seeds = sorted(set.intersection(*(set(v) for v in cell.values())))
            means = {m: float(np.mean([cell[m][s] for s in seeds])) for m in methods}

            def rank(m: str, means: dict[str, float] = means) -> float:
                if metric == "coverage90":
                    return abs(means[m] - 0.9)
                return means[m] if LOWER_BETTER[metric] else -means[m]

            best = min(means, key=rank)
            shown = [f"**{means[m]:.4f}**" if m == best else f"{means[m]:.4f}" for m in methods]
            shown = [f"{v} ± {np.std([cell[m][s] for s in seeds]):.4f}" for v, m in zip(shown, methods)]
            verdict = "-"
            if "gan" in means and metric == "coverage90":
                verdict = f"{'yes' if 0.85 <= means['gan'] <= 0.95 else 'no'} ({means['gan']:.3f})"
            elif "gan" in means:
                sign = 1.0 if LOWER_BETTER[metric] else -1.0
                rival = min((m for m in methods if not m.startswith("gan")), key=rank)
                diff = sign * np.array([cell[rival][s] - cell["gan"][s] for s in seeds])
                verdict = f"{'yes' if diff.mean() > diff.std() else 'no'} (vs {rival}: {diff.mean():+.4f} ± {diff.std():.4f})"
                if metric == "rmse":
                    verdict += f"; {means['gan'] / min(means.values()):.3f}"
            lines.append(f"| {data} | {kind} {int(rate * 100)}% | {len(seeds)} | " + " | ".join(shown) + f" | {verdict} |")
    return "\n".join(lines)


def plot(out: Path, args: Args) -> None:
    """One figure per dataset (mean RMSE per setting and method) and the table on stdout."""
    if not out.exists():
        return
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    for metric in ("rmse", "crps", "coverage90", "accuracy"):
        print(f"\n{metric}\n")
        print(table(rows, args, metric))
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
