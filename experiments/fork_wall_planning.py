"""Does knowing the modes change the plan? MPC on genrl/ForkWall2D-v0 through four models.

The same CEM planner (particles, closed-form reward and crash termination) plans through:

* ``true``: the env's own kernel (what a perfect model gives this planner);
* ``best_gaussian``: one Gaussian per (s, a) with the kernel's true mean and standard deviation
  (the best any unimodal model can do; :class:`genrl.worldmodel.oracle.GaussianKernel`);
* ``gan``, ``gan5`` (five GAN members) and ``ensemble``: world models fitted on ``transitions``
  random transitions whose actions push upward more often than not (so the wall's edge is visited).

``--variants`` adds fitted models by name, ``name:kind:option=value,...`` over
:func:`genrl.worldmodel.make_world_model`'s options (tuples as ``64x64``), e.g. ``gan_r01:gan:r1=0.1``;
``--fit-only`` skips the episode and scores the one-step fit alone (for searching a model's recipe).

One JSON line per (model, seed): the episode return, whether it crashed, the step it first
passed the wall's rows (or null), the fit seconds, and the model's one-step fit where the kernel
forks (``--probes`` pairs entering the wall's rows from below: the total variation of its mode
weights, ``mode_tv``, and the energy distance to the true kernel, ``edge_energy_distance``);
a bar chart of mean returns.

    python experiments/fork_wall_planning.py [--seeds 0 1 2 --models true best_gaussian gan ensemble]
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

import genrl  # noqa: F401  (registers the genrl/ envs)
from genrl.cli import parse_dataclass
from genrl.plotting import bar_chart
from genrl.rollout import collect, rollout
from genrl.transitions import Transitions
from genrl.worldmodel import make_world_model
from genrl.worldmodel.evaluate import mode_weight_error, one_step_energy_distance
from genrl.worldmodel.model_env import BatchedModelEnv
from genrl.worldmodel.oracle import GaussianKernel, TrueKernel
from genrl.worldmodel.planner import MPCPlanner
from genrl.worldmodel.rewards import fork_wall_crash, fork_wall_reward

ENV = "genrl/ForkWall2D-v0"
LEARNED = {"gan": ("gan", {}), "gan5": ("gan", {"members": 5}), "ensemble": ("ensemble", {})}
"""Fitted models by name: ``gan5`` is five GANs on bootstrap resamples, each draw from a random one."""


@dataclass
class Args:
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    models: list[str] = field(default_factory=lambda: ["true", "best_gaussian", "gan", "ensemble"])
    transitions: int = 20_000
    fit_steps: int = 3000
    horizon: int = 12
    population: int = 300
    particles: int = 16
    probes: int = 200
    """(s, a) pairs at the wall's lower edge on which each model's one-step fit is scored"""
    variants: list[str] = field(default_factory=list)
    """more fitted models, name:kind:option=value,... (e.g. gan_r01:gan:r1=0.1), usable in --models"""
    fit_only: bool = False
    """score the one-step fit at the wall's edge only (no episode)"""
    threads: int = 1
    out: str = "results/fork_wall_planning.jsonl"
    """JSON lines are appended; (model, seed) pairs already there are skipped"""


def upward(rng: np.random.Generator) -> Any:
    """A data policy: a_x uniform, a_y uniform on [-0.3, 1] (the start is below the wall)."""
    return lambda obs: np.stack([rng.uniform(-1, 1, len(obs)), rng.uniform(-0.3, 1, len(obs))], 1).astype(np.float32)


