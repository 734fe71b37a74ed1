"""The ``genrl`` command: one subcommand per job; see ``genrl --help``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from genrl.errors import InputError

T = TypeVar("T")


def add_common(p: argparse.ArgumentParser) -> None:
    """Options every training subcommand takes."""
    p.add_argument("--out", required=True, type=Path, help="output folder (metrics.json, plots, checkpoint)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, noise, data order and envs")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto picks CUDA when present")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--tensorboard", action="store_true", help="write TensorBoard scalars to OUT/tensorboard")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave torch's default)")


def parse_dataclass(cls: type[T], description: str | None, argv: Sequence[str] | None = None) -> T:
    """Parse ``--field-name VALUE`` options for every field of a dataclass of defaults (lists take
    several values); the experiments' ``Args`` use it."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for k, v in vars(cls()).items():
        many = isinstance(v, list)
        kind = (type(v[0]) if v else str) if many else type(v)  # an empty list default takes strings
        p.add_argument(f"--{k.replace('_', '-')}", dest=k, type=kind, default=v, nargs="+" if many else None)
    return cls(**vars(p.parse_args(argv)))


def write_metrics(out: Path, metrics: dict[str, Any]) -> Path:
    """Write ``OUT/metrics.json`` and echo it as one JSON line."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(json.dumps(metrics, sort_keys=True))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    from genrl.cli import gail, gan, quickstart, ssl, world_model

    parser = argparse.ArgumentParser(prog="genrl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (gan, ssl, world_model, gail, quickstart):
        module.register(sub)
    args = parser.parse_args(argv)
    if getattr(args, "threads", 0):
        import torch

        torch.set_num_threads(args.threads)
    try:
        args.func(args)
    except InputError as e:
        print(f"genrl {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
