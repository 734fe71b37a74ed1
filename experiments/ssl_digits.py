"""Semi-supervised digits: SSL-GAN vs. the same network on labeled rows alone vs. sklearn's methods.

sklearn digits, fixed 70/30 stratified split (``genrl.data.digits_split``), 5 and 10 labels per
class drawn per seed; the rest of the training rows are unlabeled (y = -1). Baselines:
``LabelSpreading(kernel="knn", n_neighbors=7)`` and ``SelfTrainingClassifier(SVC(gamma=0.001))``
(the SVC setting of sklearn's digits examples). One JSON line per run, then a mean ± std table and
a bar plot.

    python experiments/ssl_digits.py [--seeds 0 1 2 3 4 --labels 5 10]
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from sklearn.svm import SVC

from genrl.cli import parse_dataclass
from genrl.data import digits_split, labeled_subset
from genrl.plotting import bar_chart
from genrl.ssl import PRESETS, SSLGANClassifier


@dataclass
class Args:
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    labels: list[int] = field(default_factory=lambda: [5, 10])
    steps: int = PRESETS["digits"]["max_steps"]
    threads: int = 2
    out: str = "results/ssl_digits"


def methods(steps: int, seed: int) -> dict:
    gan = {**PRESETS["digits"], "max_steps": steps, "random_state": seed, "device": "cpu"}
    return {
        "ssl_gan": SSLGANClassifier(**gan),
        "labeled_only": SSLGANClassifier(**gan, unlabeled_weight=0.0),
        "label_spreading": LabelSpreading(kernel="knn", n_neighbors=7, max_iter=100),
        "self_training_svc": SelfTrainingClassifier(SVC(gamma=0.001, probability=True, random_state=seed)),
    }


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    Xtr, Xte, ytr, yte = digits_split()
    rows = []
    for n in args.labels:
        for seed in args.seeds:
            y = labeled_subset(ytr, n, seed=seed)
            for name, est in methods(args.steps, seed).items():
                t0 = time.perf_counter()
                acc = float(est.fit(Xtr, y).score(Xte, yte))
                row = {"method": name, "labels_per_class": n, "seed": seed, "test_accuracy": round(acc, 4),
                       "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
                print(json.dumps(row), flush=True)
                rows.append(row)
    summary = {}
    for n in args.labels:
        summary[f"{n}/class"] = {}
        for name in methods(1, 0):
            accs = [r["test_accuracy"] for r in rows if r["method"] == name and r["labels_per_class"] == n]
            summary[f"{n}/class"][name] = float(np.mean(accs))
            print(json.dumps({"summary": name, "labels_per_class": n, "mean": round(float(np.mean(accs)), 4),
                              "std": round(float(np.std(accs)), 4), "runs": len(accs)}))  # fmt: skip
    bar_chart(summary, Path(args.out) / "ssl_digits.png", "test accuracy (mean over seeds)", "digits, few labels",
              ylim=(0.6, 1.0))  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
