"""Does knowing the modes change the plan? MPC through several models on an env built for it.

Envs (``--env``): ``genrl/ForkWall2D-v0`` (both outcomes of a push clear a wall, their average hits
it) and ``genrl/JumpPits2D-v0`` (both outcomes of a jump land in a pit, their average is safe); see
their docstrings. The same CEM planner (particles, the env's closed-form reward and termination)
plans through:

* ``true``: the env's own kernel (what a perfect model gives this planner);
* ``best_gaussian``: one Gaussian per (s, a) with the kernel's true mean and standard deviation
  (the best any unimodal model can do; :class:`genrl.worldmodel.oracle.GaussianKernel`);
* ``gan``, ``gan5`` (five GAN members), ``ensemble`` (PETS) and ``mlp`` (a deterministic net):
  world models fitted on ``transitions`` transitions from the env's data policy;
* ``sac``: no model and no planner: SB3 SAC trained for ``transitions`` real steps (the same real-step
  budget), then played deterministically.

``--variants`` adds fitted models by name, ``name:kind:option=value,...`` over
:func:`genrl.worldmodel.make_world_model`'s options (tuples as ``64x64``), e.g. ``gan_r01:gan:r1=0.1``;
``--fit-only`` skips the episode and scores the one-step fit alone (for searching a model's recipe).

One JSON line per (env, model, seed): the episode return, the env's own episode facts (ForkWall:
crashed, the step it first passed the wall's rows; JumpPits: jumps, pit landings), the fit
seconds, and the model's one-step fit where the kernel forks (``--probes`` pairs: the total
variation of its mode weights, ``mode_tv``, and the energy distance to the true kernel,
``edge_energy_distance``); a bar chart of mean returns. ``--summarize`` prints the table.

    python experiments/planning_payoff.py --env genrl/JumpPits2D-v0 --seeds 0 1 2 3 4
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import SAC

import genrl  # noqa: F401  (registers the genrl/ envs)
from genrl.cli import parse_dataclass
from genrl.envs import JumpPits2D
from genrl.plotting import bar_chart
from genrl.rollout import collect, rollout
from genrl.transitions import Transitions
from genrl.worldmodel import make_world_model
from genrl.worldmodel.evaluate import mode_weight_error, one_step_energy_distance
from genrl.worldmodel.model_env import BatchedModelEnv, TransitionFn
from genrl.worldmodel.oracle import GaussianKernel, TrueKernel
from genrl.worldmodel.planner import MPCPlanner
from genrl.worldmodel.rewards import fork_wall_crash, fork_wall_reward, jump_pits_reward

LEARNED = {"gan": ("gan", {}), "gan5": ("gan", {"members": 5}), "ensemble": ("ensemble", {}), "mlp": ("mlp", {})}
"""Fitted models by name: ``gan5`` is five GANs on bootstrap resamples, each draw from a random one."""


@dataclass
class Args:
    env: str = "genrl/ForkWall2D-v0"
    """genrl/ForkWall2D-v0 or genrl/JumpPits2D-v0"""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    models: list[str] = field(default_factory=lambda: ["true", "best_gaussian", "gan", "ensemble", "mlp", "sac"])
    transitions: int = 20_000
    """fitting data for the models; real steps for sac"""
    fit_steps: int = 3000
    horizon: int = 12
    population: int = 300
    particles: int = 16
    probes: int = 200
    """(s, a) pairs where the kernel forks, on which each model's one-step fit is scored"""
    variants: list[str] = field(default_factory=list)
    """more fitted models, name:kind:option=value,... (e.g. gan_r01:gan:r1=0.1), usable in --models"""
    fit_only: bool = False
    """score the one-step fit where the kernel forks only (no episode)"""
    summarize: bool = False
    """print the table of what --out holds, and redraw its chart; run nothing"""
    threads: int = 1
    out: str = ""
    """JSON lines, appended; (env, model, seed) runs already there are skipped (default:
    results/<env>_planning.jsonl, e.g. results/fork_wall_planning.jsonl)"""


# ----------------------------------------------------------------------------- ForkWall2D
def upward(rng: np.random.Generator) -> Any:
    """A data policy: a_x uniform, a_y uniform on [-0.3, 1] (the start is below the wall)."""
    return lambda obs: np.stack([rng.uniform(-1, 1, len(obs)), rng.uniform(-0.3, 1, len(obs))], 1).astype(np.float32)


def wall_edge_pairs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(s, a) pairs whose step enters the wall's rows from just below it (where the kernel forks)."""
    obs = np.stack([rng.uniform(-1, 1, n), rng.uniform(-0.7, -0.3, n)], 1)
    act = np.stack([rng.uniform(-1, 1, n), rng.uniform(0.3, 1, n)], 1)
    keep = obs[:, 1] + 0.5 * act[:, 1] >= -0.25
    return obs[keep], act[keep]


def wall_facts(played: Transitions) -> dict[str, Any]:
    passed = np.flatnonzero(played.next_obs[:, 1] >= 0.25)
    return {"crashed": bool(played.terminated.any()), "passed_wall_at": int(passed[0]) + 1 if len(passed) else None}


