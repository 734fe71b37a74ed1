"""Why the MNIST discriminator sometimes runs away, and whether clipping its gradient norm holds it.

Phase 1 trains label draw ``--draw`` of ``--preset`` without a clip (as the run that ran away)
up to ``--from-step`` and keeps that state under ``runs/ssl_mnist_runaway/`` (skipped when it is
there). Phase 2 continues the saved state for ``--steps`` steps once per ``--clips`` value (0: no
clip, read through a clip at 1e12, which leaves every gradient as it is), logging every step's
losses and the discriminator's gradient norm before clipping, and the test error every 100
steps. One JSON line per step in ``--out``.

    python experiments/ssl_mnist_runaway.py --draw 1 --from-step 8200 --steps 400 --clips 0 10 5 2 1

Continuing a saved state under another clip is a resume with other parameters, which
``SSLGANClassifier.fit`` refuses; phase 2 deliberately rewrites the saved run's fingerprint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genrl.cli import parse_dataclass
from genrl.data import labeled_subset, load_mnist
from genrl.io import fingerprint, load_checkpoint, save_checkpoint
from genrl.ssl import PRESETS, SSLGANClassifier


@dataclass
class Args:
    data_dir: str = "../shared/data/mnist"
    preset: str = "mnist_fast"
    draw: int = 1
    """label draw (and training seed), as in experiments/ssl_mnist.py"""
    from_step: int = 8200
    """where phase 1 stops and phase 2 starts (a multiple of 100)"""
    steps: int = 400
    clips: list[float] = field(default_factory=lambda: [0.0, 10.0, 5.0, 2.0, 1.0])
    threads: int = 1
    out: str = "results/ssl_mnist_runaway.jsonl"


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    Xtr, ytr, Xte, yte = load_mnist(args.data_dir)
    Xtr, Xte = Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)
    y = labeled_subset(ytr, 10, seed=args.draw)
    saved = Path("runs/ssl_mnist_runaway") / f"{args.preset}_draw{args.draw}_step{args.from_step}.safetensors"
    if not saved.exists():  # phase 1: the unclipped run up to the chosen step
        saved.parent.mkdir(parents=True, exist_ok=True)
        params = {**PRESETS[args.preset], "max_grad_norm": None}
        SSLGANClassifier(**params, random_state=args.draw, device="cpu", log_every=100, checkpoint_path=str(saved),
                         checkpoint_every=args.from_step,
                         callback=lambda est, row: row["step"] < args.from_step).fit(Xtr, y)  # fmt: skip
    out = Path(args.out)
    for clip in args.clips:
        state = load_checkpoint(saved, kind="SSLGANClassifier")
        state["params"]["max_grad_norm"] = clip or 1e12
        est = SSLGANClassifier(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["params"].items()})
        codes = np.where(y >= 0, y, -1).astype(np.int64)  # labels 0-9 are their own class indices
        X = est._check_X(Xtr, fitted=False).numpy()  # the array fit fingerprints
        state["fingerprint"] = fingerprint([X, codes], [str(c) for c in range(10)], params=est.get_params())
        replay = saved.with_name(f"replay_clip{clip:g}.safetensors")
        save_checkpoint(replay, state)
        rows: list[dict[str, Any]] = []

        def record(est: SSLGANClassifier, row: dict[str, Any], clip: float = clip, rows: list = rows) -> bool:
            keys = ("sup_loss", "unsup_loss", "labeled_acc", "d_grad_norm")
            line = {"draw": args.draw, "from_step": args.from_step, "max_grad_norm": clip or None,
                    "step": int(row["step"]), **{k: round(float(row[k]), 5) for k in keys}}  # fmt: skip
            if row["step"] % 100 == 0:
                line["test_error_pct"] = round(100 * float((est.predict(Xte) != yte).mean()), 2)
                print(json.dumps(line), flush=True)
            rows.append(line)
            return row["step"] < args.from_step + args.steps

        est = SSLGANClassifier.load(replay, device="cpu").set_params(callback=record, log_every=1, checkpoint_path=None)
        est.fit(Xtr, y)
        replay.unlink()
        with out.open("a") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        norms = np.array([r["d_grad_norm"] for r in rows])
        print(f"clip {clip or None}: gradient norm median {np.median(norms):.3g}, max {norms.max():.3g}; "
              f"test error at the end {rows[-1].get('test_error_pct')}%", flush=True)  # fmt: skip


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
