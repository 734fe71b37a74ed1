"""GAIL at MuJoCo scale: GAIL-SAC with and without absorbing states, GAIL-PPO and BC, on the
committed expert demonstrations (``experiments/mujoco_experts.py``), resumable across sessions.

Each (env, method, seed) run trains in chunks of ``--eval-every`` env steps; after each chunk it
is checkpointed (``--work``, not committed) and its policy plays 5 deterministic episodes on the
true reward, one JSON line each in ``--out``: env, method, algo, seed, env_steps, return_mean,
normalized_score ((R - R_random) / (R_expert - R_random)), seconds (training only). BC is one
line per seed at env_steps 0. imitation's GAIL writes its lines into the same file from its own
virtual environment (``experiments/peers/``). ``--plot`` prints the table and draws normalised
score against env steps, with the SAC expert's own training curve (true reward) beside them.

    python experiments/gail_mujoco.py --envs Hopper-v5 --methods gail_sac_absorbing gail_sac gail_ppo bc --seeds 0 1 2
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genrl.cli import parse_dataclass
from genrl.cli.parsing import parse_json_variant
from genrl.gail import GAIL, behaviour_cloning, make_gail
from genrl.plotting import plot_learning_curves
from genrl.rollout import rollout
from genrl.transitions import Transitions

METHODS: dict[str, dict[str, Any]] = {
    "gail_sac_absorbing": {"algo": "sac", "absorbing": True},
    "gail_sac": {"algo": "sac", "absorbing": False},
    "gail_ppo": {"algo": "ppo", "absorbing": "auto"},
}
"""make_gail arguments per method (the rest is the env's preset, genrl.gail.presets); ``bc`` is separate."""


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: ["Hopper-v5"])
    methods: list[str] = field(default_factory=lambda: [*METHODS, "bc"])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 200_000
    """env steps per run"""
    eval_every: int = 10_000
    bc_epochs: int = 50
    demos_dir: str = "results/demos"
    experts: str = "results/mujoco_experts.jsonl"
    """the SAC experts' training curves (true reward), drawn beside GAIL's"""
    work: str = "runs/gail_mujoco"
    """checkpoints of unfinished runs"""
    threads: int = 1
    out: str = "results/gail_mujoco.jsonl"
    plot: bool = False
    """only print the table and draw the figure from --out"""
    variant: str = ""
    """NAME:JSON, make_gail options over the preset for the GAIL methods (e.g. 'airl:{"reward": "airl"}');
    their lines' method is METHOD_NAME, so variants and the presets sit side by side"""


def normalized(ret: float, meta: dict[str, Any]) -> float:
    return (ret - meta["random_return"]) / (meta["expert_return"] - meta["random_return"])


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if not args.plot:
        out.parent.mkdir(parents=True, exist_ok=True)
        for env_id in args.envs:
            demos = Transitions.load(Path(args.demos_dir) / f"{env_id}_sac.npz")
            for seed in args.seeds:
                for method in args.methods:
                    run_one(env_id, method, seed, demos, args, out)
    for env_id in args.envs:
        report(env_id, out, args)


def emit(out: Path, row: dict[str, Any]) -> None:
    with out.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


def run_one(env_id: str, method: str, seed: int, demos: Transitions, args: Args, out: Path) -> None:
    name, options = parse_json_variant(args.variant)
    kwargs = {**METHODS.get(method, {}), **options}
    label = f"{method}_{name}" if name and method != "bc" else method
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    mine = {r["env_steps"]: r for r in rows if (r["env"], r["method"], r["seed"]) == (env_id, label, seed)}
    key = {"env": env_id, "method": label, "seed": seed, **({"options": options} if name else {})}
    if method == "bc":
        if not mine:
            t0 = time.perf_counter()
            gail = make_gail(env_id, demos, algo="ppo", seed=seed, device="cpu")
            behaviour_cloning(gail.learner, gail.train_demos, args.bc_epochs)
            ret, seconds = rollout(gail, env_id, 5, seed=seed + 500).mean_return, time.perf_counter() - t0
            emit(out, {**key, "algo": "ppo", "env_steps": 0, "return_mean": ret,
                       "normalized_score": normalized(ret, demos.meta), "seconds": round(seconds, 1)})  # fmt: skip
        return
    if max(mine, default=0) >= args.steps:
        return
    ckpt = Path(args.work) / f"{env_id}_{label}_seed{seed}.safetensors"
    if ckpt.exists():
        gail = GAIL.load(ckpt, device="cpu")
    else:
        gail = make_gail(env_id, demos, seed=seed, device="cpu", **kwargs)
    seconds = mine[max(mine)]["seconds"] if mine else 0.0
    while True:
        steps = gail.learner.num_timesteps
        if steps and steps not in mine:  # evaluation after each chunk (also one a kill interrupted)
            ret = rollout(gail, env_id, 5, seed=seed + 500).mean_return
            last = gail.history[-1] if gail.history else {}  # the discriminator's view at the last round
            seen = {k: round(float(last[k]), 4) for k in DIAGNOSTICS if k in last}
            emit(out, {**key, "algo": kwargs["algo"], "env_steps": steps, "return_mean": ret,
                       "normalized_score": normalized(ret, demos.meta), "seconds": round(seconds, 1), **seen})  # fmt: skip
            mine[steps] = {}
        if steps >= args.steps:
            return
        t0 = time.perf_counter()
        gail.learn(min(steps + args.eval_every, args.steps))
        seconds += time.perf_counter() - t0
        gail.save(ckpt)


