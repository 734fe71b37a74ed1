"""``genrl demos train-expert|collect`` and ``genrl gail``: imitation from demonstrations."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from genrl.cli import write_metrics
from genrl.cli.jobs import CollectDemosJob, GailJob, TrainExpertJob
from genrl.errors import InputError
from genrl.gail import GAIL, load_demos, make_gail, record, train_expert
from genrl.plotting import plot_curves
from genrl.rollout import random_return, rollout
from genrl.utils import seed_everything

CHECKPOINT = "checkpoint.safetensors"


def _load_expert(path: str | Path) -> Any:
    from stable_baselines3 import PPO, SAC

    for cls in (PPO, SAC):
        try:
            return cls.load(path, device="cpu")
        except (KeyError, ValueError, RuntimeError, AssertionError, TypeError):
            continue
    raise InputError(f"{path!r} is not a PPO or SAC model saved by stable-baselines3")


def run_train_expert(args: TrainExpertJob) -> dict[str, Any]:
    seed_everything(args.seed)
    t0 = time.perf_counter()
    model = train_expert(args.env, args.steps, seed=args.seed, device=args.device, progress=not args.quiet)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "expert.zip")
    expert_return = rollout(model, args.env, episodes=10, seed=args.seed + 1000).mean_return
    metrics = {"env": args.env, "algo": type(model).__name__.lower(), "expert_return": expert_return,
               "env_steps": model.num_timesteps, "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
    write_metrics(args.out, metrics)
    return metrics


def run_collect(args: CollectDemosJob) -> dict[str, Any]:
    model = _load_expert(args.expert)
    env_id = args.env
    beside = Path(args.expert).parent / "metrics.json"
    if env_id is None and beside.exists():
        env_id = json.loads(beside.read_text()).get("env")
    if not env_id:
        raise InputError("pass --env: no metrics.json from `genrl demos train-expert` beside the expert names its env")
    demos = record(model, env_id, args.episodes, seed=args.seed)
    demos.save(args.out)
    print(f"recorded {len(demos)} transitions, mean return {np.mean(demos.meta['episode_returns']):.1f} -> {args.out}")
    return {"transitions": len(demos)}


def run_gail(args: GailJob) -> dict[str, Any]:
    seed_everything(args.seed)
    t0 = time.perf_counter()
    demos_path: str | Path | None = args.demos
    if demos_path is None:
        demos_path = args.out / "demos.npz"
        if not (args.resume and demos_path.exists()):
            expert = train_expert(args.env, seed=args.seed, device=args.device, progress=not args.quiet)
            record(expert, args.env, args.episodes, seed=args.seed).save(demos_path)
    demos = load_demos(demos_path, gym.make(args.env))
    ckpt = args.out / CHECKPOINT
    if args.resume and ckpt.exists():
        gail = GAIL.load(ckpt, device=args.device)
        env_id = (gail.factory or {}).get("env_id")
        if env_id != args.env:
            raise InputError(f"--resume: {str(ckpt)!r} is a run on {env_id}, not {args.env}")
        # The run's own options and demos are in the checkpoint; --algo, --reward etc. do not change them.
    else:
        gail = make_gail(args.env, demos, algo=args.algo, reward=args.reward, bc_epochs=args.bc_epochs, seed=args.seed,
                         use_next_obs=args.next_obs, absorbing=args.absorbing, subproc=args.subproc,
                         device=args.device)  # fmt: skip
    algo = (gail.factory or {}).get("algo", args.algo)
    gail.learn(args.steps, progress=not args.quiet, tensorboard_dir=args.out / "tensorboard" if args.tensorboard else None,
               checkpoint_path=ckpt, checkpoint_every=args.checkpoint_every)  # fmt: skip
    train_seconds = gail.history[-1]["seconds"] if gail.history else time.perf_counter() - t0
    learner = rollout(gail.learner, args.env, 10, seed=args.seed + 1000).mean_return
    expert = float(np.mean(demos.meta.get("episode_returns", [np.nan])))
    rand = random_return(args.env, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    gail.learner.save(args.out / "policy.zip")
    gail.reward_net.save(args.out / "reward.safetensors")
    curve = [r for r in gail.history if np.isfinite(r["return_mean"])]
    plot_curves(curve, ["return_mean"], args.out / "learning_curve.png", x="step",
                title=f"GAIL-{algo} on {args.env}")  # fmt: skip
    metrics = {"env": args.env, "algo": algo, "return_mean": learner, "expert_return": expert, "random_return": rand,
               "normalized_score": (learner - rand) / (expert - rand), "env_steps": gail.learner.num_timesteps,
               "seconds": round(train_seconds, 2), "seed": args.seed}  # fmt: skip
    write_metrics(args.out, metrics)
    return metrics
