"""GAIL on CartPole-v1 and Pendulum-v1 from 10 expert episodes, vs. behaviour cloning alone.

Per env: train an expert with ``genrl.gail.train_expert`` (the ``genrl demos train-expert``
settings), record 10 episodes, then for each seed and method train and log the normalised score
((learner - random) / (expert - random)) against env steps and seconds. One JSON line per run,
appended to ``OUT.jsonl`` (env, method, seed, env_steps, return_mean, normalized_score, seconds,
steps_to_95, seconds_to_95, gail_kwargs, curve); runs already there are skipped, so a killed sweep
resumes. One figure of return vs. env steps per env for all methods. ``--variant NAME:JSON`` runs
GAIL with other make_gail options beside the defaults.

Each run is evaluated on fixed start states (5 episodes seeded ``seed + 500`` along the way, 10
seeded ``seed + 1000`` at the end), and on Pendulum those alone move the expert's own return by
tens of points. ``--paired`` scores every run's lines against the expert on the *same* start
states ((learner - random) / (expert there - random)) and prints the table; lines written since
carry those expert returns (``expert_return_eval_starts``, ``expert_return_final_starts``).

    python experiments/gail_classic.py [--envs CartPole-v1 Pendulum-v1 --seeds 0 1 2]
    python experiments/gail_classic.py --envs Pendulum-v1 --methods gail --variant 'replay:{"disc_source": "replay"}'
    python experiments/gail_classic.py --envs Pendulum-v1 --paired --out results/gail_classic_final
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
from genrl.gail import make_gail, record, train_expert
from genrl.plotting import plot_learning_curves
from genrl.rollout import random_return

# every run is scored on these start states: EVAL_EPISODES seeded from seed + EVAL_SEED at each
# evaluation, FINAL_EPISODES from seed + FINAL_SEED at the end
EVAL_EPISODES, EVAL_SEED, FINAL_EPISODES, FINAL_SEED = 5, 500, 10, 1000


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: ["CartPole-v1", "Pendulum-v1"])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 50_000
    episodes: int = 10
    eval_every: int = 2048
    threads: int = 1
    out: str = "results/gail_classic"
    """figures go here; one JSON line per run is appended to OUT.jsonl, and runs already there are skipped"""
    methods: list[str] = field(default_factory=lambda: ["gail", "bc"])
    variant: str = ""
    """NAME:JSON, make_gail options for GAIL (e.g. 'replay:{"disc_source": "replay"}'); its lines' method
    is gail_<algo>_NAME, so variants and the defaults sit side by side"""
    paired: bool = False
    """train nothing: score the lines in OUT.jsonl against the expert on each run's own start states"""


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    lines = Path(args.out).with_suffix(".jsonl")
    rows = [json.loads(line) for line in lines.read_text().splitlines()] if lines.exists() else []
    name, gail_kwargs = parse_json_variant(args.variant)
    for env_id in args.envs:
        gail_algo = "ppo" if env_id == "CartPole-v1" else "sac"
        # BC trains the PPO policy (categorical or Gaussian) on the demos and takes no env steps
        runs = {
            f"gail_{gail_algo}" + (f"_{name}" if name else ""): (gail_algo, 0, args.steps, gail_kwargs),
            "bc": ("ppo", 50, 0, {}),
        }
        runs = {m: r for m, r in runs.items() if m.split("_")[0] in args.methods}
        todo = [(m, seed) for seed in args.seeds for m in runs
                if not any((r["env"], r["method"], r["seed"]) == (env_id, m, seed) for r in rows)]  # fmt: skip
        if args.paired:
            mine = [r for r in rows if r["env"] == env_id and r["method"] != "bc"]
            if mine:  # lines written since the expert's returns on their starts were added need no expert
                retrain = any("expert_return_eval_starts" not in r for r in mine)
                paired_table(mine, train_expert(env_id, seed=0, device="cpu") if retrain else None)
            continue
        if not todo:
            continue
        expert = train_expert(env_id, seed=0, device="cpu")
        demos = record(expert, env_id, args.episodes, seed=0)
        expert_ret, rand_ret = float(np.mean(demos.meta["episode_returns"])), random_return(env_id)
        for method, seed in todo:
            algo, bc_epochs, steps, kwargs = runs[method]
            t0 = time.perf_counter()
            gail = make_gail(env_id, demos, algo=algo, bc_epochs=bc_epochs, seed=seed, device="cpu", **kwargs)
            curve, reached, train_seconds = [], None, time.perf_counter() - t0  # BC pretraining counts
            while True:  # train in chunks; evaluation time is not counted as training time
                t0 = time.perf_counter()
                gail.learn(min(gail.learner.num_timesteps + args.eval_every, steps))
                train_seconds += time.perf_counter() - t0
                ret = float(np.mean(record(gail, env_id, EVAL_EPISODES, seed=seed + EVAL_SEED).meta["episode_returns"]))
                curve.append({"env_steps": gail.learner.num_timesteps, "return_mean": ret, "seconds": train_seconds})
                if reached is None and (ret - rand_ret) / (expert_ret - rand_ret) >= 0.95:
                    reached = (gail.learner.num_timesteps, train_seconds)
                if gail.learner.num_timesteps >= steps:
                    break
            ret = float(np.mean(record(gail, env_id, FINAL_EPISODES, seed=seed + FINAL_SEED).meta["episode_returns"]))
            row = {"env": env_id, "method": method, "seed": seed, "env_steps": gail.learner.num_timesteps,
                   "return_mean": ret, "normalized_score": (ret - rand_ret) / (expert_ret - rand_ret),
                   "seconds": round(train_seconds, 1), "expert_return": expert_ret, "random_return": rand_ret,
                   "steps_to_95": reached[0] if reached else None,
                   "seconds_to_95": round(reached[1], 1) if reached else None, "gail_kwargs": kwargs,
                   **expert_on_starts(expert, env_id, seed),
                   "curve": curve if bc_epochs == 0 else []}  # fmt: skip
            print(json.dumps({k: v for k, v in row.items() if k != "curve"}), flush=True)
            with lines.open("a") as f:
                f.write(json.dumps(row) + "\n")
            rows.append(row)
        plot(rows, env_id, Path(args.out), args.episodes)


