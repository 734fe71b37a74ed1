"""World-model quality: GAN vs. Gaussian ensemble vs. MLP on the stochastic envs and Pendulum-v1.

For each env, model and seed: collect random-policy transitions, fit, then report the one-step
energy distance to the true kernel (the genrl envs, beside its truth-vs-truth floor), the energy
score on held-out logged transitions (every env), and the open-loop rollout error; on Fork2D also
the energy distance over only the probes whose true kernel is clearly bimodal; on envs that give
their modes in closed form (Fork2D, UnevenFork2D, RingKick2D) the total variation of the model's
mode weights (``mode_tv``, beside its sampling floor). One JSON line per run: env, model, seed,
energy_distance, energy_distance_floor, energy_score, rollout_error, seconds; a bar plot per env.
UnevenFork2D and RingKick2D were kept out of the models' recipe search: they check the defaults.
``--models`` also takes the ablations in ``VARIANTS``. MuJoCo envs (``genrl[mujoco]``): Hopper-v5
and HalfCheetah-v5 are fitted on random transitions plus their committed SAC expert's (``--demos``),
Hopper's termination included; genrl/PushedHalfCheetah-v0 also gets the energy distance to its true kernel. Runs append
to ``OUT.jsonl`` and skip what is there, so a long sweep resumes.

    python experiments/world_model_quality.py [--envs ... --models gan ensemble mlp --seeds 0 1 2]
    python experiments/world_model_quality.py --envs CartPole-v1 MountainCarContinuous-v0   # rollout error only
    python experiments/world_model_quality.py --envs Hopper-v5 genrl/PushedHalfCheetah-v0 --out results/world_model_mujoco
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import genrl  # noqa: F401  (registers the envs)
from genrl.cli import parse_dataclass
from genrl.plotting import bar_chart
from genrl.rollout import collect
from genrl.transitions import Transitions
from genrl.worldmodel import world_model_for
from genrl.worldmodel.evaluate import (
    mode_weight_error,
    model_energy_score,
    modes_apart,
    one_step_energy_distance,
    rollout_error,
    termination_accuracy,
)
from genrl.worldmodel.fitting import EarlyStopping

# Model names this script accepts: the three models with their defaults, and two recipe ablations.
VARIANTS: dict[str, tuple[str, dict]] = {
    "gan": ("gan", {}),
    "ensemble": ("ensemble", {}),
    "mlp": ("mlp", {}),
    "gan_pure": ("gan", {"energy_weight": 0.0, "lr_decay": False}),  # adversarial cost alone, constant lr
    "ensemble_lr_decay": ("ensemble", {"lr_decay": True}),  # the GAN's lr schedule on the PETS ensemble
}


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: ["genrl/Fork2D-v0", "genrl/KickedPendulum-v0", "genrl/GustyCart-v0",
                                                     "Pendulum-v1"])  # fmt: skip
    models: list[str] = field(default_factory=lambda: ["gan", "ensemble", "mlp"])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    transitions: int = 20_000
    steps: int = 5000
    """the most fit steps (the fit stops earlier when its held-out score stops improving)"""
    early_stopping: str = "{}"
    """JSON of EarlyStopping's fields over its defaults, e.g. '{"threshold": 0}'; "off": every step"""
    probes: int = 200
    threads: int = 1
    out: str = "results/world_model_quality"
    """plots go here; JSON lines are appended to OUT.jsonl, and (env, model, seed) already there are skipped"""
    demos: str = "results/demos"
    """an env with expert demonstrations here (ENV_sac.npz, from experiments/mujoco_experts.py) is fitted on
    its random transitions plus the expert's, and scored on a held-out share of both"""


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    unknown = sorted(set(args.models) - set(VARIANTS))
    if unknown:
        raise SystemExit(f"unknown --models {unknown}; choose from {sorted(VARIANTS)}")
    stopping = False if args.early_stopping == "off" else EarlyStopping(**json.loads(args.early_stopping))
    lines = Path(f"{args.out}.jsonl")
    rows = [json.loads(line) for line in lines.read_text().splitlines()] if lines.exists() else []
    done = {(r["env"], r["model"], r["seed"]) for r in rows}
    for env_id in args.envs:
        env = gym.make(env_id)
        expert = Path(args.demos) / f"{env_id.replace('/', '_')}_sac.npz"
        for seed in args.seeds:
            if all((env_id, kind, seed) in done for kind in args.models):
                continue
            data = collect(env_id, args.transitions, seed=seed)
            if expert.exists():  # a mix of random-policy and expert-policy transitions
                data = data.concat(Transitions.load(expert))
            train, held_out = data.split(0.1, seed=seed)
            for kind in args.models:
                if (env_id, kind, seed) in done:
                    continue
                t0 = time.perf_counter()
                base, options = VARIANTS[kind]
                model = world_model_for(base, env, seed=seed, **options).fit(train, steps=args.steps, device="cpu",
                                                                             early_stopping=stopping)  # fmt: skip
                row = {"env": env_id, "model": kind, "seed": seed, "seconds": round(time.perf_counter() - t0, 1),
                       "fit_steps": model.step_count, "early_stopping": args.early_stopping,
                       "transitions": len(data), "expert_transitions": len(data) - args.transitions,
                       "energy_score": model_energy_score(model, held_out[:2000]),
                       "rollout_error": rollout_error(model, env_id, seed=seed)}  # fmt: skip
                if held_out.terminated.any():  # envs that end episodes: the learned termination's balanced accuracy
                    row["termination_accuracy"] = termination_accuracy(model, held_out)
                if hasattr(env.unwrapped, "sample_next"):
                    row.update(one_step_energy_distance(model, env.unwrapped, held_out[: args.probes], seed=seed))
                if hasattr(env.unwrapped, "modes"):  # how much mass the model gives each mode, and its fit
                    # where the kernel's modes are apart (random probes are partly unimodal)
                    row.update(mode_weight_error(model, env.unwrapped, held_out[: args.probes], seed=seed))
                    split = held_out[modes_apart(env.unwrapped, held_out)][: args.probes]
                    ed = one_step_energy_distance(model, env.unwrapped, split, seed=seed)
                    row.update({f"{k}_multimodal_probes": v for k, v in ed.items()})
                if env_id == "genrl/Fork2D-v0":  # random probes are half unimodal; also score the clearly split ones
                    split = held_out[held_out.act[:, 1] > 0.5][: args.probes]  # modes >= 1 apart (20 noise std)
                    ed = one_step_energy_distance(model, env.unwrapped, split, seed=seed)
                    row.update({f"{k}_bimodal_probes": v for k, v in ed.items()})
                print(json.dumps(row), flush=True)
                with lines.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                rows.append(row)
    for env_id in args.envs:
        key = "energy_distance" if any("energy_distance" in r for r in rows if r["env"] == env_id) else "energy_score"
        groups = {kind: {key: float(np.mean([r[key] for r in rows if (r["env"], r["model"]) == (env_id, kind)]))}
                  for kind in args.models}  # fmt: skip
        bar_chart(groups, Path(args.out) / f"{env_id.replace('/', '_')}_{key}.png", f"{key} (lower is better)", env_id)


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
