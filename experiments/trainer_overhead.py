"""Trainer overhead: GANTrainer.fit steps/s vs. a bare PyTorch loop doing the same math, same run.

Both loops: minibatch drawn on the device, non-saturating costs, alternating updates, Adam. Trials
alternate between the two so that machine noise hits both alike; we report the median of each.

    python experiments/trainer_overhead.py [--steps 300 --trials 5 --threads 1 --device cpu]
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from genrl.cli import parse_dataclass
from genrl.data import load_digits_images, ring8
from genrl.gan import DCGANDiscriminator, DCGANGenerator, GANConfig, GANTrainer, MLPDiscriminator, MLPGenerator
from genrl.plotting import bar_chart


@dataclass
class Args:
    steps: int = 300
    trials: int = 5
    threads: int = 1
    device: str = "cpu"
    out: str = "results/trainer_overhead"


def make_nets(case: str):
    torch.manual_seed(0)
    if case == "mlp_ring8":
        hidden = (128, 128, 128)
        return MLPGenerator(16, 2, hidden, norm="none"), MLPDiscriminator(2, hidden), ring8().sample(100_000)[0]
    return DCGANGenerator(64, (1, 8, 8), 32), DCGANDiscriminator((1, 8, 8), 32), load_digits_images()[0]


def bare_loop(G, D, X, steps: int, batch: int, device: torch.device) -> None:
    """The same game written directly: no config, no logging, no checks."""
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator(device=device).manual_seed(0)
    for _ in range(steps):
        x = X[torch.randint(len(X), (batch,), device=device, generator=gen)]
        with torch.no_grad():
            fake = G(torch.randn(batch, G.latent_dim, device=device, generator=gen))
        d_loss = 0.5 * F.softplus(-D(x)).mean() + 0.5 * F.softplus(D(fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = 0.5 * F.softplus(-D(G(torch.randn(batch, G.latent_dim, device=device, generator=gen)))).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(G.parameters()))
        opt_g.step()
    if device.type == "cuda":
        torch.cuda.synchronize()


def main(args: Args) -> None:
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    bars: dict[str, dict[str, float]] = {}
    for case in ("mlp_ring8", "dcgan_digits"):
        batch = 256 if case == "mlp_ring8" else 64
        rates: dict[str, list[float]] = {"trainer": [], "bare": []}
        for trial in range(args.trials + 1):  # trial 0 warms up both
            G, D, X = make_nets(case)
            t = GANTrainer(G, D, GANConfig(batch_size=batch), device=device)
            t0 = time.perf_counter()
            t.fit(X, steps=args.steps, progress=False)
            if device.type == "cuda":
                torch.cuda.synchronize()
            trainer_rate = args.steps / (time.perf_counter() - t0)
            G, D, X = make_nets(case)
            G, D, Xd = G.to(device), D.to(device), torch.as_tensor(X, device=device)
            t0 = time.perf_counter()
            bare_loop(G, D, Xd, args.steps, batch, device)
            bare_rate = args.steps / (time.perf_counter() - t0)
            if trial:
                rates["trainer"].append(trainer_rate)
                rates["bare"].append(bare_rate)
        tr, br = statistics.median(rates["trainer"]), statistics.median(rates["bare"])
        print(json.dumps({"case": case, "device": str(device), "threads": args.threads, "batch": batch,
                          "trainer_steps_per_s": round(tr, 1), "bare_steps_per_s": round(br, 1),
                          "overhead_pct": round(100 * (br / tr - 1), 1)}))  # fmt: skip
        bars[case] = {"GANTrainer.fit": tr, "bare PyTorch loop": br}
    bar_chart(bars, Path(args.out) / "trainer_overhead.png", "steps / s", f"{device}, {args.threads} thread(s)")


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