def expert_on_starts(expert: Any, env_id: str, seed: int) -> dict[str, float]:
    """The expert's return on a run's evaluation start states (the same seeds as the run's evaluations)."""
    return {
        f"expert_return_{name}_starts": float(np.mean(record(expert, env_id, n, seed=seed + offset).meta["episode_returns"]))
        for name, n, offset in (("eval", EVAL_EPISODES, EVAL_SEED), ("final", FINAL_EPISODES, FINAL_SEED))
    }


def paired_table(rows: list[dict], expert: Any) -> None:
    """Print each run's score against the demos' expert return and against the expert on the same starts."""
    print("| method | seed | env steps | final: vs demos / vs expert on the same starts "
          "| first evaluation >= 0.95: vs demos / same starts | expert on the run's starts (5 / 10 episodes) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in rows:
        same = {k: r[k] for k in ("expert_return_eval_starts", "expert_return_final_starts") if k in r}
        same = same or expert_on_starts(expert, r["env"], r["seed"])
        eval_ref, final_ref, rand = same["expert_return_eval_starts"], same["expert_return_final_starts"], r["random_return"]
        final = [(r["return_mean"] - rand) / (ref - rand) for ref in (r["expert_return"], final_ref)]
        firsts = [first_at(r.get("curve", []), ref, rand) for ref in (r["expert_return"], eval_ref)]
        print(f"| {r['method']} | {r['seed']} | {r['env_steps']:,} | {final[0]:.2f} / {final[1]:.2f} | "
              f"{firsts[0]} / {firsts[1]} | {eval_ref:.0f} / {final_ref:.0f} |", flush=True)  # fmt: skip


def first_at(curve: list[dict], expert_return: float, random_return: float, score: float = 0.95) -> str:
    """The first evaluation's env steps whose normalised return reaches ``score``."""
    hit = [p["env_steps"] for p in curve if p["return_mean"] - random_return >= score * (expert_return - random_return)]
    return f"{hit[0]:,}" if hit else ("never" if curve else "no curve")


def plot(rows: list[dict], env_id: str, out: Path, episodes: int) -> None:
    """Return vs. env steps for every GAIL method with curves in the lines, BC's mean as a reference."""
    mine = [r for r in rows if r["env"] == env_id]
    curves: dict[str, list] = {}
    for r in mine:
        if r.get("curve"):
            curves.setdefault(r["method"], []).append(r["curve"])
    refs = {"expert": mine[0]["expert_return"], "random": mine[0]["random_return"]}
    bc = [r["return_mean"] for r in mine if r["method"] == "bc"]
    if bc:
        refs["BC (mean)"] = float(np.mean(bc))
    plot_learning_curves(curves, out / f"{env_id}_return_vs_steps.png", x="env_steps", y="return_mean",
                         title=f"{env_id}: return vs. env steps, {episodes} demo episodes", refs=refs)  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
