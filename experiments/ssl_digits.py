"""Semi-supervised digits: SSL-GAN vs. the same network on labeled rows alone vs. sklearn's methods.

sklearn digits, fixed 70/30 stratified split (``genrl.data.digits_split``), 5 and 10 labels per
class drawn per seed; the rest of the training rows are unlabeled (y = -1). Baselines:
``LabelSpreading(kernel="knn", n_neighbors=7)`` and ``SelfTrainingClassifier(SVC(gamma=0.001))``
(the SVC setting of sklearn's digits examples). One JSON line per run, then a mean ± std table and
a bar plot.

With ``--random-splits`` run k uses its own stratified 70/30 split (``digits_split(seed=k)``)
as well as its own labeled subset, so SSL-GAN and LabelSpreading are compared pair by pair over
data splits too; the summary then counts the pairs SSL-GAN wins. ``ssl_gan_default`` is
``SSLGANClassifier()`` at its defaults (only ``random_state`` set). Lines already in ``--out``'s
``runs.jsonl`` are skipped, so a killed run resumes.

    python experiments/ssl_digits.py [--seeds 0 1 2 3 4 --labels 5 10]
    python experiments/ssl_digits.py --random-splits --labels 5 --methods ssl_gan_default label_spreading
    python experiments/ssl_digits.py --random-splits --labels 5 --seeds 100 101 102 --methods amp5k label_spreading \\
        --variants 'amp5k:{"amp": true, "max_steps": 5000}'
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
    random_splits: bool = False
    """a stratified 70/30 split per seed instead of the fixed one"""
    methods: list[str] = field(default_factory=lambda: ["ssl_gan", "labeled_only", "label_spreading", "self_training_svc"])
    variants: list[str] = field(default_factory=list)
    """more methods, NAME:JSON of SSLGANClassifier parameters over its defaults, e.g.
    'amp5k:{"amp": true, "max_steps": 5000}'; name them in --methods"""


def methods(steps: int, seed: int, variants: list[str]) -> dict:
    gan = {**PRESETS["digits"], "max_steps": steps, "random_state": seed, "device": "cpu"}
    named = (v.split(":", 1) for v in variants)
    return {
        **{name: SSLGANClassifier(**json.loads(options), random_state=seed) for name, options in named},
        "ssl_gan": SSLGANClassifier(**gan),
        "ssl_gan_default": SSLGANClassifier(random_state=seed),
        "labeled_only": SSLGANClassifier(**gan, unlabeled_weight=0.0),
        "label_spreading": LabelSpreading(kernel="knn", n_neighbors=7, max_iter=100),
        "self_training_svc": SelfTrainingClassifier(SVC(gamma=0.001, probability=True, random_state=seed)),
    }


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / ("runs_random_splits.jsonl" if args.random_splits else "runs.jsonl")
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    done = {(r["method"], r["labels_per_class"], r["seed"]) for r in rows}
    for n in args.labels:
        for seed in args.seeds:
            Xtr, Xte, ytr, yte = digits_split(seed if args.random_splits else 0)
            y = labeled_subset(ytr, n, seed=seed)
            for name in args.methods:
                if (name, n, seed) in done:
                    continue
                est = methods(args.steps, seed, args.variants)[name]
                t0 = time.perf_counter()
                acc = float(est.fit(Xtr, y).score(Xte, yte))
                row = {"method": name, "labels_per_class": n, "seed": seed, "split": seed if args.random_splits else 0,
                       "test_accuracy": round(acc, 4), "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
                print(json.dumps(row), flush=True)
                with log.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                rows.append(row)
    summary: dict[str, dict[str, float]] = {}
    for n in args.labels:
        summary[f"{n}/class"] = {}
        for name in args.methods:
            accs = [r["test_accuracy"] for r in rows if r["method"] == name and r["labels_per_class"] == n]
            if not accs:
                continue
            summary[f"{n}/class"][name] = float(np.mean(accs))
            print(json.dumps({"summary": name, "labels_per_class": n, "mean": round(float(np.mean(accs)), 4),
                              "std": round(float(np.std(accs)), 4), "runs": len(accs)}))  # fmt: skip
        variants = {v.split(":", 1)[0] for v in args.variants}
        for gan in (m for m in args.methods if m.startswith("ssl_gan") or m in variants):
            pairs = {r["seed"]: r["test_accuracy"] for r in rows if r["method"] == gan and r["labels_per_class"] == n}
            rival = {
                r["seed"]: r["test_accuracy"] for r in rows if r["method"] == "label_spreading" and r["labels_per_class"] == n
            }
            both = sorted(set(pairs) & set(rival))
            if both:
                diff = np.array([pairs[s] - rival[s] for s in both])
                print(json.dumps({"paired": gan, "vs": "label_spreading", "labels_per_class": n, "pairs": len(both),
                                  "mean_lead": round(float(diff.mean()), 4), "wins": int((diff > 0).sum()),
                                  "ties": int((diff == 0).sum())}))  # fmt: skip
    bar_chart(summary, out / ("ssl_digits_random_splits.png" if args.random_splits else "ssl_digits.png"),
              "test accuracy (mean over seeds)", "digits, few labels", ylim=(0.6, 1.0))  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
