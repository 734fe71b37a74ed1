"""``genrl gan``: train a GAN on a 2-D mixture or on the embedded digits and score it.

Several processes (CPU workers or one per GPU) train one GAN when launched with torchrun; rank 0
writes everything::

    torchrun --nproc_per_node 2 -m genrl.cli gan --data ring8 --out runs/ring8_ddp
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from genrl import distributed
from genrl.cli import write_metrics
from genrl.cli.jobs import GanJob
from genrl.cli.rundir import claim
from genrl.data import get_mixture, load_digits_images
from genrl.errors import InputError
from genrl.gan.presets import digits_trainer, toy_recipe, toy_trainer
from genrl.gan.trainer import GANTrainer
from genrl.metrics import mixture_scores
from genrl.metrics.classifier import conditional_sample_scores, train_reference_classifier
from genrl.plotting import image_grid, plot_curves, plot_mixture_samples
from genrl.utils import seed_everything

CHECKPOINT = "checkpoint.safetensors"
DIGITS_STEPS = 3000


def _trainer(args: GanJob, resume: bool) -> GANTrainer:
    if resume:
        return GANTrainer.load(args.out / CHECKPOINT, device=args.device)
    if args.data == "digits":
        return digits_trainer(seed=args.seed, device=args.device)
    return toy_trainer(args.data, args.loss, tricks=not args.plain, seed=args.seed, device=args.device)


@distributed.entry_point
def run(args: GanJob) -> dict[str, Any]:
    """Train and score; under torchrun every rank trains and rank 0 scores and writes (others return ``{}``)."""
    if args.data == "digits" and (args.loss != GanJob.loss or args.plain):
        raise InputError("--loss and --plain apply to the 2-D mixtures; --data digits trains its own DCGAN recipe")
    resume = claim(args, (CHECKPOINT, "metrics.json"), CHECKPOINT, write=distributed.is_main_process())
    seed_everything(args.seed)
    t0 = time.perf_counter()
    trainer = _trainer(args, resume).accelerate(amp=args.amp, compile=args.compile)
    steps = args.steps or (DIGITS_STEPS if args.data == "digits" else toy_recipe(args.data, args.loss).steps)
    if args.data == "digits":
        X, y = load_digits_images()
    else:
        mixture = get_mixture(args.data)
        X, y = mixture.sample(100_000, args.seed)[0], None
    trainer.fit(X, y, steps=steps, progress=not args.quiet, checkpoint_path=args.out / CHECKPOINT,
                checkpoint_every=args.checkpoint_every,
                tensorboard_dir=args.out / "tensorboard" if args.tensorboard else None)  # fmt: skip
    if not distributed.is_main_process():
        return {}
    metrics: dict[str, Any] = {"data": args.data, "loss": trainer.config.loss, "steps": trainer.step_count,
                               "seed": args.seed, "device": str(trainer.device), "processes": trainer.world}  # fmt: skip
    if args.data == "digits":
        metrics.update(_score_digits(trainer, X, y, args.out, args.seed))
    else:
        metrics.update(_score_mixture(trainer, mixture, args.out, args.seed))
        metrics["tricks"] = trainer.config.r1 > 0
    plot_curves(trainer.history, ["d_loss", "g_loss"], args.out / "losses.png", title="GAN losses")
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    write_metrics(args.out, metrics)
    return metrics


def _score_mixture(trainer: GANTrainer, mixture, out: Path, seed: int) -> dict[str, Any]:
    samples = trainer.sample(2500).cpu().numpy()
    result = mixture_scores(samples, mixture, seed)
    plot_mixture_samples(samples, mixture.centers, out / "samples.png",
                         title=f"{mixture.name}: {result['modes']}/{len(mixture.centers)} modes, "
                         f"{100 * result['hq_fraction']:.1f}% high quality")  # fmt: skip
    return result


def _score_digits(trainer: GANTrainer, X, y, out: Path, seed: int) -> dict[str, Any]:
    clf = train_reference_classifier(X, y, seed=seed, device=str(trainer.device))
    labels = torch.arange(10, device=trainer.device).repeat_interleave(100)
    samples = trainer.sample(len(labels), labels)
    scores = conditional_sample_scores(clf, torch.as_tensor(X, device=trainer.device), samples, labels)
    grid = samples.view(10, 100, *samples.shape[1:])[:, :12].reshape(-1, *samples.shape[1:])
    image_grid(grid.cpu().numpy(), out / "samples_per_class.png", nrow=10,
               title=f"one row per class; classifier agrees {100 * scores['conditional_accuracy']:.1f}%")  # fmt: skip
    return scores
