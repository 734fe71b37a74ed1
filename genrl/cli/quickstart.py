"""``genrl quickstart``: the main job on embedded data; writes OUT/report.html and OUT/metrics.json."""

from __future__ import annotations

import argparse
import time
from typing import Any

from genrl.cli import add_common, gan, ssl, write_metrics
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
    jobs = [
        (gan, "gan_ring8", "GAN on the ring of 8 Gaussians (PacGAN protocol)", ["samples.png", "losses.png"],
         dict(data="ring8", loss="non_saturating", plain=False, steps=None)),
        (gan, "gan_digits", "Label-conditioned DCGAN on sklearn digits", ["samples_per_class.png", "losses.png"],
         dict(data="digits", loss="non_saturating", plain=False, steps=None)),
        (ssl, "ssl_digits", "Semi-supervised K+1 GAN classifier: digits, 10 labels per class",
         ["confusion.png", "generated.png", "training.png"],
         dict(dataset="digits", data_dir=None, labels_per_class=10, steps=None)),
    ]  # fmt: skip
    results: dict[str, Any] = {}
    sections = []
    for module, name, title, images, overrides in jobs:
        job = _job_args(args, name, **overrides)
        results[name] = module.run(job)
        sections.append(Section(title, results[name], [job.out / i for i in images]))
    results["seconds"] = round(time.perf_counter() - t0, 1)
    write_report(args.out / "report.html", "genrl quickstart", sections)
    write_metrics(args.out, results)
    return results
