"""Training speed against torch's CPU thread count, on an idle machine and beside one CPU-bound process.

For each job size of the quickstart (ring8 MLP GAN, digits DCGAN, SSL-GAN on digits, GAN world model
on Fork2D), and for the MNIST SSL-GAN (``PRESETS["mnist"]``, float32 and bf16 autocast; needs
``--mnist-dir``): steps per second with ``--threads`` 1, 2 and torch's default (the machine's cores),
first idle, then while a second process spins on one core. One JSON line per measurement; the
``genrl`` command's default thread count is chosen from these figures.

    python experiments/threads.py [--jobs ring8 digits ssl world_model --repeats 3]
    python experiments/threads.py --jobs ssl_mnist ssl_mnist_amp --threads 1 2 --out results/threads_mnist.jsonl
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from genrl.cli import parse_dataclass


@dataclass
class Args:
    jobs: list[str] = field(default_factory=lambda: ["ring8", "digits", "ssl", "world_model"])
    """which job sizes to time (also ssl_mnist, ssl_mnist_amp)"""
    mnist_dir: str = "../shared/data/mnist"
    threads: list[int] = field(default_factory=lambda: [1, 2, 0])
    """thread counts to try (0: torch's default)"""
    repeats: int = 3
    """timings per setting (the median is reported)"""
    out: str = "results/threads.jsonl"
    """JSON lines file to append to"""


def _spin(stop: mp.synchronize.Event) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def steps_per_second(job: str, mnist_dir: str) -> float:
    """Train a fresh model of ``job``'s size for a fixed number of steps; return steps/s after warm-up."""
    if job == "ring8":
        from genrl.data import ring8
        from genrl.gan.presets import toy_trainer

        trainer, X, y, steps = (
            toy_trainer("ring8", "non_saturating", tricks=True, seed=0, device="cpu"),
            ring8().sample(20_000)[0],
            None,
            300,
        )
    elif job == "digits":
        from genrl.data import load_digits_images
        from genrl.gan.presets import digits_trainer

        trainer, (X, y), steps = digits_trainer(seed=0, device="cpu"), load_digits_images(), 60
    elif job == "ssl":
        from genrl.data import digits_split, labeled_subset
        from genrl.ssl import PRESETS, SSLGANClassifier

        Xtr, _, ytr, _ = digits_split()
        params = {**PRESETS["digits"], "max_steps": 200, "polyak_decay": 0.0}
        t0 = time.perf_counter()
        SSLGANClassifier(**params, random_state=0, device="cpu").fit(Xtr, labeled_subset(ytr, 10, seed=0))
        return 200 / (time.perf_counter() - t0)
    elif job in ("ssl_mnist", "ssl_mnist_amp"):
        from genrl.data import labeled_subset, load_mnist
        from genrl.ssl import PRESETS, SSLGANClassifier

        Xtr, ytr, _, _ = load_mnist(mnist_dir)
        seconds: dict[int, float] = {}

        def clock(est: SSLGANClassifier, row: dict[str, float]) -> None:
            seconds[int(row["step"])] = row["seconds"]

        clf = SSLGANClassifier(**{**PRESETS["mnist"], "max_steps": 250}, amp=job.endswith("amp"), random_state=0,
                               device="cpu", log_every=50, callback=clock)  # fmt: skip
        clf.fit(Xtr.reshape(len(Xtr), -1), labeled_subset(ytr, 10, seed=0))
        return 200 / (seconds[250] - seconds[50])  # after 50 warm-up steps
    else:
        from genrl.rollout import collect
        from genrl.worldmodel import make_world_model

        data = collect("genrl/Fork2D-v0", 5000, seed=0)
        model = make_world_model("gan", 2, 2, hidden=(200, 200, 200))
        t0 = time.perf_counter()
        model.fit(data, steps=300, device="cpu")
        return 300 / (time.perf_counter() - t0)
    trainer.fit(X, y, steps=10, progress=False)  # warm-up
    t0 = time.perf_counter()
    trainer.fit(X, y, steps=10 + steps, progress=False, log_every=10_000)
    return steps / (time.perf_counter() - t0)


def main(args: Args) -> None:
    default = torch.get_num_threads()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    for load in ("idle", "one busy process"):
        stop = mp.Event()
        spinner = mp.Process(target=_spin, args=(stop,)) if load != "idle" else None
        if spinner is not None:
            spinner.start()
        try:
            for job in args.jobs:
                for threads in args.threads:
                    torch.set_num_threads(threads or default)
                    times = sorted(steps_per_second(job, args.mnist_dir) for _ in range(args.repeats))
                    row = {"job": job, "threads": threads or default, "setting": "default" if threads == 0 else str(threads),
                           "load": load, "steps_per_s": round(times[len(times) // 2], 2), "cores": os.cpu_count()}  # fmt: skip
                    print(json.dumps(row), flush=True)
                    with open(args.out, "a") as f:
                        f.write(json.dumps(row) + "\n")
        finally:
            stop.set()
            if spinner is not None:
                spinner.join()


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
