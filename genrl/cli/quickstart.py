"""``genrl quickstart``: the main job on embedded data; writes OUT/report.html and OUT/metrics.json."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from genrl.cli import add_common, gail, gan, ssl, world_model, write_metrics
from genrl.report import Section, write_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quickstart", help="run every job on embedded defaults and write report.html")
    add_common(p)
    p.set_defaults(func=run)


def _job_args(args: argparse.Namespace, name: str, **overrides: Any) -> argparse.Namespace:
    base = {"out": args.out / name, "seed": args.seed, "device": args.device, "quiet": args.quiet,
            "tensorboard": args.tensorboard, "threads": 0, "resume": False, "checkpoint_every": 0}  # fmt: skip
    return argparse.Namespace(**{**base, **overrides})


def run(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    wm = dict(transitions=10_000, steps=2000, hidden=[128, 128], probes=200, checkpoint_every=0)
    jobs: list[tuple[Callable[[argparse.Namespace], Any], str, str, list[str], dict[str, Any]]] = [
        (gan.run, "gan_ring8", "GAN on the ring of 8 Gaussians (PacGAN protocol)", ["samples.png", "losses.png"],
         dict(data="ring8", loss="non_saturating", plain=False, steps=None, amp=False, compile=False)),
        (gan.run, "gan_digits", "Label-conditioned DCGAN on sklearn digits", ["samples_per_class.png", "losses.png"],
         dict(data="digits", loss="non_saturating", plain=False, steps=None, amp=False, compile=False)),
        (ssl.run, "ssl_digits", "Semi-supervised K+1 GAN classifier: digits, 10 labels per class",
         ["confusion.png", "generated.png", "training.png"],
         dict(dataset="digits", data_dir=None, labels_per_class=10, steps=None)),
        (world_model.run_train_eval, "world_model_fork2d_gan", "GAN world model on the bimodal Fork2D",
         ["next_state_samples.png"], dict(env="genrl/Fork2D-v0", model="gan", **wm)),
        (world_model.run_train_eval, "world_model_fork2d_ensemble", "Gaussian-ensemble (PETS) world model on Fork2D",
         ["next_state_samples.png"], dict(env="genrl/Fork2D-v0", model="ensemble", **wm)),
        (world_model.run_train_eval, "world_model_pendulum_gan", "GAN world model on Pendulum-v1", [],
         dict(env="Pendulum-v1", model="gan", **wm)),
        (gail.run_gail, "gail_cartpole", "GAIL (PPO) on CartPole-v1 from 10 episodes of a freshly trained PPO expert",
         ["learning_curve.png"], dict(env="CartPole-v1", demos=None, episodes=10, algo="ppo", steps=50_000,
                                      reward="gail", bc_epochs=0, next_obs=False, absorbing=False, subproc=False)),
    ]  # fmt: skip
    results: dict[str, Any] = {}
    sections = []
    for fn, name, title, images, overrides in jobs:
        job = _job_args(args, name, **overrides)
        results[name] = fn(job)
        sections.append(Section(title, results[name], [job.out / i for i in images]))
    results["seconds"] = round(time.perf_counter() - t0, 1)
    write_report(args.out / "report.html", "genrl quickstart", sections)
    write_metrics(args.out, results)
    return results
