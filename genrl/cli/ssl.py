"""``genrl ssl``: semi-supervised classification with few labels (digits embedded, or MNIST)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix

from genrl import distributed
from genrl.cli import write_metrics
from genrl.cli.jobs import SSLJob
from genrl.cli.rundir import claim
from genrl.data import digits_split, labeled_subset, load_mnist
from genrl.errors import InputError
from genrl.plotting import image_grid, plot_confusion, plot_curves
from genrl.ssl import PRESETS, SSLGANClassifier
from genrl.utils import seed_everything


def load_dataset(name: str, data_dir: str | Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, y_train, X_test, y_test`` with MNIST flattened to 784 features in [0, 1]."""
    if name == "digits":
        Xtr, Xte, ytr, yte = digits_split()
        return Xtr, ytr, Xte, yte
    if not data_dir:
        raise InputError("--dataset mnist needs --data-dir DIR with the MNIST idx files")
    Xtr, ytr, Xte, yte = load_mnist(data_dir)
    return Xtr.reshape(len(Xtr), -1), ytr, Xte.reshape(len(Xte), -1), yte


@distributed.entry_point
def run(args: SSLJob) -> dict[str, Any]:
    """Train and score; under torchrun every rank trains and rank 0 scores and writes (others return ``{}``)."""
    ckpt = args.out / "checkpoint.safetensors"
    resume = claim(args, (ckpt.name, "metrics.json"), ckpt.name, write=distributed.is_main_process())
    seed_everything(args.seed)
    t0 = time.perf_counter()
    Xtr, ytr, Xte, yte = load_dataset(args.dataset, args.data_dir)
    y = labeled_subset(ytr, args.labels_per_class, seed=args.seed)
    params: dict[str, Any] = dict(PRESETS[args.dataset], amp=args.amp)
    if args.steps:
        params["max_steps"] = args.steps

    def test_accuracy(est: SSLGANClassifier, row: dict[str, float]) -> None:  # the curve the report shows
        row["test_accuracy"] = float((est.predict(Xte) == yte).mean())

    run_params: dict[str, Any] = dict(device=args.device, verbose=not args.quiet, checkpoint_path=str(ckpt),
                      checkpoint_every=args.checkpoint_every, callback=test_accuracy,
                      tensorboard_dir=str(args.out / "tensorboard") if args.tensorboard else None)  # fmt: skip
    if resume:  # continues to max_steps; fit refuses other data or parameters
        clf = SSLGANClassifier.load(ckpt, device=args.device).set_params(max_steps=params["max_steps"], **run_params)
    else:
        clf = SSLGANClassifier(**params, random_state=args.seed, **run_params)
    clf.fit(Xtr, y)
    if not distributed.is_main_process():
        return {}
    pred = clf.predict(Xte)
    acc = float((pred == yte).mean())
    args.out.mkdir(parents=True, exist_ok=True)
    plot_confusion(confusion_matrix(yte, pred), args.out / "confusion.png", f"{args.dataset}: test accuracy {100 * acc:.2f}%")
    side = round(np.sqrt(Xtr.shape[1]))
    image_grid(clf.sample(100).reshape(100, 1, side, side) / Xtr.max() * 2 - 1, args.out / "generated.png", nrow=10,
               title="generator samples")  # fmt: skip
    plot_curves(clf.history_, ["sup_loss", "unsup_loss", "labeled_acc"], args.out / "training.png", title="SSL-GAN training")
    plot_curves([r for r in clf.history_ if "test_accuracy" in r], ["test_accuracy"], args.out / "test_accuracy.png",
                title=f"{args.dataset}: test accuracy during training")  # fmt: skip
    metrics = {"dataset": args.dataset, "test_accuracy": acc, "test_error": 1 - acc, "n_labeled": int((y != -1).sum()),
               "labels_per_class": args.labels_per_class, "steps": clf.max_steps, "seed": args.seed,
               "processes": distributed.world_size(),
               "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
    write_metrics(args.out, metrics)
    return metrics
