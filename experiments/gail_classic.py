"""GAIL on CartPole-v1 and Pendulum-v1 from 10 expert episodes, vs. behaviour cloning alone.

Per env: train an expert with ``genrl.gail.train_expert`` (the ``genrl demos train-expert``
settings), record 10 episodes, then for each seed and method train and log the normalised score
((learner - random) / (expert - random)) against env steps and seconds. One JSON line per run
(env, method, seed, env_steps, return_mean, normalized_score, seconds, steps_to_95, seconds_to_95)
and one figure of return vs. env steps for all methods.

    python experiments/gail_classic.py [--envs CartPole-v1 Pendulum-v1 --seeds 0 1 2]
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genrl.cli import parse_dataclass
from genrl.gail import make_gail, record, train_expert
from genrl.plotting import plot_learning_curves
from genrl.rollout import random_return


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: ["CartPole-v1", "Pendulum-v1"])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 50_000
    episodes: int = 10
    eval_every: int = 2048
    threads: int = 1
    out: str = "results/gail_classic"


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    for env_id in args.envs:
        expert = train_expert(env_id, seed=0, device="cpu")
        demos = record(expert, env_id, args.episodes, seed=0)
        expert_ret, rand_ret = float(np.mean(demos.meta["episode_returns"])), random_return(env_id)
        curves: dict[str, list] = {}
        bc_returns: list[float] = []
        for seed in args.seeds:
            gail_algo = "ppo" if env_id == "CartPole-v1" else "sac"
            # BC trains the PPO policy (categorical or Gaussian) on the demos and takes no env steps
            for method, algo, bc_epochs, steps in ((f"gail_{gail_algo}", gail_algo, 0, args.steps), ("bc", "ppo", 50, 0)):
                t0 = time.perf_counter()
                gail = make_gail(env_id, demos, algo=algo, bc_epochs=bc_epochs, seed=seed, device="cpu")
                curve, reached, train_seconds = [], None, time.perf_counter() - t0  # BC pretraining counts
                while True:  # train in chunks; evaluation time is not counted as training time
                    t0 = time.perf_counter()
                    gail.learn(min(gail.learner.num_timesteps + args.eval_every, steps))
                    train_seconds += time.perf_counter() - t0
                    ret = float(np.mean(record(gail, env_id, 5, seed=seed + 500).meta["episode_returns"]))
                    curve.append({"env_steps": gail.learner.num_timesteps, "return_mean": ret, "seconds": train_seconds})
                    if reached is None and (ret - rand_ret) / (expert_ret - rand_ret) >= 0.95:
                        reached = (gail.learner.num_timesteps, train_seconds)
                    if gail.learner.num_timesteps >= steps:
                        break
                seconds = train_seconds
                ret = float(np.mean(record(gail, env_id, 10, seed=seed + 1000).meta["episode_returns"]))
                row = {"env": env_id, "method": method, "seed": seed, "env_steps": gail.learner.num_timesteps,
                       "return_mean": ret, "normalized_score": (ret - rand_ret) / (expert_ret - rand_ret),
                       "seconds": round(seconds, 1), "expert_return": expert_ret, "random_return": rand_ret,
                       "steps_to_95": reached[0] if reached else None,
                       "seconds_to_95": round(reached[1], 1) if reached else None}  # fmt: skip
                print(json.dumps(row), flush=True)
                if method == "bc":
                    bc_returns.append(ret)
                else:
                    curves.setdefault(method, []).append(curve)
        refs = {"expert": expert_ret, "random": rand_ret, "BC (mean)": float(np.mean(bc_returns))}
        plot_learning_curves(curves, Path(args.out) / f"{env_id}_return_vs_steps.png", x="env_steps", y="return_mean",
                             title=f"{env_id}: return vs. env steps, {args.episodes} demo episodes", refs=refs)  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
