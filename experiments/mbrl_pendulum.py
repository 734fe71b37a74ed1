"""Model-based RL with the GAN world model on Pendulum-v1 and the kicked (stochastic) pendulum.

Per seed, in the same run, return vs. real env steps of:

* Pendulum-v1: ``gan_mpc`` (PETS-style CEM MPC through the GAN model, refitted after every
  episode), ``gan_dyna`` (MBPO-style SAC on 1-step GAN rollouts), ``sac`` (SB3 SAC, model-free) and
  ``true_mpc`` (the same MPC through the kicked pendulum's kernel with no kicks: Pendulum-v1's
  dynamics plus 0.02 rad/s velocity noise);
* genrl/KickedPendulum-v0: ``gan_mpc`` against ``ensemble_mpc`` (the same MPC through a PETS
  Gaussian ensemble) and ``true_mpc`` (the same MPC through the env's true kernel: what a perfect
  model would reach with this planner).

The reward is Pendulum's closed form in both envs (as PETS assumes a known reward). One JSON line
per run: ``env, method, seed, curve, return_at_1000`` (mean return of the evaluations at <= 1000
real steps after the first model fit, i.e. the planned episodes for MPC), ``seconds``; and one
figure per env of return vs. real env steps for every method.

    python experiments/mbrl_pendulum.py [--seeds 0 1 2 --threads 1]
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import genrl  # noqa: F401  (registers the genrl/ envs)
from genrl.cli import parse_dataclass
from genrl.plotting import plot_learning_curves
from genrl.worldmodel import make_world_model
from genrl.worldmodel.dyna import DynaConfig, dyna_sac, model_free_sac
from genrl.worldmodel.oracle import TrueKernel
from genrl.worldmodel.pets import PETSConfig, mpc_loop
from genrl.worldmodel.rewards import pendulum_reward


@dataclass
class Args:
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    envs: list[str] = field(default_factory=lambda: ["Pendulum-v1", "genrl/KickedPendulum-v0"])
    methods: list[str] = field(default_factory=list)  # empty: every method of each env
    mpc_episodes: int = 4
    mpc_fit_steps: int = 1000
    dyna_steps: int = 1000
    sac_steps: int = 5000
    eval_every: int = 200
    threads: int = 1
    out: str = "results/mbrl_pendulum"


def run(env_id: str, method: str, seed: int, args: Args) -> list[dict[str, float]]:
    if method == "sac":
        return [
            {"env_steps": r["step"], **r} for r in model_free_sac(env_id, args.sac_steps, args.eval_every, seed, device="cpu")
        ]
    if method == "true_mpc":
        kernel = gym.make("genrl/KickedPendulum-v0", **({"kick_prob": 0.0} if env_id == "Pendulum-v1" else {}))
        model = TrueKernel(kernel, seed)
    else:
        model = make_world_model(method.split("_")[0], 3, 1, seed=seed)
    if method.endswith("_dyna"):
        cfg = DynaConfig(eval_every=args.eval_every)
        curve = dyna_sac(env_id, model, args.dyna_steps, cfg, reward_fn=pendulum_reward, seed=seed, device="cpu")[1]
        return [{"env_steps": r["step"], **r} for r in curve]
    cfg = PETSConfig(episodes=args.mpc_episodes, fit_steps=args.mpc_fit_steps)
    rows = mpc_loop(env_id, model, cfg, reward_fn=pendulum_reward, seed=seed, device="cpu")
    return [{"env_steps": r["env_steps"], "return_mean": r["return"]} for r in rows]


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    methods = {"Pendulum-v1": ["true_mpc", "gan_mpc", "gan_dyna", "sac"],
               "genrl/KickedPendulum-v0": ["true_mpc", "gan_mpc", "ensemble_mpc"]}  # fmt: skip
    curves: dict[str, dict[str, list]] = {}
    for seed in args.seeds:  # seeds outermost, so an interrupted run still has every method
        for env_id in args.envs:
            for method in [m for m in methods[env_id] if not args.methods or m in args.methods]:
                t0 = time.perf_counter()
                curve = run(env_id, method, seed, args)
                early = [r["return_mean"] for r in curve if 200 < r["env_steps"] <= 1000]
                reached = next((r["env_steps"] for r in curve if r["return_mean"] >= -200), None)
                row = {"env": env_id, "method": method, "seed": seed, "return_at_1000": float(np.mean(early)),
                       "first_eval_at_least_-200": reached, "seconds": round(time.perf_counter() - t0, 1),
                       "curve": curve}  # fmt: skip
                print(json.dumps(row), flush=True)
                curves.setdefault(env_id, {}).setdefault(method, []).append(curve)
                plot_learning_curves(curves[env_id], Path(args.out) / f"{env_id.replace('/', '_')}_return_vs_steps.png",
                                     x="env_steps", y="return_mean", refs={"-200": -200.0},
                                     title=f"{env_id}: return vs. real env steps")  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
