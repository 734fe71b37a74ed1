"""``genrl world-model train|eval`` and ``genrl mbrl``: learned dynamics, scored and used to act."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from genrl.cli import write_metrics
from genrl.cli.jobs import Job, MBRLJob, WorldModelEvalJob, WorldModelTrainJob
from genrl.cli.parsing import with_overrides
from genrl.cli.rundir import JOB_FILE, claim
from genrl.errors import InputError
from genrl.plotting import plot_curves, plot_next_state_samples, plot_rollout
from genrl.rollout import collect
from genrl.spaces import flat_dims
from genrl.transitions import Transitions
from genrl.utils import seed_everything
from genrl.worldmodel import WorldModel, world_model_for
from genrl.worldmodel.dyna import Dyna
from genrl.worldmodel.evaluate import model_energy_score, one_step_energy_distance, open_loop_rollouts, rollout_error
from genrl.worldmodel.presets import dyna_config, dyna_world_model
from genrl.worldmodel.rewards import REWARD_FNS, TERMINATION_FNS

MODEL_FILE, DATA_FILE, CHECKPOINT = "model.safetensors", "transitions.npz", "checkpoint.safetensors"


def _tensorboard(args: Job) -> Path | None:
    return args.out / "tensorboard" if args.tensorboard else None


def _dims(env_id: str) -> tuple[int, int]:
    return flat_dims(env_id)[:2]


def run_train(args: WorldModelTrainJob) -> dict[str, Any]:
    ckpt = args.out / MODEL_FILE
    resume = claim(args, (MODEL_FILE, "metrics.json"), MODEL_FILE)  # a resume of another env or model is refused
    seed_everything(args.seed)
    t0 = time.perf_counter()
    if resume:
        data, model = Transitions.load(args.out / DATA_FILE), WorldModel.load(ckpt, device=args.device)
    else:
        model = world_model_for(args.model, args.env, hidden=tuple(args.hidden), seed=args.seed)  # checks the spaces
        data = collect(args.env, args.transitions, seed=args.seed)
        data.save(args.out / DATA_FILE)
    model.fit(data, steps=args.steps, progress=not args.quiet, device=args.device, checkpoint_path=ckpt,
              checkpoint_every=args.checkpoint_every, tensorboard_dir=_tensorboard(args))  # fmt: skip
    losses = [k for k in model.history[-1] if k not in ("step", "seconds", "steps_per_s")]
    plot_curves(model.history, losses, args.out / "losses.png", title=f"{args.model} world model on {args.env}")
    metrics = {"env": args.env, "model": args.model, "transitions": len(data), "steps": args.steps,
               "seed": args.seed, "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
    write_metrics(args.out, metrics)
    return metrics


def run_train_eval(train: WorldModelTrainJob, evaluate: WorldModelEvalJob) -> dict[str, Any]:
    """``train`` then ``eval`` into the same OUT; writes and returns the merged metrics."""
    metrics = {**run_train(train), **run_eval(evaluate)}
    write_metrics(train.out, metrics)
    return metrics


def run_eval(args: WorldModelEvalJob) -> dict[str, Any]:
    if not (args.out / MODEL_FILE).exists():
        raise InputError(f"{args.out} holds no {MODEL_FILE}; train one there first (genrl world-model train)")
    trained = json.loads((args.out / JOB_FILE).read_text()).get("env") if (args.out / JOB_FILE).exists() else None
    if trained not in (None, args.env):
        raise InputError(f"the model in {args.out} was trained on {trained}, not {args.env}")
    claim(args, ("eval_metrics.json",), write=False)
    seed_everything(args.seed)
    model = WorldModel.load(args.out / MODEL_FILE, device=args.device)
    if (model.obs_dim, model.act_dim) != _dims(args.env):
        raise InputError(f"the model in {args.out} was trained on an env with other dimensions than {args.env}")
    held_out = collect(args.env, max(args.probes, 1000), seed=args.seed + 1)
    metrics: dict[str, Any] = {"env": args.env, "model": model.kind, "seed": args.seed,
                               "energy_score": model_energy_score(model, held_out),
                               "rollout_error": rollout_error(model, args.env, seed=args.seed)}  # fmt: skip
    env = gym.make(args.env).unwrapped
    if hasattr(env, "sample_next"):  # a true kernel to compare with
        metrics.update(one_step_energy_distance(model, env, held_out[: args.probes], seed=args.seed))
        _plot_probe(model, env, held_out, args.out / "next_state_samples.png")
    real, imagined = open_loop_rollouts(model, args.env, horizon=50, episodes=1, seed=args.seed)[0]
    plot_rollout(real, imagined, args.out / "rollout.png", title=f"{model.kind} model: open-loop rollout of random actions")
    write_metrics(args.out, metrics, name="eval_metrics.json")  # beside train's metrics.json, not over it
    return metrics


def _plot_probe(model: WorldModel, env: Any, data: Transitions, path: Path) -> None:
    """Model vs. true next-observation samples at the held-out probe with the widest true spread."""
    spreads = [env.sample_next(data.obs[i], data.act[i], 64, 0)[0].std(0).sum() for i in range(50)]
    i = int(np.argmax(spreads))
    truth, _ = env.sample_next(data.obs[i], data.act[i], 1000, 0)
    pred = model.sample(data.obs[i : i + 1], data.act[i : i + 1], 1000).next_obs[0].cpu().numpy()
    plot_next_state_samples(pred[:, :2], truth[:, :2], path, title=f"{model.kind} model at the widest-spread probe")


def run_mbrl(args: MBRLJob) -> dict[str, Any]:
    ckpt = args.out / CHECKPOINT
    resume = claim(args, (CHECKPOINT, "metrics.json"), CHECKPOINT)  # a resume with other options is refused
    seed_everything(args.seed)
    if resume:
        dyna = Dyna.load(ckpt, device=args.device)
    else:
        config = with_overrides(dyna_config(args.env), args.set)
        model = dyna_world_model(args.model, args.env, seed=args.seed)
        dyna = Dyna(args.env, model, config, reward_fn=REWARD_FNS.get(args.env), termination_fn=TERMINATION_FNS.get(args.env),
                    seed=args.seed, device=args.device)  # fmt: skip
    dyna.learn(args.steps, progress=not args.quiet, tensorboard_dir=_tensorboard(args), checkpoint_path=ckpt,
               checkpoint_every=args.checkpoint_every)  # fmt: skip
    dyna.agent.save(args.out / "agent.zip")
    dyna.model.save(args.out / MODEL_FILE)
    curve = dyna.history
    plot_curves(curve, ["return_mean"], args.out / "return_vs_steps.png", x="step",
                title=f"Dyna-SAC ({args.model} model) on {args.env}")  # fmt: skip
    metrics = {"env": args.env, "model": args.model, "curve": curve, "return_mean": curve[-1]["return_mean"],
               "env_steps": dyna.step_count, "seed": args.seed, "seconds": round(curve[-1]["seconds"], 2)}  # fmt: skip
    write_metrics(args.out, metrics)
    return metrics
