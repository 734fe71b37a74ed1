"""``genrl quickstart``: the main job on embedded data; writes OUT/report.html and OUT/metrics.json."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from genrl.cli import gail, gan, ssl, world_model, write_metrics
from genrl.cli.jobs import Device, GailJob, GanJob, QuickstartJob, SSLJob, WorldModelEvalJob, WorldModelTrainJob
from genrl.cli.rundir import claim
from genrl.gail.demos import EXPERTS
from genrl.gan.presets import TOY_RECIPES
from genrl.report import Section, write_report
from genrl.ssl import PRESETS


class Common(TypedDict):
    """The quickstart's options every job inherits (typed, so the checker sees each job's fields)."""

    seed: int
    device: Device
    quiet: bool
    tensorboard: bool
    overwrite: bool


@dataclass
class Step:
    """One quickstart job: what runs, its report section's title and the plots it shows."""

    name: str
    title: str
    run: Callable[[], dict[str, Any]]
    images: list[str] = field(default_factory=list)


def steps(q: QuickstartJob) -> list[Step]:
    """The quickstart's jobs, each writing into its own folder of ``q.out``."""
    # The quickstart owns its job folders: a rerun (allowed by its own --overwrite) replaces them.
    common = Common(seed=q.seed, device=q.device, quiet=q.quiet, tensorboard=q.tensorboard, overwrite=True)

    def out(name: str) -> Path:
        return q.out / name

    def n(full: int, least: int = 2) -> int:
        """A job's budget: the default at --budget 1, a fraction of it for a quick look."""
        return full if q.budget >= 1 else max(least, round(full * q.budget))

    def world(name: str, env: str, model: str) -> Callable[[], dict[str, Any]]:
        train = WorldModelTrainJob(out=out(name), env=env, model=model, transitions=n(10_000, 200), steps=n(2000),
                                   hidden=[128, 128], checkpoint_every=0, **common)  # fmt: skip
        return lambda: world_model.run_train_eval(train, WorldModelEvalJob(out=out(name), env=env, probes=200, **common))

    return [
        Step("gan_ring8", "GAN on the ring of 8 Gaussians (PacGAN protocol)",
             lambda: gan.run(GanJob(out=out("gan_ring8"), data="ring8", steps=n(TOY_RECIPES["ring8"].steps),
                                    checkpoint_every=0, **common)),
             ["samples.png", "losses.png"]),
        Step("gan_digits", "Label-conditioned DCGAN on sklearn digits",
             lambda: gan.run(GanJob(out=out("gan_digits"), data="digits", steps=n(gan.DIGITS_STEPS), checkpoint_every=0,
                                    **common)),
             ["samples_per_class.png", "losses.png"]),
        Step("ssl_digits", "Semi-supervised K+1 GAN classifier: digits, 10 labels per class",
             lambda: ssl.run(SSLJob(out=out("ssl_digits"), labels_per_class=10, steps=n(PRESETS["digits"]["max_steps"]),
                                    checkpoint_every=0, **common)),
             ["confusion.png", "generated.png", "training.png"]),
        Step("world_model_fork2d_gan", "GAN world model on the bimodal Fork2D",
             world("world_model_fork2d_gan", "genrl/Fork2D-v0", "gan"), ["next_state_samples.png", "losses.png"]),
        Step("world_model_fork2d_ensemble", "Gaussian-ensemble (PETS) world model on Fork2D",
             world("world_model_fork2d_ensemble", "genrl/Fork2D-v0", "ensemble"), ["next_state_samples.png", "losses.png"]),
        Step("world_model_pendulum_gan", "GAN world model on Pendulum-v1",
             world("world_model_pendulum_gan", "Pendulum-v1", "gan"), ["losses.png"]),
        Step("gail_cartpole", "GAIL (PPO) on CartPole-v1 from 10 episodes of a freshly trained PPO expert",
             lambda: gail.run_gail(GailJob(out=out("gail_cartpole"), env="CartPole-v1", steps=n(50_000, 256),
                                           expert_steps=n(EXPERTS["CartPole-v1"]["steps"], 256), checkpoint_every=0,
                                           **common)),
             ["learning_curve.png", "discriminator.png", "expert_learning_curve.png"]),
    ]  # fmt: skip


def run(q: QuickstartJob) -> dict[str, Any]:
    claim(q, ("metrics.json", "report.html"))
    t0 = time.perf_counter()
    results: dict[str, Any] = {}
    sections = []
    jobs = steps(q)
    for i, step in enumerate(jobs, 1):
        print(f"[{i}/{len(jobs)}] {step.title} -> {q.out / step.name}", file=sys.stderr, flush=True)
        results[step.name] = step.run()
        sections.append(Section(step.title, results[step.name], [q.out / step.name / i for i in step.images]))
    results["seconds"] = round(time.perf_counter() - t0, 1)
    write_report(q.out / "report.html", "genrl quickstart", sections)
    write_metrics(q.out, results)
    return results
