"""Semi-supervised MNIST with 100 labels (10 per class): test error on the 10,000 test images.

Salimans et al.'s permutation-invariant model (``genrl.ssl.PRESETS["mnist"]``), trained on all
60,000 training images as unlabeled data plus 100 labels, under a wall-clock budget. Every
``--eval-every`` steps it prints the test error against minutes of training (evaluation time is
excluded from the clock) and finally plots the curve.

    python experiments/ssl_mnist.py [--data-dir ../shared/data/mnist --minutes 30 --seeds 0]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from genrl.cli import parse_dataclass
from genrl.data import labeled_subset, load_mnist
from genrl.plotting import plot_curves
from genrl.ssl import PRESETS, SSLGANClassifier


@dataclass
class Args:
    data_dir: str = "../shared/data/mnist"
    seeds: list[int] = field(default_factory=lambda: [0])
    minutes: float = 30.0
    max_steps: int = 100_000
    eval_every: int = 1000
    threads: int = 2
    device: str = "auto"
    out: str = "results/ssl_mnist"


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    Xtr, ytr, Xte, yte = load_mnist(args.data_dir)
    Xtr, Xte = Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)
    for seed in args.seeds:
        y = labeled_subset(ytr, 10, seed=seed)
        curve: list[dict[str, float]] = []

        def record(est: SSLGANClassifier, step: int, seed: int = seed, curve: list = curve) -> None:
            err = 100 * float((est.predict(Xte) != yte).mean())
            minutes = est.history_[-1]["seconds"] / 60  # training time only: the estimator's clock skips callbacks
            curve.append({"step": step, "minutes": minutes, "test_error_pct": err})
            row = {"seed": seed, "step": step, "minutes": round(minutes, 2), "test_error_pct": round(err, 2)}
            print(json.dumps(row), flush=True)

        params = {**PRESETS["mnist"], "max_steps": args.max_steps}
        clf = SSLGANClassifier(**params, max_seconds=60 * args.minutes, random_state=seed, device=args.device,
                               callback=record, log_every=args.eval_every)  # fmt: skip
        clf.fit(Xtr, y)
        wall = clf.history_[-1]["seconds"]
        err = float((clf.predict(Xte) != yte).mean())
        print(json.dumps({"seed": seed, "n_labeled": int((y != -1).sum()), "steps": clf.history_[-1]["step"],
                          "test_error_pct": round(100 * err, 2), "test_errors": round(err * len(yte)),
                          "train_minutes": round(wall / 60, 1), "device": str(next(clf.D_.parameters()).device)}))  # fmt: skip
        plot_curves(curve, ["test_error_pct"], Path(args.out) / f"error_vs_minutes_seed{seed}.png", x="minutes",
                    title="MNIST, 100 labels: test error (%) vs. training minutes")  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
