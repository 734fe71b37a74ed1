"""Label-conditioned DCGAN on sklearn digits: do samples for label y look like a y?

A reference classifier (an MLP the project trains on the real digits) labels 100 samples per class;
we report how often it agrees with the requested label, and the Fréchet distance between real and
generated images in that classifier's feature space (not the Inception FID) beside its floor:
the same distance between two halves of the real data.

    python experiments/gan_digits_conditional.py [--seeds 0 1 2 --steps 3000]
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genrl.cli import parse_dataclass
from genrl.data import load_digits_images
from genrl.gan.presets import digits_trainer
from genrl.metrics.classifier import classifier_frechet_distance, conditional_accuracy, train_reference_classifier
from genrl.plotting import image_grid


@dataclass
class Args:
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 3000
    threads: int = 1
    device: str = "cpu"
    out: str = "results/gan_digits_conditional"


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    X, y = load_digits_images()
    for seed in args.seeds:
        t0 = time.perf_counter()
        trainer = digits_trainer(seed=seed, device=args.device).fit(X, y, steps=args.steps, progress=False)
        seconds = time.perf_counter() - t0
        clf = train_reference_classifier(X, y, seed=seed, device=args.device)
        labels = torch.arange(10, device=trainer.device).repeat_interleave(100)
        samples = trainer.sample(len(labels), labels)
        acc = conditional_accuracy(clf, samples, labels)
        real = torch.as_tensor(X, device=trainer.device)
        perm = np.random.default_rng(seed).permutation(len(X))
        floor = classifier_frechet_distance(clf, real[perm[: len(X) // 2]], real[perm[len(X) // 2 :]])
        grid = samples.view(10, 100, 1, 8, 8)[:, :12].reshape(-1, 1, 8, 8).cpu().numpy()
        image_grid(grid, Path(args.out) / f"samples_seed{seed}.png", nrow=10,
                   title=f"seed {seed}: one row per class, classifier agrees {100 * acc['accuracy']:.1f}%")  # fmt: skip
        print(json.dumps({"seed": seed, "steps": args.steps, "conditional_accuracy": round(acc["accuracy"], 4),
                          "min_class_accuracy": round(min(acc["per_class"].values()), 4),
                          "classifier_frechet_distance": round(classifier_frechet_distance(clf, real, samples), 2),
                          "frechet_floor_real_halves": round(floor, 2), "seconds": round(seconds, 1)}))  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
