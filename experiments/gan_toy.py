"""Generator costs x {plain, with tricks} on ring8 and grid25 (PacGAN protocol), several seeds.

Each run is scored every ``--eval-every`` steps and at its end, one JSON line each in ``--lines``
(appended; finished runs are skipped, so the script resumes): data, loss, tricks, seed, step,
seconds (training only), modes, hq_fraction, reverse_kl, spread, energy_distance, recipe. The
mixture's own samples come first (``loss: true_data``), the ceiling of every figure. At the end
(or with ``--summarize``, which trains nothing) it prints a markdown table of the final scores
against ``genrl.gan.presets.TOY_GOALS`` and draws HQ and spread against steps
(``OUT/<data>_hq.png``, ``OUT/<data>_spread.png``) and one scatter per run. The recipes are
``genrl.gan.presets.toy_recipe``; they were chosen on seeds 100 and up (``gan_toy_sweep.py``).

    python experiments/gan_toy.py --data grid25 --losses non_saturating minimax --tricks tricks --seeds 0 1 2 3 4
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from genrl.cli import parse_dataclass
from genrl.data import get_mixture
from genrl.errors import DivergenceError
from genrl.gan.losses import LOSSES
from genrl.gan.presets import TOY_GOALS, toy_recipe, toy_trainer
from genrl.metrics import MixtureProbe, mixture_scores
from genrl.plotting import plot_learning_curves, plot_mixture_samples


@dataclass
class Args:
    data: list[str] = field(default_factory=lambda: ["ring8", "grid25"])
    losses: list[str] = field(default_factory=lambda: LOSSES.names())
    tricks: list[str] = field(default_factory=lambda: ["plain", "tricks"])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    eval_every: int = 2000
    """score the samples every this many steps (a multiple of 500)"""
    threads: int = 1
    device: str = "cpu"
    lines: str = "results/gan_toy.jsonl"
    """JSON lines are appended here; runs whose final line is there already are skipped"""
    out: str = "results/gan_toy"
    """plots: HQ and spread against steps per mixture, one scatter per run"""
    summarize: bool = False
    """only print the table and redraw the curves from --lines (no training)"""


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    lines, out = Path(args.lines), Path(args.out)
    lines.parent.mkdir(parents=True, exist_ok=True)

    def emit(row: dict) -> None:
        with lines.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps({k: v for k, v in row.items() if k != "recipe"}), flush=True)

    rows = [json.loads(line) for line in lines.read_text().splitlines()] if lines.exists() else []
    done = {(r["data"], r["loss"], r["tricks"], r["seed"]) for r in rows if r.get("final")}
    for data in [] if args.summarize else args.data:
        mixture = get_mixture(data)
        for seed in args.seeds:  # the ceiling: the same scores on samples of the mixture itself
            if (data, "true_data", "-", seed) not in done:
                truth = mixture_scores(mixture.sample(2500, seed)[0], mixture, seed)
                emit({"data": data, "loss": "true_data", "tricks": "-", "seed": seed, "step": 0, **truth, "final": True})
        for loss in args.losses:
            for tricks in args.tricks:
                recipe = toy_recipe(data, loss)
                for seed in args.seeds:
                    if (data, loss, tricks, seed) in done:
                        continue
                    key = {"data": data, "loss": loss, "tricks": tricks, "seed": seed}
                    probe = MixtureProbe(mixture, args.eval_every, recipe.steps, seed,
                                         lambda scores, key=key: emit({**key, **scores}))  # fmt: skip
                    trainer = toy_trainer(data, loss, tricks == "tricks", seed=seed, device=args.device)
                    X = mixture.sample(100_000, seed)[0]
                    try:
                        trainer.fit(X, steps=recipe.steps, progress=False, log_every=500, callback=probe)
                        samples = trainer.sample(2500).cpu().numpy()
                    except DivergenceError as e:  # a diverging cost is a result to report, not a crash
                        emit({**key, "step": trainer.step_count, "error": str(e), "modes": 0, "hq_fraction": 0.0,
                              "reverse_kl": float("inf"), "spread": float("nan"), "final": True})  # fmt: skip
                        continue
                    scores = {k: round(v, 4) for k, v in mixture_scores(samples, mixture, seed).items()}
                    final = {**key, "step": trainer.step_count, "seconds": round(probe.train_seconds, 1), **scores,
                             "final": True, "recipe": asdict(recipe)}  # fmt: skip
                    emit(final)
                    plot_mixture_samples(samples, mixture.centers, out / f"{data}_{loss}_{tricks}_seed{seed}.png",
                                         title=f"{data} {loss} {tricks} seed {seed}: {final['modes']} modes, "
                                         f"{100 * final['hq_fraction']:.1f}% HQ")  # fmt: skip
    rows = [json.loads(line) for line in lines.read_text().splitlines()] if lines.exists() else []
    for data in args.data:
        summarize([r for r in rows if r["data"] == data], data, out)


def summarize(rows: list[dict], data: str, out: Path) -> None:
    """A markdown table of the final scores per (loss, tricks) against the goal, and the curves."""
    goal, k = TOY_GOALS[data], len(get_mixture(data).centers)
    finals: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        if r.get("final"):
            finals.setdefault((r["loss"], r["tricks"]), []).append(r)
    kl = f", reverse KL <= {goal.reverse_kl}" if np.isfinite(goal.reverse_kl) else ""
    spread = f"spread within 1 ± {goal.spread_tolerance}"
    print(f"\n{data}: goal {k}/{k} modes in every seed, HQ >= {goal.hq_fraction}{kl}, {spread}\n")
    header = ["cost", "tricks", "seeds", "modes (min)", "HQ mean (min)", "reverse KL mean (max)", "spread mean (range)",
              "minutes", "seeds meeting the goal"]  # fmt: skip
    print("| " + " | ".join(header) + " |\n" + "|---" * len(header) + "|")
    for (loss, tricks), group in sorted(finals.items(), key=lambda kv: kv[0][0] != "true_data"):
        col = {key: np.array([r[key] for r in group], dtype=float) for key in ("modes", "hq_fraction", "reverse_kl", "spread")}
        minutes = np.mean([r.get("seconds", 0.0) for r in group]) / 60
        print(f"| {loss} | {tricks} | {len(group)} | {int(col['modes'].min())} | {col['hq_fraction'].mean():.3f} "
              f"({col['hq_fraction'].min():.3f}) | {col['reverse_kl'].mean():.3f} ({col['reverse_kl'].max():.3f}) | "
              f"{col['spread'].mean():.2f} ({col['spread'].min():.2f}-{col['spread'].max():.2f}) | {minutes:.1f} | "
              f"{sum(goal.met(r, k) for r in group)}/{len(group)} |")  # fmt: skip
    curves: dict[str, dict[int, list[dict]]] = {}
    for r in rows:
        if r["loss"] != "true_data" and "error" not in r and not r.get("final"):
            curves.setdefault(f"{r['loss']} {r['tricks']}", {}).setdefault(r["seed"], []).append(r)
    runs = {name: [sorted(run, key=lambda r: r["step"]) for run in seeds.values()] for name, seeds in curves.items()}
    if runs:
        plot_learning_curves(runs, out / f"{data}_hq.png", "step", "hq_fraction", data,
                             {"true data": 0.989, "goal": goal.hq_fraction})  # fmt: skip
        plot_learning_curves(runs, out / f"{data}_spread.png", "step", "spread", data,
                             {"true data": 0.98, "goal ±": 1 - goal.spread_tolerance})  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
