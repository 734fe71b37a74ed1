"""MBPO at MuJoCo scale: GAN-MBPO, ensemble-MBPO and model-free SAC in one loop
(:class:`genrl.worldmodel.dyna.Dyna`), resumable across sessions.

Each (env, method, seed) run starts from the env's preset (``genrl.worldmodel.presets``: MBPO's
settings for Hopper-v5 and HalfCheetah-v5) and trains in chunks of ``--chunk`` real steps; after
each chunk it is checkpointed (``--work``, not committed; a rerun of the same command continues
every unfinished run exactly) and each new evaluation row becomes one JSON line in ``--out``: env,
method, seed, step (real env steps), return_mean (``eval_episodes`` deterministic episodes),
seconds (training only, evaluations excluded), and SAC's state. ``sac`` is the same loop without a
model: SB3's SAC settings, one update per real step, every batch real. ``--plot`` prints the
table and draws return against real steps.

    python experiments/mbpo_mujoco.py --envs Hopper-v5 --methods gan ensemble sac --seeds 0 1 2 --steps 100000
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genrl.cli import parse_dataclass
from genrl.cli.parsing import with_overrides
from genrl.plotting import plot_learning_curves
from genrl.worldmodel.dyna import SAC_BASELINE, Dyna
from genrl.worldmodel.presets import dyna_config, dyna_world_model
from genrl.worldmodel.rewards import REWARD_FNS, TERMINATION_FNS


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: ["Hopper-v5"])
    methods: list[str] = field(default_factory=lambda: ["gan", "ensemble", "sac"])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 100_000
    """real env steps per run"""
    chunk: int = 5000
    """real steps between checkpoints (and JSON lines)"""
    set: list[str] = field(default_factory=list)
    """DynaConfig changes over the preset for the model-based methods (field=value)"""
    label: str = ""
    """a name for this variant in the JSON lines (with --set)"""
    work: str = "runs/mbpo_mujoco"
    """checkpoints of unfinished runs"""
    threads: int = 1
    out: str = "results/mbpo_mujoco.jsonl"
    plot: bool = False
    """only print the table and draw the figures from --out"""


def build(env_id: str, method: str, seed: int, args: Args) -> Dyna:
    if method == "sac":
        return Dyna(env_id, None, dyna_config(env_id, **SAC_BASELINE), seed=seed, device="cpu")
    config = with_overrides(dyna_config(env_id), args.set)
    model = dyna_world_model(method, env_id, seed=seed)
    return Dyna(env_id, model, config, reward_fn=REWARD_FNS.get(env_id), termination_fn=TERMINATION_FNS.get(env_id),
                seed=seed, device="cpu")  # fmt: skip


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.plot:
        return report(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = {(r["env"], r["method"], r["seed"], r["step"]) for r in map(json.loads, out.read_text().splitlines())} \
        if out.exists() else set()  # fmt: skip
    for env_id in args.envs:
        for seed in args.seeds:
            for method in args.methods:
                name = method + (f"_{args.label}" if args.label else "")
                ckpt = Path(args.work) / f"{env_id}_{name}_seed{seed}.safetensors"
                dyna = Dyna.load(ckpt, device="cpu") if ckpt.exists() else build(env_id, method, seed, args)
                while True:  # the rows of each chunk, and any a killed run checkpointed but never wrote
                    with out.open("a") as f:
                        for row in dyna.history:
                            if (env_id, name, seed, row["step"]) not in written:
                                line = {"env": env_id, "method": name, "seed": seed, **row}
                                f.write(json.dumps(line) + "\n")
                                print(json.dumps(line), flush=True)
                                written.add((env_id, name, seed, row["step"]))
                    if dyna.step_count >= args.steps:
                        break
                    dyna.learn(min(args.steps, (dyna.step_count // args.chunk + 1) * args.chunk), checkpoint_path=ckpt)


def report(out: Path) -> None:
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    groups: dict[tuple[str, str], dict[int, list[dict]]] = {}
    for r in rows:
        groups.setdefault((r["env"], r["method"]), {}).setdefault(r["seed"], []).append(r)
    for env_id in dict.fromkeys(e for e, _ in groups):
        steps = sorted({r["step"] for (e, _), runs in groups.items() if e == env_id for c in runs.values() for r in c})
        marks = [s for s in steps if s % 25_000 == 0] or steps[-4:]
        print(f"\n{env_id}: mean return (min-max over seeds)\n| method | seeds | " + " | ".join(f"{s // 1000}k" for s in marks)
              + " | s per 10k real steps |\n|---|---|" + "---|" * (len(marks) + 1))  # fmt: skip
        for (e, method), runs in groups.items():
            if e != env_id:
                continue
            cells = []
            for s in marks:
                vals = [r["return_mean"] for c in runs.values() for r in c if r["step"] == s]
                cells.append(f"{np.mean(vals):.0f} ({min(vals):.0f}-{max(vals):.0f})" if vals else "")
            rates = [c[-1]["seconds"] / c[-1]["step"] * 10_000 for c in runs.values()]
            print(f"| {method} | {len(runs)} | " + " | ".join(cells) + f" | {np.mean(rates):.0f} |")
        curves = {m: [[{"step": r["step"], "return_mean": r["return_mean"]} for r in c] for c in runs.values()]
                  for (e, m), runs in groups.items() if e == env_id}  # fmt: skip
        plot_learning_curves(curves, out.with_name(f"{out.stem}_{env_id}.png"), "step", "return_mean",
                             f"{env_id}: MBPO return vs. real steps")  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
