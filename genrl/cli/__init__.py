"""The ``genrl`` command: one subcommand per job; see ``genrl --help``.

Each subcommand's options are a dataclass in :mod:`genrl.cli.jobs`; the parser is generated from
them (:mod:`genrl.cli.parsing`) and a job's heavy imports happen only when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gymnasium.error import Error as GymnasiumError

from genrl import __version__
from genrl.cli.jobs import COMMANDS, GROUPS
from genrl.cli.parsing import add_dataclass_options, dataclass_from, parse_dataclass
from genrl.errors import InputError

__all__ = ["main", "parse_dataclass", "write_metrics"]

DESCRIPTION = "Generative adversarial networks for learning from few labels and for learning to act: one command per job."
EPILOG = """examples:
  genrl quickstart --out runs/quickstart
  genrl gan --data grid25 --out runs/grid25
  genrl ssl --labels-per-class 10 --out runs/ssl
  genrl world-model train --env genrl/Fork2D-v0 --out runs/fork
  genrl gail --env CartPole-v1 --out runs/gail

Training commands write OUT/metrics.json and plots. With --resume a command loads the checkpoint
in OUT and trains until the total given by --steps."""


def _strict(value: Any) -> Any:
    """NaN and infinities become ``null``: metrics files are strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    return value


def write_metrics(out: Path, metrics: dict[str, Any], name: str = "metrics.json") -> Path:
    """Write ``OUT/<name>`` (strict JSON: undefined values are ``null``) and echo it as one JSON line."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    clean = _strict(metrics)
    path.write_text(json.dumps(clean, indent=2, sort_keys=True, allow_nan=False) + "\n")
    print(json.dumps(clean, sort_keys=True, allow_nan=False))
    return path


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; registry choices load only when a subcommand's help or value needs them."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="genrl", description=DESCRIPTION, epilog=EPILOG, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"genrl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}
    for name, (cls, _) in COMMANDS.items():
        doc = inspect_doc(cls)
        first, _, second = name.partition(" ")
        if second:
            if first not in groups:
                g = sub.add_parser(first, help=GROUPS[first], description=GROUPS[first])
                groups[first] = g.add_subparsers(dest="action", required=True, metavar="ACTION")
            p = groups[first].add_parser(second, help=doc[0], description="\n\n".join(doc), formatter_class=fmt)
        else:
            p = sub.add_parser(name, help=doc[0], description="\n\n".join(doc), formatter_class=fmt)
        add_dataclass_options(p, cls)
        p.set_defaults(job=name)
    return parser


def inspect_doc(cls: type) -> list[str]:
    """A job class's docstring as paragraphs (the first is the one-line help)."""
    return [" ".join(part.split()) for part in (cls.__doc__ or "").strip().split("\n\n")]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cls, target = COMMANDS[args.job]
    job: Any = dataclass_from(cls, args)
    module, _, func = target.partition(":")
    threads = getattr(job, "threads", 0)
    try:
        run = getattr(importlib.import_module(module), func)
        with _torch_threads(threads):
            run(job)
    except (InputError, GymnasiumError) as e:  # a wrong env id or a missing env dependency is the user's to fix
        print(f"genrl {args.job}: error: {e}", file=sys.stderr)
        return 2
    return 0


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """torch's CPU thread count set to ``n`` (0: left as it is) for the job, and put back after it."""
    if not n:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


if __name__ == "__main__":
    sys.exit(main())