def edge_probes(n: int, seed: int) -> Transitions:
    """``n`` (s, a) pairs whose step enters the wall's rows from just below it (where the kernel
    forks), each with one true next state."""
    rng = np.random.default_rng(seed + 777)
    obs = np.stack([rng.uniform(-1, 1, n), rng.uniform(-0.7, -0.3, n)], 1)
    act = np.stack([rng.uniform(-1, 1, n), rng.uniform(0.3, 1, n)], 1)
    keep = obs[:, 1] + 0.5 * act[:, 1] >= -0.25
    env = TrueKernel(ENV, seed).env
    obs, act = obs[keep], act[keep]
    nxt = np.concatenate([env.sample_next(o, a, 1, rng)[0] for o, a in zip(obs, act)])
    zeros = np.zeros(len(obs), dtype=bool)
    return Transitions(obs.astype(np.float32), act.astype(np.float32), nxt, np.zeros(len(obs), np.float32), zeros, zeros)


def parse_model_variant(spec: str) -> tuple[str, tuple[str, dict[str, Any]]]:
    """``name:kind:option=value,...`` -> (name, (kind, options)); numbers as ints or floats, ``AxB`` as tuples."""
    name, kind, body = (spec.split(":", 2) + [""])[:3]

    def value(v: str) -> Any:
        if "x" in v:
            return tuple(int(p) for p in v.split("x"))
        return int(v) if v.lstrip("-").isdigit() else float(v)

    return name, (kind, {k: value(v) for k, v in (item.split("=") for item in filter(None, body.split(",")))})


def model_for(name: str, seed: int, args: Args) -> tuple[Any, float]:
    if name == "true":
        return TrueKernel(ENV, seed), 0.0
    if name == "best_gaussian":
        return GaussianKernel(ENV, seed), 0.0
    data = collect(ENV, args.transitions, policy=upward(np.random.default_rng(seed)), seed=seed)
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    kind, options = {**LEARNED, **dict(map(parse_model_variant, args.variants))}[name]
    model = make_world_model(kind, 2, 2, seed=seed, **options).fit(data, steps=args.fit_steps)
    return model, time.perf_counter() - t0


def play(model: Any, seed: int, args: Args) -> dict[str, Any]:
    """One MPC episode through ``model``: its return, whether it crashed, the step it passed the wall."""
    sim = BatchedModelEnv(model, reward_fn=fork_wall_reward, termination_fn=fork_wall_crash)
    planner = MPCPlanner(sim, np.array([-1.0, -1.0]), np.array([1.0, 1.0]), horizon=args.horizon,
                         population=args.population, elites=args.population // 10, iterations=4,
                         particles=args.particles, seed=seed)  # fmt: skip
    played = rollout(planner.act, ENV, 1, seed=seed, keep_transitions=True)
    passed = np.flatnonzero(played.transitions.next_obs[:, 1] >= 0.25)
    return {"return": float(played.returns[0]), "crashed": bool(played.transitions.terminated.any()),
            "passed_wall_at": int(passed[0]) + 1 if len(passed) else None}  # fmt: skip


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    done = {(r["model"], r["seed"]) for r in rows}
    for seed in args.seeds:
        for name in args.models:
            if (name, seed) in done:
                continue
            model, fit_seconds = model_for(name, seed, args)
            row = {"model": name, "seed": seed, "fit_seconds": round(fit_seconds, 1)}
            if not args.fit_only:
                row.update(play(model, seed, args))
            probes = edge_probes(args.probes, seed)  # the one-step fit where the kernel forks
            row.update(mode_weight_error(model, TrueKernel(ENV, seed).env, probes, seed=seed))
            row["edge_energy_distance"] = one_step_energy_distance(model, TrueKernel(ENV, seed).env, probes, seed=seed)[
                "energy_distance"
            ]
            print(json.dumps(row), flush=True)
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            rows.append(row)
    means = {
        m: float(np.mean([r["return"] for r in rows if r["model"] == m and "return" in r]))
        for m in args.models
        if any(r["model"] == m and "return" in r for r in rows)
    }
    if means:  # --fit-only runs play no episode
        bar_chart({"ForkWall2D": means}, out.with_suffix(".png"), "episode return (mean over seeds)", "MPC through each model")


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
