"""Data-parallel throughput: GANTrainer.fit in 1 process vs 2 Gloo processes on the CPU, same run.

Every configuration runs in freshly spawned processes with 1 torch thread each (the process group
is set up as torchrun would). Two processes run two ways:

* strong scaling: the same global batch as 1 process, split in two (the same game, see
  ``genrl.gan.trainer``); speed-up = steps/s ratio;
* weak scaling: each process keeps the 1-process batch, so the global batch doubles (more samples
  per step; other hyper-parameters would need retuning); compare real samples/s.

Each process warms up, then times ``trials`` segments of ``steps`` steps; we report rank 0's
median segment. Nets and costs are those of ``experiments/trainer_overhead.py``.

    python experiments/ddp_throughput.py [--steps 200 --trials 3 --cases mlp_ring8 dcgan_digits]
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.multiprocessing as mp
from trainer_overhead import make_nets  # experiments/ is the script's folder, on sys.path

from genrl import distributed
from genrl.cli import parse_dataclass
from genrl.gan import GANConfig, GANTrainer
from genrl.plotting import bar_chart

BATCH = {"mlp_ring8": 256, "dcgan_digits": 64}  # the 1-process batch, as in trainer_overhead.py


@dataclass
class Args:
    steps: int = 200
    trials: int = 3
    warmup: int = 30
    cases: list[str] = field(default_factory=lambda: ["mlp_ring8", "dcgan_digits"])
    out: str = "results/ddp_throughput"


def _worker(rank: int, world: int, port: int, case: str, global_batch: int, args: Args, results: mp.SimpleQueue) -> None:
    """One process: join the group (if several), train, and (rank 0) put the median steps/s on ``results``."""
    torch.set_num_threads(1)
    distributed.init_local(rank, world, port, "gloo")
    try:
        G, D, X = make_nets(case)
        trainer = GANTrainer(G, D, GANConfig(batch_size=global_batch), device="cpu")
        trainer.fit(X, steps=args.warmup, progress=False)
        rates = []
        for _ in range(args.trials):
            distributed.barrier()
            t0 = time.perf_counter()
            trainer.fit(X, steps=trainer.step_count + args.steps, progress=False, log_every=args.steps)
            rates.append(args.steps / (time.perf_counter() - t0))
        if rank == 0:
            results.put(statistics.median(rates))
    finally:
        distributed.cleanup()


def measure(case: str, world: int, global_batch: int, args: Args) -> float:
    """Median steps/s of rank 0 with ``world`` processes sharing ``global_batch`` rows per step."""
    results = mp.get_context("spawn").SimpleQueue()
    mp.spawn(_worker, args=(world, distributed.free_port(), case, global_batch, args, results), nprocs=world)
    return results.get()


def main(args: Args) -> None:
    groups: dict[str, dict[str, float]] = {}
    for case in args.cases:
        batch = BATCH[case]
        base = None
        for world, scaling, global_batch in ((1, "none", batch), (2, "strong", batch), (2, "weak", 2 * batch)):
            rate = measure(case, world, global_batch, args)
            base = base or rate * batch  # 1-process samples/s
            # The load average shows other jobs sharing the cores (this measurement adds up to 2).
            row = {"case": case, "processes": world, "scaling": scaling, "backend": "gloo", "device": "cpu",
                   "threads_per_process": 1, "per_rank_batch": global_batch // world, "global_batch": global_batch,
                   "steps_per_s": round(rate, 1), "samples_per_s": round(rate * global_batch),
                   "samples_per_s_vs_1_process": round(rate * global_batch / base, 2), "cpus": os.cpu_count(),
                   "loadavg_1m_after": round(os.getloadavg()[0], 2)}  # fmt: skip
            print(json.dumps(row), flush=True)
            label = "1 process" if world == 1 else f"2 processes, {scaling} scaling"
            groups.setdefault(case, {})[label] = rate * global_batch
    bar_chart(groups, Path(args.out) / "ddp_throughput.png", "real samples / s", "CPU, Gloo, 1 thread per process")


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
