"""Imagination throughput: imagined transitions/s from BatchedModelEnv (GAN vs. Gaussian ensemble of
the same hidden width) vs. real gymnasium steps/s, same run.

The ensemble samples with TS1 as mbrl-lib does: each state goes through one random member, so each
member computes only its share of the batch. For context, ``ensemble (every member)`` times a pass
of every member over every state (PETS' "expectation" propagation, or MBPO's original sampler,
which predicts with all members and then picks one per state).

    python experiments/world_model_throughput.py [--batch 4096 --steps 50 --threads 2 --device cpu]
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import genrl  # noqa: F401
from genrl.cli import parse_dataclass
from genrl.plotting import bar_chart
from genrl.rollout import collect
from genrl.worldmodel import make_world_model
from genrl.worldmodel.model_env import BatchedModelEnv


@dataclass
class Args:
    env: str = "Pendulum-v1"
    batch: int = 4096
    steps: int = 50
    hidden: int = 200
    threads: int = 2
    device: str = "cpu"
    out: str = "results/world_model_throughput"


def timed(step: Callable[..., object], args: Args, device: torch.device, *inputs: object) -> float:
    """Rows per second of ``args.steps`` calls of ``step(*inputs)`` on a batch of ``args.batch``, after a warm-up."""
    step(*inputs)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step(*inputs)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return args.batch * args.steps / (time.perf_counter() - t0)


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    data = collect(args.env, 2000, seed=0)
    rates = {}
    for kind in ("gan", "ensemble", "mlp"):
        model = make_world_model(kind, data.obs.shape[1], data.act.shape[1], hidden=(args.hidden,) * 3)
        model.fit(data, steps=10, device=args.device)  # sets the standardisers; speed does not depend on training
        sim = BatchedModelEnv(model)
        acts = torch.rand(args.batch, data.act.shape[1], device=model.device) * 2 - 1
        sim.reset(data.obs[np.arange(args.batch) % len(data)])
        rates[kind] = timed(sim.step, args, model.device, acts)
        if kind == "ensemble":
            rates["ensemble (every member)"] = timed(model.mean_prediction, args, model.device, sim.obs, acts)
    env = gym.make(args.env)
    env.reset(seed=0)
    n, t0 = 20_000, time.perf_counter()
    for _ in range(n):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        if term or trunc:
            env.reset()
    rates["real env"] = n / (time.perf_counter() - t0)
    for kind, rate in rates.items():
        print(json.dumps({"source": kind, "env": args.env, "device": args.device, "threads": args.threads,
                          "batch": args.batch, "transitions_per_s": round(rate)}))  # fmt: skip
    print(json.dumps({"gan_over_ensemble": round(rates["gan"] / rates["ensemble"], 2)}))
    bar_chart({args.env: rates}, Path(args.out) / "throughput.png", "transitions / s", f"{args.device}, batch {args.batch}")


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
