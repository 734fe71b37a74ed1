"""Every generator cost x {plain, with tricks} on ring8 and grid25 (PacGAN protocol), several seeds.

One JSON line per run: data, loss, tricks, seed, modes, hq_fraction, reverse_kl, energy_distance,
seconds. Scatter plots of samples vs. modes go to OUT/<data>_<loss>_<tricks>_seed<k>.png and a
summary figure to OUT/summary.png. The recipes are ``genrl.gan.presets.toy_trainer``.

    python experiments/gan_toy.py [--seeds 0 1 2 --losses ... --data ring8 grid25]
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genrl.cli import parse_dataclass
from genrl.data import get_mixture
from genrl.gan.losses import LOSSES
from genrl.gan.presets import TOY_RECIPES, toy_trainer
from genrl.metrics import mixture_scores
from genrl.plotting import bar_chart, plot_mixture_samples


@dataclass
class Args:
    data: list[str] = field(default_factory=lambda: ["ring8", "grid25"])
    losses: list[str] = field(default_factory=lambda: LOSSES.names())
    tricks: list[str] = field(default_factory=lambda: ["plain", "tricks"])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 0
    """0: the recipe's budget for each mixture"""
    threads: int = 1
    device: str = "cpu"
    out: str = "results/gan_toy"
    summarize: list[str] = field(default_factory=lambda: [""])
    """JSON-lines files of earlier runs: only redraw the summary plots from them (no training)"""


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    results = []
    if any(args.summarize):
        results = [json.loads(line) for f in args.summarize for line in open(f) if '"modes"' in line]
        summarize(results, args, out)
        return
    for data in args.data:
        mixture = get_mixture(data)
        for seed in args.seeds:  # the ceiling: the same scores on samples of the mixture itself
            truth = mixture_scores(mixture.sample(2500, seed)[0], mixture, seed)
            print(json.dumps({"data": data, "loss": "true_data", "tricks": "-", "seed": seed, **truth}), flush=True)
        for loss in args.losses:
            for tricks in args.tricks:
                for seed in args.seeds:
                    X = mixture.sample(100_000, seed)[0]
                    t0 = time.perf_counter()
                    trainer = toy_trainer(data, loss, tricks == "tricks", seed=seed, device=args.device)
                    try:
                        trainer.fit(X, steps=args.steps or TOY_RECIPES[data].steps, progress=False, log_every=500)
                        samples = trainer.sample(2500).cpu().numpy()
                        diverged = not np.isfinite(samples).all()
                    except Exception as e:  # a diverging cost is a result to report, not a crash
                        print(json.dumps({"data": data, "loss": loss, "tricks": tricks, "seed": seed, "error": str(e)}))
                        diverged, samples = True, None
                    seconds = time.perf_counter() - t0
                    if diverged:
                        row = {"modes": 0, "hq_fraction": 0.0, "reverse_kl": float("inf"), "spread": float("nan"),
                               "energy_distance": float("inf")}  # fmt: skip
                    else:
                        row = mixture_scores(samples, mixture, seed)
                        plot_mixture_samples(samples, mixture.centers, out / f"{data}_{loss}_{tricks}_seed{seed}.png",
                                             title=f"{data} {loss} {tricks} seed {seed}: {row['modes']} modes, "
                                             f"{100 * row['hq_fraction']:.1f}% HQ")  # fmt: skip
                    row = {"data": data, "loss": loss, "tricks": tricks, "seed": seed, **row, "seconds": round(seconds, 1)}
                    print(json.dumps(row), flush=True)
                    results.append(row)
    summarize(results, args, out)


def summarize(results: list[dict], args: Args, out: Path) -> None:
    """Per (data, loss, tricks): mean/min over seeds as JSON lines, plus bar plots."""
    for data in args.data:
        k = len(get_mixture(data).centers)
        for loss in args.losses:
            for tricks in args.tricks:
                rows = [r for r in results if (r["data"], r["loss"], r["tricks"]) == (data, loss, tricks)]
                if not rows:
                    continue
                print(json.dumps({"summary": data, "loss": loss, "tricks": tricks, "seeds": len(rows),
                                  "modes_mean": round(float(np.mean([r["modes"] for r in rows])), 2),
                                  "modes_min": min(r["modes"] for r in rows),
                                  "hq_mean": round(float(np.mean([r["hq_fraction"] for r in rows])), 3),
                                  "hq_min": round(min(r["hq_fraction"] for r in rows), 3),
                                  "reverse_kl_mean": round(float(np.mean([r["reverse_kl"] for r in rows])), 3),
                                  "all_goals_met": all(r["modes"] == k and r["hq_fraction"] >= 0.95 and r["reverse_kl"] <= 0.04
                                                       for r in rows)}))  # fmt: skip
        panels = (("modes", 1 / k, "fraction of modes captured"), ("hq_fraction", 1.0, "high-quality fraction"))
        for key, scale, label in panels:
            groups = {loss: {t: scale * _mean(results, key, data=data, loss=loss, tricks=t) for t in args.tricks}
                      for loss in args.losses}  # fmt: skip
            bar_chart(groups, out / f"summary_{data}_{key}.png", f"{label} (mean over seeds)", data)


def _mean(rows: list[dict], key: str, **match: object) -> float:
    vals = [r[key] for r in rows if all(r[m] == v for m, v in match.items())]
    return float(np.mean(vals)) if vals else 0.0


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
