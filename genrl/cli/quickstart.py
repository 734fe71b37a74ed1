"""``genrl quickstart``: the main job on embedded data; writes OUT/report.html and OUT/metrics.json."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from genrl.cli import gail, gan, ssl, world_model, write_metrics
from genrl.cli.jobs import Device, GailJob, GanJob, QuickstartJob, SSLJob, WorldModelEvalJob, WorldModelTrainJob
from genrl.report import Section, write_report


class Common(TypedDict):
    """The quickstart's options every job inherits (typed, so the checker sees each job's fields)."""

    seed: int
    device: Device
    quiet: bool
    tensorboard: bool


@dataclass
class Step:
    """One quickstart job: what runs, its report section's title and the plots it shows."""

    name: str
    title: str
    run: Callable[[], dict[str, Any]]
    images: list[str] = field(default_factory=list)


def steps(q: QuickstartJob) -> list[Step]:
    """The quickstart's jobs, each writing into its own folder of ``q.out``."""
    common = Common(seed=q.seed, device=q.device, quiet=q.quiet, tensorboard=q.tensorboard)

    def out(name: str) -> Path:
        return q.out / name

    def world(name: str, env: str, model: str) -> Callable[[], dict[str, Any]]:
        train = WorldModelTrainJob(out=out(name), env=env, model=model, transitions=10_000, steps=2000, hidden=[128, 128],
                                   checkpoint_every=0, **common)  # fmt: skip
        return lambda: world_model.run_train_eval(train, WorldModelEvalJob(out=out(name), env=env, probes=200, **common))

    return [
        Step("gan_ring8", "GAN on the ring of 8 Gaussians (PacGAN protocol)",
             lambda: gan.run(GanJob(out=out("gan_ring8"), data="ring8", checkpoint_every=0, **common)),
             ["samples.png", "losses.png"]),
        Step("gan_digits", "Label-conditioned DCGAN on sklearn digits",
             lambda: gan.run(GanJob(out=out("gan_digits"), data="digits", checkpoint_every=0, **common)),
             ["samples_per_class.png", "losses.png"]),
        Step("ssl_digits", "Semi-supervised K+1 GAN classifier: digits, 10 labels per class",
             lambda: ssl.run(SSLJob(out=out("ssl_digits"), labels_per_class=10, checkpoint_every=0, **common)),
             ["confusion.png", "generated.png", "training.png"]),
        Step("world_model_fork2d_gan", "GAN world model on the bimodal Fork2D",
             world("world_model_fork2d_gan", "genrl/Fork2D-v0", "gan"), ["next_state_samples.png"]),
        Step("world_model_fork2d_ensemble", "Gaussian-ensemble (PETS) world model on Fork2D",
             world("world_model_fork2d_ensemble", "genrl/Fork2D-v0", "ensemble"), ["next_state_samples.png"]),
        Step("world_model_pendulum_gan", "GAN world model on Pendulum-v1",
             world("world_model_pendulum_gan", "Pendulum-v1", "gan")),
        Step("gail_cartpole", "GAIL (PPO) on CartPole-v1 from 10 episodes of a freshly trained PPO expert",
             lambda: gail.run_gail(GailJob(out=out("gail_cartpole"), env="CartPole-v1", steps=50_000, checkpoint_every=0,
                                           **common)),
             ["learning_curve.png"]),
    ]  # fmt: skip


def run(q: QuickstartJob) -> dict[str, Any]:
    t0 = time.perf_counter()
    results: dict[str, Any] = {}
    sections = []
    for step in steps(q):
        results[step.name] = step.run()
        sections.append(Section(step.title, results[step.name], [q.out / step.name / i for i in step.images]))
    results["seconds"] = round(time.perf_counter() - t0, 1)
    write_report(q.out / "report.html", "genrl quickstart", sections)
    write_metrics(q.out, results)
    return results
