"""Why Dyna/MBPO unlearns, and whether it stays learned: return vs. real steps, several loop settings.

Per (env, model, variant, seed): ``genrl.worldmodel.dyna.dyna_sac`` with the variant's
:class:`~genrl.worldmodel.dyna.DynaConfig` (``name:field=value,...`` over the defaults below),
scored every ``eval_every`` real steps on 3 real episodes. Models: ``gan``, ``ensemble``, ``mlp``
and ``true`` (the env's true kernel where genrl has one: for Pendulum-v1, the kicked pendulum
without kicks; a perfect model, so a collapse there is the loop's, not the model's). ``sac`` is
SB3's model-free SAC on the same evaluation grid. One JSON line per run in ``--out`` (runs already
there are skipped): env, model, variant, seed, config, curve, first_reach (real steps of the first
evaluation at or above ``--target``), held (the lowest evaluation from then on), seconds.
``--plot`` prints the table and draws one figure per env.

    python experiments/dyna_stability.py --models true gan --variants default: no_ln:critic_layer_norm=false --seeds 0 1 2
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import genrl  # noqa: F401  (registers the genrl/ envs)
from genrl.cli import parse_dataclass
from genrl.cli.parsing import parse_variant
from genrl.plotting import plot_learning_curves
from genrl.worldmodel import make_world_model
from genrl.worldmodel.dyna import DynaConfig, dyna_sac, model_free_sac
from genrl.worldmodel.oracle import TrueKernel
from genrl.worldmodel.rewards import pendulum_reward

REWARDS = {"Pendulum-v1": pendulum_reward}
"""Closed-form rewards (as PETS and MBPO on Pendulum assume a known reward); other envs learn theirs."""
TRUE_KERNELS = {"Pendulum-v1": ("genrl/KickedPendulum-v0", {"kick_prob": 0.0})}


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: ["Pendulum-v1"])
    models: list[str] = field(default_factory=lambda: ["true", "gan", "ensemble", "sac"])
    variants: list[str] = field(default_factory=lambda: ["default:"])
    """name:field=value,... over DynaConfig (each runs --steps real steps)"""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 3000
    eval_every: int = 200
    target: float = -200.0
    threads: int = 1
    out: str = "results/dyna_stability.jsonl"
    plot: bool = False


def model_for(kind: str, env_id: str, seed: int) -> Any:
    if kind == "true":
        kernel_id, kwargs = TRUE_KERNELS[env_id]
        return TrueKernel(gym.make(kernel_id, **kwargs), seed)
    env = gym.make(env_id)
    return make_world_model(kind, env.observation_space.shape[0], env.action_space.shape[0], seed=seed)


def summary(curve: list[dict[str, float]], target: float) -> dict[str, Any]:
    first = next((i for i, r in enumerate(curve) if r["return_mean"] >= target), None)
    if first is None:
        return {"first_reach": None, "held": None}
    return {"first_reach": curve[first]["env_steps"], "held": min(r["return_mean"] for r in curve[first:])}


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if not args.plot:
        out.parent.mkdir(parents=True, exist_ok=True)
        done = {(r["env"], r["model"], r["variant"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())} \
            if out.exists() else set()  # fmt: skip
        base = DynaConfig(eval_every=args.eval_every)
        for env_id in args.envs:
            for seed in args.seeds:
                for kind in args.models:
                    for spec in args.variants if kind != "sac" else ["-:"]:
                        name, config = parse_variant(spec, base)
                        if (env_id, kind, name, seed) in done:
                            continue
                        t0 = time.perf_counter()
                        if kind == "sac":
                            curve = model_free_sac(env_id, args.steps, args.eval_every, seed, device="cpu")
                        else:
                            curve = dyna_sac(env_id, model_for(kind, env_id, seed), args.steps, config,
                                             reward_fn=REWARDS.get(env_id), seed=seed, device="cpu")[1]  # fmt: skip
                        curve = [{"env_steps": r["step"], **r} for r in curve]  # the key of the lines already here
                        row = {"env": env_id, "model": kind, "variant": name, "seed": seed,
                               "config": asdict(config) if kind != "sac" else None, **summary(curve, args.target),
                               "seconds": round(time.perf_counter() - t0, 1), "curve": curve}  # fmt: skip
                        with out.open("a") as f:
                            f.write(json.dumps(row) + "\n")
                        print(json.dumps({k: v for k, v in row.items() if k not in ("curve", "config")}), flush=True)
    report(out, args.target)


def report(out: Path, target: float) -> None:
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    print(f"\n| env | model | variant | seeds | first evaluation >= {target:g} (per seed) | lowest after it (per seed) "
          "| final (mean) | held in every seed |\n|---|---|---|---|---|---|---|---|")  # fmt: skip
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["env"], r["model"], r["variant"]), []).append(r)
    for (env_id, kind, name), runs in groups.items():
        runs.sort(key=lambda r: r["seed"])
        held = all(r["held"] is not None and r["held"] >= target for r in runs)
        print(f"| {env_id} | {kind} | {name} | {len(runs)} | " + " / ".join(str(r["first_reach"]) for r in runs) + " | "
              + " / ".join("-" if r["held"] is None else f"{r['held']:.0f}" for r in runs)
              + f" | {np.mean([r['curve'][-1]['return_mean'] for r in runs]):.0f} | {'yes' if held else 'no'} |")  # fmt: skip
    for env_id in dict.fromkeys(r["env"] for r in rows):
        curves = {f"{k} {n}": [r["curve"] for r in runs] for (e, k, n), runs in groups.items() if e == env_id}
        plot_learning_curves(curves, out.with_name(f"{out.stem}_{env_id.replace('/', '_')}.png"), "env_steps",
                             "return_mean", f"{env_id}: Dyna/MBPO return vs. real steps", {"target": target})  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
