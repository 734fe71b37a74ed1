"""Semi-supervised MNIST with 100 labels (10 per class): test error against minutes of training.

A ``genrl.ssl.PRESETS`` model (default ``"mnist"``: Salimans et al.'s permutation-invariant one)
trained on all 60,000 training images as unlabeled data plus 100 labels (label draw ``seed``: 10
per class, drawn by ``genrl.data.labeled_subset``), scored on the 10,000 test images every
``--eval-every`` steps; evaluation time is excluded from the clock. Each draw checkpoints to
``runs/<OUT's name>/seed<N>.safetensors`` (not committed: 33 MB each) and appends its evaluations
to ``OUT/curves.jsonl``, so a killed run continues where it stopped
(``SSLGANClassifier.load(...).fit``); finished draws are skipped.
``--plot`` prints the table (error at ``--goal-minutes``, first minute at or below ``--goal``, final
error) and draws every draw's curve in one figure. The paper's figure: 0.93% ± 0.065 (Improved GAN);
the best GAN result published: 0.795% (Bad GAN).

    python experiments/ssl_mnist.py --preset mnist_fast --seeds 0 1 2 --threads 1 --out results/ssl_mnist_fast
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from genrl.cli import parse_dataclass
from genrl.data import labeled_subset, load_mnist
from genrl.plotting import plot_learning_curves
from genrl.ssl import PRESETS, SSLGANClassifier

REFERENCES = {"Improved GAN 0.93%": 0.93, "Bad GAN 0.795%": 0.795}


@dataclass
class Args:
    data_dir: str = "../shared/data/mnist"
    preset: str = "mnist"
    """a name in genrl.ssl.PRESETS"""
    seeds: list[int] = field(default_factory=lambda: [0])
    """label draws (and training seeds)"""
    max_steps: int = 0
    """training steps (0: the preset's)"""
    minutes: float = 0.0
    """stop a draw after this many training minutes (0: run to max_steps)"""
    eval_every: int = 2000
    threads: int = 1
    device: str = "auto"
    goal: float = 1.0
    """test error (%) the table checks"""
    goal_minutes: float = 60.0
    out: str = "results/ssl_mnist"
    plot: bool = False
    """print the table and draw the figure from OUT/curves.jsonl, training nothing"""


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The evaluations in ``path``, the last line per (preset, seed, step): a run killed between an
    evaluation and its checkpoint repeats that step when it resumes."""
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return list({(r["preset"], r["seed"], r["step"]): r for r in rows}.values())


def train(args: Args, seed: int, out: Path) -> None:
    Xtr, ytr, Xte, yte = load_mnist(args.data_dir)
    Xtr, Xte = Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)
    y = labeled_subset(ytr, 10, seed=seed)
    ckpt = Path("runs") / out.name / f"seed{seed}.safetensors"
    ckpt.parent.mkdir(parents=True, exist_ok=True)

    def record(est: SSLGANClassifier, row: dict[str, Any]) -> None:
        err = 100 * float((est.predict(Xte) != yte).mean())
        line = {"preset": args.preset, "seed": seed, "step": row["step"], "minutes": round(row["seconds"] / 60, 2),
                "test_error_pct": round(err, 2), "threads": args.threads,
                "device": str(next(est.D_.parameters()).device)}  # fmt: skip
        with open(out / "curves.jsonl", "a") as f:
            f.write(json.dumps(line) + "\n")
        print(json.dumps(line), flush=True)

    if ckpt.exists():
        clf = SSLGANClassifier.load(ckpt, device=args.device).set_params(callback=record)
        if args.max_steps:
            clf.set_params(max_steps=args.max_steps)
    else:
        params = {**PRESETS[args.preset], **({"max_steps": args.max_steps} if args.max_steps else {})}
        clf = SSLGANClassifier(**params, random_state=seed, device=args.device, callback=record,
                               log_every=args.eval_every, checkpoint_path=str(ckpt),
                               checkpoint_every=args.eval_every,
                               max_seconds=60 * args.minutes if args.minutes else None)  # fmt: skip
    clf.fit(Xtr, y)


def table(args: Args, rows: list[dict[str, Any]]) -> None:
    print(f"| draw | steps | error % at {args.goal_minutes:g} min | first minute ≤ {args.goal}% | final error % (minutes) |")
    print("|---|---|---|---|---|")
    for seed in sorted({r["seed"] for r in rows}):
        curve = sorted((r for r in rows if r["seed"] == seed), key=lambda r: r["step"])
        within = [r for r in curve if r["minutes"] <= args.goal_minutes]
        first = next((r["minutes"] for r in curve if r["test_error_pct"] <= args.goal), None)
        at_goal = f"{within[-1]['test_error_pct']:.2f}" if within else "–"
        last = curve[-1]
        print(f"| {seed} | {last['step']} | {at_goal} | {first if first is not None else 'not reached'} | "
              f"{last['test_error_pct']:.2f} ({last['minutes']:.0f}) |")  # fmt: skip


def main(args: Args) -> None:
    if args.preset not in PRESETS:
        raise SystemExit(f"--preset must be one of {sorted(PRESETS)}, got {args.preset!r}")
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.plot:
        for seed in args.seeds:
            ckpt_done = [r for r in read_rows(out / "curves.jsonl") if r["seed"] == seed and r["preset"] == args.preset]
            steps = args.max_steps or PRESETS[args.preset]["max_steps"]
            if any(r["step"] >= steps for r in ckpt_done) or (
                args.minutes and any(r["minutes"] >= args.minutes for r in ckpt_done)
            ):
                continue
            train(args, seed, out)
    rows = [r for r in read_rows(out / "curves.jsonl") if r["preset"] == args.preset]
    if not rows:
        return
    table(args, rows)
    runs = {f"draw {s}": [sorted((r for r in rows if r["seed"] == s), key=lambda r: r["step"])]
            for s in sorted({r["seed"] for r in rows})}  # fmt: skip
    plot_learning_curves(runs, out / "error_vs_minutes.png", x="minutes", y="test_error_pct",
                         title=f"MNIST, 100 labels ({args.preset}): test error (%) vs. training minutes",
                         refs={f"goal {args.goal}%": args.goal, **REFERENCES})  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
