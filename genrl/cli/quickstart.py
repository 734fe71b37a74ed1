"""``genrl quickstart``: the main job on embedded data; writes OUT/report.html and OUT/metrics.json."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypedDict

from genrl.cli import gail, gan, impute, ssl, world_model, write_metrics
from genrl.cli.jobs import Device, GailJob, GanJob, ImputeJob, QuickstartJob, SSLJob, WorldModelEvalJob, WorldModelTrainJob
from genrl.cli.rundir import claim
from genrl.gail.demos import expert_steps
from genrl.gan.presets import toy_recipe
from genrl.report import Headline, Section, write_report
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
    """One quickstart job: what runs, its report section's title, the plots it shows, and its
    seconds at the full budget on one core (measured; only to start the longest jobs first)."""

    name: str
    title: str
    run: Callable[[], dict[str, Any]]
    images: list[str] = field(default_factory=list)
    cost: float = 0.0


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
        return lambda: world_model.run_train_eval(
            train, WorldModelEvalJob(out=out(name), env=env, probes=200, seed=q.seed, device=q.device, overwrite=True)
        )

    return [
        Step("gan_ring8", "GAN on the ring of 8 Gaussians (PacGAN protocol)",
             lambda: gan.run(GanJob(out=out("gan_ring8"), data="ring8", steps=n(toy_recipe("ring8", GanJob.loss).steps),
                                    checkpoint_every=0, **common)),
             ["samples.png", "losses.png"], 210),
        Step("gan_digits", "Label-conditioned DCGAN on sklearn digits",
             lambda: gan.run(GanJob(out=out("gan_digits"), data="digits", steps=n(gan.DIGITS_STEPS), checkpoint_every=0,
                                    **common)),
             ["samples_per_class.png", "losses.png"], 55),
        Step("ssl_digits", "Semi-supervised K+1 GAN classifier: digits, 10 labels per class",
             lambda: ssl.run(SSLJob(out=out("ssl_digits"), labels_per_class=10, steps=n(PRESETS["digits"]["max_steps"]),
                                    checkpoint_every=0, **common)),
             ["test_accuracy.png", "confusion.png", "generated.png", "training.png"], 75),
        Step("impute_breast_cancer", "GAN imputer on breast cancer with 20% of cells removed at random",
             lambda: impute.run_embedded(ImputeJob(out=out("impute_breast_cancer"), csv=Path("with_missing.csv"),
                                                   steps=n(2000), checkpoint_every=0, **common)),
             ["rmse.png", "training.png"], 60),
        Step("world_model_fork2d_gan", "GAN world model on the bimodal Fork2D",
             world("world_model_fork2d_gan", "genrl/Fork2D-v0", "gan"), ["next_state_samples.png", "losses.png"], 21),
        Step("world_model_fork2d_ensemble", "Gaussian-ensemble (PETS) world model on Fork2D",
             world("world_model_fork2d_ensemble", "genrl/Fork2D-v0", "ensemble"), ["next_state_samples.png", "losses.png"],
             13),
        Step("world_model_pendulum_gan", "GAN world model on Pendulum-v1",
             world("world_model_pendulum_gan", "Pendulum-v1", "gan"), ["rollout.png", "losses.png"], 18),
        Step("gail_cartpole", "GAIL (PPO) on CartPole-v1 from 10 episodes of a freshly trained PPO expert",
             lambda: gail.run_gail(GailJob(out=out("gail_cartpole"), env="CartPole-v1", steps=n(50_000, 256),
                                           expert_steps=n(expert_steps("CartPole-v1"), 256), checkpoint_every=0,
                                           **common)),
             ["learning_curve.png", "discriminator.png", "expert_learning_curve.png"], 29),
    ]  # fmt: skip


# Jobs shown together in one report section, side by side: (title, [(column, job name), ...]).
COMPARED = {
    "world_model_fork2d_gan": ("World models on the bimodal Fork2D: GAN vs Gaussian ensemble (PETS)",
                               [("GAN", "world_model_fork2d_gan"), ("ensemble", "world_model_fork2d_ensemble")]),
}  # fmt: skip


def summary(results: dict[str, Any]) -> list[Headline]:
    """The main figure of each job beside its goal or published reference (docs/results.md)."""
    r = results
    fork_gan, fork_ens = r["world_model_fork2d_gan"], r["world_model_fork2d_ensemble"]
    return [
        Headline("GAN, ring8", "modes", r["gan_ring8"]["modes"], "all 8 (PacGAN4: 8/8 in every run)"),
        Headline("GAN, ring8", "hq_fraction", r["gan_ring8"]["hq_fraction"],
                 "PacGAN4 95.9%; samples of the mixture itself 98.9%"),
        Headline("conditional DCGAN, digits", "conditional_accuracy", r["gan_digits"]["conditional_accuracy"],
                 "99.1-99.6% over 3 seeds at the same budget"),
        Headline("SSL-GAN, digits, 10 labels/class", "test_accuracy", r["ssl_digits"]["test_accuracy"],
                 "LabelSpreading 0.952, SSL-GAN 0.967 (5 seeds)"),
        Headline("GAN imputer, breast cancer, 20% MCAR", "rmse", r["impute_breast_cancer"]["rmse"],
                 f"in this run: MICE-like {r['impute_breast_cancer']['rmse_mice']:.4f}, mean imputation "
                 f"{r['impute_breast_cancer']['rmse_mean_imputation']:.4f}"),
        Headline("GAN world model, Fork2D", "energy_distance", fork_gan.get("energy_distance"),
                 f"ensemble {fork_ens.get('energy_distance', float('nan')):.4g} in this run; floor "
                 f"{fork_gan.get('energy_distance_floor', float('nan')):.2g}"),
        Headline("GAN world model, Pendulum-v1", "rollout_error", r["world_model_pendulum_gan"]["rollout_error"],
                 "no reference; lower is better"),
        Headline("GAIL (PPO), CartPole-v1", "normalized_score", r["gail_cartpole"]["normalized_score"],
                 "1.0 in every seed at 50k steps (3 seeds)"),
    ]  # fmt: skip


def header(q: QuickstartJob, seconds: float, workers: int) -> dict[str, str]:
    """How the report was made: command, date, versions, device, threads, workers, time."""
    import gymnasium
    import stable_baselines3
    import torch

    from genrl import __version__
    from genrl.utils import resolve_device

    defaults = QuickstartJob(out=q.out)
    changed = [f.name for f in dataclasses.fields(q) if getattr(q, f.name) != getattr(defaults, f.name) or f.name == "out"]
    options = [f"--{k.replace('_', '-')}" + ("" if isinstance(getattr(q, k), bool) else f" {getattr(q, k)}") for k in changed]
    return {
        "command": " ".join(["genrl quickstart", *options]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": f"genrl {__version__}, torch {torch.__version__}, gymnasium {gymnasium.__version__}, "
                    f"stable-baselines3 {stable_baselines3.__version__}",
        "device": str(resolve_device(q.device)),
        "CPU threads": f"{q.threads or torch.get_num_threads()} per job",
        "worker processes": str(workers),
        "total time": f"{seconds:.0f} s",
        "budget": "the full budget of every job" if q.budget >= 1 else
                  f"{q.budget:g} of every job's budget: figures are not comparable to the references",
    }  # fmt: skip


def workers(q: QuickstartJob) -> int:
    """Worker processes: ``--jobs``, or one per CPU this process may use."""
    if q.jobs:
        return q.jobs
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run(q: QuickstartJob) -> dict[str, Any]:
    claim(q, ("metrics.json", "report.html"))
    t0 = time.perf_counter()
    jobs = steps(q)
    n = min(workers(q), len(jobs))
    done = _run_serially(q, jobs) if n == 1 else _run_in_parallel(q, jobs, n)
    results: dict[str, Any] = {step.name: done[step.name][0] for step in jobs}  # the report's order, not the finish order
    results["seconds"] = round(time.perf_counter() - t0, 1)
    results["job_seconds"] = {name: round(seconds, 1) for name, (_, seconds) in done.items()}
    results["workers"] = n
    by_name = {step.name: step for step in jobs}
    compared = {name for _, group in COMPARED.values() for _, name in group}
    sections = []
    for step in jobs:
        if step.name in COMPARED:
            title, group = COMPARED[step.name]  # each plot of the jobs side by side: samples beside samples
            sections.append(Section(title, {col: results[name] for col, name in group},
                                    [q.out / name / i for i in by_name[group[0][1]].images for _, name in group]))  # fmt: skip
        elif step.name not in compared:
            sections.append(Section(step.title, {"value": results[step.name]}, [q.out / step.name / i for i in step.images]))
    write_report(q.out / "report.html", "genrl quickstart", header(q, results["seconds"], n), summary(results), sections)
    write_metrics(q.out, results)
    return results


def _run_serially(q: QuickstartJob, jobs: list[Step]) -> dict[str, tuple[dict[str, Any], float]]:
    """Each job in this process, in turn, with its own progress bar."""
    done = {}
    for i, step in enumerate(jobs, 1):
        print(f"[{i}/{len(jobs)}] {step.title} -> {q.out / step.name}", file=sys.stderr, flush=True)
        t = time.perf_counter()
        done[step.name] = (step.run(), time.perf_counter() - t)
    return done


def _run_in_parallel(q: QuickstartJob, jobs: list[Step], n: int) -> dict[str, tuple[dict[str, Any], float]]:
    """The jobs in ``n`` worker processes, longest first; one progress bar over the jobs, and a line
    as each starts and ends. The first job to fail stops the rest and its error is raised here."""
    from tqdm.auto import tqdm

    ctx = mp.get_context("spawn")  # no torch state or threads inherited by a fork
    events = ctx.Queue()
    titles = {step.name: step.title for step in jobs}
    done: dict[str, tuple[dict[str, Any], float]] = {}
    bar = tqdm(total=len(jobs), desc=f"quickstart, {n} workers", unit="job", disable=q.quiet, dynamic_ncols=True)
    running: set[str] = set()
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=_worker_init, initargs=(events, q.threads)) as pool:
        futures = {pool.submit(_run_step, q, step.name): step.name for step in sorted(jobs, key=lambda s: -s.cost)}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                before = set(running)
                while not events.empty():
                    name = events.get()
                    running.add(name)
                    bar.write(f"started: {titles[name]} -> {q.out / name}", file=sys.stderr)
                for future in finished:
                    name = futures[future]
                    result, seconds = future.result()  # re-raises a worker's error
                    done[name] = (result, seconds)
                    running.discard(name)
                    bar.write(f"done ({seconds:.0f} s): {titles[name]}: {_headline(result)}", file=sys.stderr)
                    bar.update(1)
                if running != before:  # redraw only on a change: a log file gets one line per event
                    bar.set_postfix_str(", ".join(sorted(running)), refresh=True)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            bar.close()
    return done


def _worker_init(events: Any, threads: int) -> None:
    global _EVENTS
    _EVENTS = events
    sys.stdout = open(os.devnull, "w")  # each job's metrics line; the quickstart prints them all at the end
    if threads:
        import torch

        torch.set_num_threads(threads)


_EVENTS: Any = None


def _run_step(q: QuickstartJob, name: str) -> tuple[dict[str, Any], float]:
    """A worker's job: the step of that name (closures cannot cross processes; names can), quiet."""
    step = {s.name: s for s in steps(dataclasses.replace(q, quiet=True))}[name]
    if _EVENTS is not None:
        _EVENTS.put(name)
    t = time.perf_counter()
    return step.run(), time.perf_counter() - t


def _headline(result: dict[str, Any]) -> str:
    """The job's headline figures, for its line as it ends."""
    keys = ("modes", "hq_fraction", "conditional_accuracy", "test_accuracy", "rmse", "energy_distance", "rollout_error",
            "normalized_score")  # fmt: skip
    return ", ".join(f"{k} {result[k]:.4g}" for k in keys if isinstance(result.get(k), (int, float))) or "done"
