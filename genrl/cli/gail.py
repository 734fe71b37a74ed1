"""``genrl demos train-expert|collect`` and ``genrl gail``: imitation from demonstrations."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from genrl.cli import write_metrics
from genrl.cli.jobs import CollectDemosJob, GailJob, TrainExpertJob
from genrl.cli.rundir import claim
from genrl.errors import InputError
from genrl.gail import GAIL, load_demos, make_gail, record, train_expert
from genrl.gail.demos import expert_steps
from genrl.gail.sb3 import EpisodeReturns
from genrl.plotting import plot_curves
from genrl.rollout import random_return, rollout
from genrl.utils import seed_everything

CHECKPOINT = "checkpoint.safetensors"


def _load_expert(path: Path) -> Any:
    """An SB3 PPO, SAC or TD3 model from its .zip, or from the folder `demos train-expert` wrote."""
    from stable_baselines3 import PPO, SAC, TD3

    if path.is_dir():
        path = path / "expert.zip"
    if not path.is_file():
        raise InputError(f"no expert at {str(path)!r}: give the .zip (or the folder) that `genrl demos train-expert` wrote")
    for cls in (PPO, SAC, TD3):
        try:
            return cls.load(path, device="cpu")
        except (KeyError, ValueError, RuntimeError, AssertionError, TypeError, AttributeError, OSError):
            continue
    raise InputError(f"{str(path)!r} is not a PPO, SAC or TD3 model saved by stable-baselines3")


def _save_expert(model: Any, curve: list[dict[str, float]], out: Path, env_id: str) -> None:
    model.save(out / "expert.zip")
    plot_curves(curve, ["return_mean"], out / "expert_learning_curve.png",
                title=f"expert {type(model).__name__} on {env_id} (mean of the last 10 episodes)")  # fmt: skip


def run_train_expert(args: TrainExpertJob) -> dict[str, Any]:
    claim(args, ("expert.zip", "metrics.json"))
    seed_everything(args.seed)
    t0 = time.perf_counter()
    curve = EpisodeReturns(expert_steps(args.env, args.steps, args.algo))
    model = train_expert(args.env, args.steps, seed=args.seed, device=args.device, progress=not args.quiet, callback=curve,
                         tensorboard_dir=args.out / "tensorboard" if args.tensorboard else None, algo=args.algo)  # fmt: skip
    _save_expert(model, curve.rows, args.out, args.env)
    expert_return = rollout(model, args.env, episodes=10, seed=args.seed + 1000).mean_return
    metrics = {"env": args.env, "algo": type(model).__name__.lower(), "expert_return": expert_return,
               "env_steps": model.num_timesteps, "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
    write_metrics(args.out, metrics)
    return metrics


def run_collect(args: CollectDemosJob) -> dict[str, Any]:
    if args.out.exists() and not args.overwrite:
        raise InputError(f"{args.out} exists; pass --overwrite to replace it")
    model = _load_expert(args.expert)
    env_id = args.env
    beside = (args.expert if args.expert.is_dir() else args.expert.parent) / "metrics.json"
    if env_id is None and beside.exists():
        env_id = json.loads(beside.read_text()).get("env")
    if not env_id:
        raise InputError("pass --env: no metrics.json from `genrl demos train-expert` beside the expert names its env")
    demos = record(model, env_id, args.episodes, seed=args.seed)
    demos.save(args.out)
    print(f"recorded {len(demos)} transitions, mean return {np.mean(demos.meta['episode_returns']):.1f} -> {args.out}")
    return {"transitions": len(demos)}


def run_gail(args: GailJob) -> dict[str, Any]:
    resume = claim(args, (CHECKPOINT, "metrics.json"), CHECKPOINT)  # a resume with other options is refused
    seed_everything(args.seed)
    t0 = time.perf_counter()
    demos_path: str | Path | None = args.demos
    if demos_path is None:  # train an expert, keep it, and record its demonstrations into OUT
        demos_path = args.out / "demos.npz"
        if not (resume and demos_path.exists()):
            curve = EpisodeReturns(expert_steps(args.env, args.expert_steps))
            model = train_expert(args.env, args.expert_steps, seed=args.seed, device=args.device, progress=not args.quiet,
                                 callback=curve)  # fmt: skip
            _save_expert(model, curve.rows, args.out, args.env)
            record(model, args.env, args.episodes, seed=args.seed).save(demos_path)
    demos = load_demos(demos_path, gym.make(args.env), download=args.download)
    ckpt = args.out / CHECKPOINT
    if resume:
        gail = GAIL.load(ckpt, device=args.device)
    else:
        absorbing: bool | Literal["auto"] = "auto" if args.absorbing == "auto" else args.absorbing == "on"
        source: dict[str, Any] = {} if args.disc_source == "preset" else {"disc_source": args.disc_source}
        gail = make_gail(args.env, demos, algo=args.algo, reward=args.reward, bc_epochs=args.bc_epochs, seed=args.seed,
                         use_next_obs=args.next_obs, absorbing=absorbing, absorbing_scale=args.absorbing_scale,
                         subproc=args.subproc, device=args.device, **source)  # fmt: skip
    gail.learn(args.steps, progress=not args.quiet, tensorboard_dir=args.out / "tensorboard" if args.tensorboard else None,
               checkpoint_path=ckpt, checkpoint_every=args.checkpoint_every)  # fmt: skip
    train_seconds = gail.history[-1]["seconds"] if gail.history else time.perf_counter() - t0
    learner = rollout(gail, args.env, 10, seed=args.seed + 1000).mean_return
    expert = float(np.mean(demos.meta.get("episode_returns", [np.nan])))
    rand = random_return(args.env, seed=args.seed)
    gail.learner.save(args.out / "policy.zip")
    gail.reward_net.save(args.out / "reward.safetensors")
    plot_curves(gail.history, ["return_mean"], args.out / "learning_curve.png", x="step",
                title=f"GAIL-{args.algo} on {args.env}: true return of the last 10 episodes",
                refs={"expert": expert, "random": rand})  # fmt: skip
    plot_curves(gail.history, ["disc_acc_demo_heldout", "disc_acc_policy"], args.out / "discriminator.png", x="step",
                title="discriminator accuracy (both near 0.5: policy indistinguishable from the expert)")  # fmt: skip
    metrics = {"env": args.env, "algo": args.algo, "return_mean": learner, "expert_return": expert, "random_return": rand,
               "normalized_score": (learner - rand) / (expert - rand), "env_steps": gail.learner.num_timesteps,
               "seconds": round(train_seconds, 2), "seed": args.seed}  # fmt: skip
    write_metrics(args.out, metrics)
    return metrics
