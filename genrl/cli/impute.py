"""``genrl impute``: fill the missing cells of a CSV file with :class:`~genrl.impute.GANImputer`."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from genrl.cli import write_metrics
from genrl.cli.jobs import ImputeJob
from genrl.cli.rundir import claim
from genrl.impute import GANImputer
from genrl.impute.csvfile import read_table, write_draws, write_table
from genrl.plotting import bar_chart, plot_curves
from genrl.utils import seed_everything

CHECKPOINT = "checkpoint.safetensors"


def run(args: ImputeJob) -> dict[str, Any]:
    """Fit on the file's rows, impute them, write the completed CSV and the metrics."""
    header, cells, table, categorical = read_table(args.csv, args.categorical)
    ckpt = args.out / CHECKPOINT
    resume = claim(args, (CHECKPOINT, "metrics.json", "imputed.csv"), CHECKPOINT)
    seed_everything(args.seed)
    t0 = time.perf_counter()
    run_params: dict[str, Any] = dict(device=args.device, verbose=not args.quiet, checkpoint_path=str(ckpt),
                                      checkpoint_every=args.checkpoint_every, n_imputations=args.imputations,
                                      tensorboard_dir=str(args.out / "tensorboard") if args.tensorboard else None)  # fmt: skip
    if args.steps:
        run_params["max_steps"] = args.steps
    if resume:  # continues to max_steps; fit refuses other data or parameters
        imputer = GANImputer.load(ckpt, device=args.device).set_params(**run_params)
    else:
        imputer = GANImputer(random_state=args.seed, categorical_features=categorical, **run_params)
    completed = imputer.fit(table).transform(table)
    missing = np.array([[v is None or (isinstance(v, float) and np.isnan(v)) for v in row] for row in table], dtype=bool)
    write_table(args.out / "imputed.csv", header, cells, completed, missing)
    if args.draws:
        write_draws(args.out / "draws.csv", header, cells, imputer.set_params(n_imputations=args.draws).transform_draws(table),
                    missing)  # fmt: skip
    curves = [k for k in ("d_loss", "g_loss", "score", "validation_score") if k in imputer.history_[-1]]
    plot_curves(imputer.history_, curves, args.out / "training.png", title="GAN imputer training")
    last = imputer.history_[-1]
    metrics = {"csv": str(args.csv), "rows": len(cells), "columns": len(header),
               "categorical": [header[j] for j in categorical],
               "missing_cells": int(missing.sum()), "missing_by_column": dict(zip(header, missing.sum(0).tolist())),
               "steps": int(last["step"]), "imputations": args.imputations, "draws": args.draws, "seed": args.seed,
               "heldout_reconstruction_mse": float(last["reconstruction"]),
               "validation_score": last.get("validation_score"),
               "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
    write_metrics(args.out, metrics)
    return metrics


def run_embedded(job: ImputeJob, rate: float = 0.2) -> dict[str, Any]:
    """The quickstart's imputation job: scikit-learn's breast cancer table with ``rate`` of its cells
    removed (MCAR, seeded by ``job.seed``), written to ``OUT/with_missing.csv`` and imputed by
    :func:`run`; the removed cells are then scored (RMSE after min-max scaling, GAIN's metric) beside
    mean and MICE-like imputation of the same file."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (makes IterativeImputer importable)
    from sklearn.impute import IterativeImputer, SimpleImputer

    from genrl.impute import mcar

    X = load_breast_cancer().data
    mask = mcar(X, rate, job.seed)
    missing = np.where(mask, np.nan, X)
    job.out.mkdir(parents=True, exist_ok=True)
    csv = job.out / "with_missing.csv"
    np.savetxt(csv, missing, delimiter=",", header=",".join(load_breast_cancer().feature_names), comments="")
    metrics = run(dataclasses.replace(job, csv=csv))
    span = X.max(0) - X.min(0)

    def rmse(completed: np.ndarray) -> float:
        return float(np.sqrt(np.mean(((completed - X) / span)[mask] ** 2)))

    scores = {"GAN imputer": rmse(np.loadtxt(job.out / "imputed.csv", delimiter=",", skiprows=1)),
              "mean": rmse(SimpleImputer().fit_transform(missing)),
              "MICE-like": rmse(IterativeImputer(max_iter=10, random_state=job.seed).fit_transform(missing))}  # fmt: skip
    bar_chart({f"breast cancer, {rate:.0%} MCAR": scores}, job.out / "rmse.png", "RMSE on the removed cells (lower is better)")
    metrics.update(rmse=scores["GAN imputer"], rmse_mean_imputation=scores["mean"], rmse_mice=scores["MICE-like"])
    write_metrics(job.out, metrics)
    return metrics