# ----------------------------------------------------------------------------- JumpPits2D
def corridor_jumps(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(s, a) pairs that jump from the corridor (where the kernel forks into the pits)."""
    obs = np.stack([rng.uniform(-1, 1, n), rng.uniform(-3, 2, n)], 1)
    act = np.stack([rng.uniform(-1, 1, n), rng.uniform(-1, 1, n), rng.uniform(0.05, 1, n)], 1)
    return obs, act


def jump_facts(played: Transitions) -> dict[str, Any]:
    pits = JumpPits2D().in_pit(played.next_obs)
    return {"jumps": int((played.act[:, 2] > 0).sum()), "pit_landings": int(pits.sum())}


@dataclass(frozen=True)
class Task:
    """What the experiment needs of an env: a short name, its data policy (``None``: uniform random actions),
    closed-form reward and termination, the pairs where its kernel forks, and its episode facts."""

    name: str
    data_policy: Callable[[np.random.Generator], Any] | None
    reward_fn: TransitionFn
    termination_fn: TransitionFn | None
    fork_pairs: Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]
    facts: Callable[[Transitions], dict[str, Any]]


TASKS = {
    "genrl/ForkWall2D-v0": Task("fork_wall", upward, fork_wall_reward, fork_wall_crash, wall_edge_pairs, wall_facts),
    "genrl/JumpPits2D-v0": Task("jump_pits", None, jump_pits_reward, None, corridor_jumps, jump_facts),
}


def fork_probes(env_id: str, n: int, seed: int) -> Transitions:
    """Pairs where the kernel forks, each with one true next state."""
    rng = np.random.default_rng(seed + 777)
    obs, act = TASKS[env_id].fork_pairs(n, rng)
    env = TrueKernel(env_id, seed).env
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
        return TrueKernel(args.env, seed), 0.0
    if name == "best_gaussian":
        return GaussianKernel(args.env, seed), 0.0
    t0 = time.perf_counter()
    if name == "sac":
        agent = SAC("MlpPolicy", args.env, seed=seed, verbose=0, device="cpu").learn(args.transitions)
        return agent, time.perf_counter() - t0
    make_policy = TASKS[args.env].data_policy
    policy = make_policy(np.random.default_rng(seed)) if make_policy is not None else None
    data = collect(args.env, args.transitions, policy=policy, seed=seed)
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    kind, options = {**LEARNED, **dict(map(parse_model_variant, args.variants))}[name]
    env = gym.make(args.env)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]  # type: ignore[index]
    model = make_world_model(kind, obs_dim, act_dim, seed=seed, **options).fit(data, steps=args.fit_steps)
    return model, time.perf_counter() - t0


def play(model: Any, seed: int, args: Args) -> dict[str, Any]:
    """One episode: MPC through ``model`` (or the SAC agent's own policy): its return and facts."""
    task = TASKS[args.env]
    if isinstance(model, SAC):
        act = lambda obs: model.predict(obs, deterministic=True)[0]  # noqa: E731
    else:
        sim = BatchedModelEnv(model, reward_fn=task.reward_fn, termination_fn=task.termination_fn)
        space = gym.make(args.env).action_space
        planner = MPCPlanner(sim, space.low, space.high, horizon=args.horizon, population=args.population,  # type: ignore[attr-defined]
                             elites=args.population // 10, iterations=4, particles=args.particles, seed=seed)  # fmt: skip
        act = planner.act
    played = rollout(act, args.env, 1, seed=seed, keep_transitions=True)
    assert played.transitions is not None  # keep_transitions=True
    return {"return": float(played.returns[0]), **task.facts(played.transitions)}


def summarize(rows: list[dict[str, Any]], models: list[str]) -> None:
    print("| model | return (mean ± std) | per seed |")
    print("|---|---|---|")
    for m in models:
        runs = sorted((r for r in rows if r["model"] == m and "return" in r), key=lambda r: r["seed"])
        if runs:
            ret = np.array([r["return"] for r in runs])
            print(f"| {m} | {ret.mean():.2f} ± {ret.std():.2f} | {' / '.join(f'{v:.2f}' for v in ret)} |")


def main(args: Args) -> None:
    if args.env not in TASKS:
        raise SystemExit(f"--env must be one of {sorted(TASKS)}, got {args.env!r}")
    torch.set_num_threads(args.threads)
    out = Path(args.out or f"results/{TASKS[args.env].name}_planning.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    rows = [r for r in rows if r.get("env", "genrl/ForkWall2D-v0") == args.env]  # early lines name no env: ForkWall's
    done = {(r["model"], r["seed"]) for r in rows}
    for seed in [] if args.summarize else args.seeds:
        for model_name in args.models:
            if (model_name, seed) in done:
                continue
            model, fit_seconds = model_for(model_name, seed, args)
            row = {"env": args.env, "model": model_name, "seed": seed, "fit_seconds": round(fit_seconds, 1)}
            if not args.fit_only:
                row.update(play(model, seed, args))
            if model_name != "sac":
                probes = fork_probes(args.env, args.probes, seed)  # the one-step fit where the kernel forks
                kernel = TrueKernel(args.env, seed).env
                row.update(mode_weight_error(model, kernel, probes, seed=seed))
                row["edge_energy_distance"] = one_step_energy_distance(model, kernel, probes, seed=seed)["energy_distance"]
            print(json.dumps(row), flush=True)
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            rows.append(row)
    summarize(rows, args.models)
    means = {
        m: float(np.mean([r["return"] for r in rows if r["model"] == m and "return" in r]))
        for m in args.models
        if any(r["model"] == m and "return" in r for r in rows)
    }
    if means:  # --fit-only runs play no episode
        bar_chart({args.env: means}, out.with_suffix(".png"), "episode return (mean over seeds)", "MPC through each model")


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