DIAGNOSTICS = ("disc_acc_demo_heldout", "disc_acc_policy", "reward_policy", "reward_absorbing")
"""Fields of GAIL's last history row copied into each line."""


def report(env_id: str, out: Path, args: Args) -> None:
    """A markdown table (normalised score per method at several step counts, mean and per seed;
    first env steps reaching 0.9) and the figure."""
    rows = [r for r in map(json.loads, out.read_text().splitlines()) if r["env"] == env_id] if out.exists() else []
    demos_meta = Transitions.load(Path(args.demos_dir) / f"{env_id}_sac.npz").meta
    expert_curve = [{"env_steps": r["env_steps"], "normalized_score": normalized(r["return_mean"], demos_meta)}
                    for r in map(json.loads, Path(args.experts).read_text().splitlines()) if r["env"] == env_id]  # fmt: skip
    runs: dict[str, dict[int, list[dict]]] = {}
    for r in rows:
        runs.setdefault(r["method"], {}).setdefault(r["seed"], []).append(r)
    marks = [s for s in (25_000, 50_000, 100_000, 200_000, 500_000, 1_000_000) if any(r["env_steps"] >= s for r in rows)]
    print(f"\n{env_id}: expert {demos_meta['expert_return']:.0f}, random {demos_meta['random_return']:.0f}; "
          f"SAC expert (true reward) first reaches 0.9 at {first_reach(expert_curve)} env steps\n")  # fmt: skip
    print("| method | seeds | " + " | ".join(f"{m // 1000}k" for m in marks) + " | first reaching 0.9, per seed |")
    print("|---|---|" + "---|" * len(marks) + "---|")
    for method, seeds in runs.items():
        curves = [sorted(c, key=lambda r: r["env_steps"]) for c in seeds.values()]
        cells = []
        for m in marks:
            at = [next((r["normalized_score"] for r in c if r["env_steps"] >= m), None) for c in curves]
            got = [a for a in at if a is not None]
            cells.append(f"{np.mean(got):.2f} ({' / '.join(f'{a:.2f}' for a in got)})" if got else "")
        if method == "bc":
            cells = [f"{np.mean([c[0]['normalized_score'] for c in curves]):.2f} (no env steps)"] * len(marks)
        reach = " / ".join(str(first_reach(c)) for c in curves)
        print(f"| {method} | {len(curves)} | " + " | ".join(cells) + f" | {reach} |")
    lines = {m: [sorted(c, key=lambda r: r["env_steps"]) for c in s.values()] for m, s in runs.items() if m != "bc"}
    if expert_curve:
        lines["SAC expert, true reward"] = [expert_curve]
    refs = {"expert": 1.0, "0.9": 0.9}
    if "bc" in runs:
        refs["BC"] = float(np.mean([r["normalized_score"] for c in runs["bc"].values() for r in c]))
    if lines:
        plot_learning_curves(lines, out.with_name(f"{out.stem}_{env_id}.png"), "env_steps", "normalized_score",
                             f"{env_id}: normalised score vs. env steps", refs)  # fmt: skip


def first_reach(curve: list[dict], level: float = 0.9) -> int | str:
    return next((r["env_steps"] for r in curve if r["normalized_score"] >= level), "not yet")


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
