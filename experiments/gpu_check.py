"""The GPU check: the ``cuda`` tests and a short GPU benchmark, one JSON file, in a few minutes.

On a machine with CUDA it runs ``pytest -m cuda`` and measures, on the CPU and the GPU: GAN
steps/s (ring8 MLP and digits DCGAN; fp32, ``--amp`` and ``--compile``), SSL-GAN steps/s on digits,
imagined transitions/s of the GAN and ensemble world models at batch 10k and 100k, and the seconds
of one GAIL round on CartPole. Without CUDA it says so and exits 0.

    make gpu-check                       # = python experiments/gpu_check.py --out results/gpu_check.json

A machine without gymnasium or stable-baselines3 (the lent GPU machine has torch and
scikit-learn only) gets them as wheels, downloaded here and carried there::

    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \\
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \\
        -d .whl gymnasium stable-baselines3 safetensors cloudpickle farama-notifications tqdm matplotlib ...
    # there: python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genrl.cli import parse_dataclass


@dataclass
class Args:
    out: str = "results/gpu_check.json"
    """the JSON file to write"""
    seconds: float = 5.0
    """timing window per measurement"""


def rate(step: Callable[[], Any], units: float, seconds: float, sync: bool) -> float:
    """Units per second of ``step`` over about ``seconds``, after a warm-up (CUDA work waited for)."""
    step()
    if sync:
        torch.cuda.synchronize()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    if sync:
        torch.cuda.synchronize()
    return round(n * units / (time.perf_counter() - t0), 1)


def gan_rates(device: str, seconds: float) -> dict[str, float]:
    from genrl.data import load_digits_images, ring8
    from genrl.gan.presets import digits_trainer, toy_trainer

    out: dict[str, float] = {}
    X, _ = ring8().sample(50_000, seed=0)
    images, labels = load_digits_images()
    modes = {"fp32": {}, "amp": {"amp": True}, "compile": {"compile": True}} if device == "cuda" else {"fp32": {}}
    for mode, options in modes.items():
        for name, make, data in (("ring8", lambda: toy_trainer("ring8", "non_saturating", True, 0, device), (X, None)),
                                 ("digits", lambda: digits_trainer(0, device), (images, labels))):  # fmt: skip
            trainer = make().accelerate(**options)
            trainer.fit(*data, steps=trainer.step_count + 5, progress=False)  # compile and warm-up
            out[f"gan_{name}_{mode}_steps_per_s"] = rate(
                lambda t=trainer, d=data: t.fit(*d, steps=t.step_count + 10, progress=False, log_every=10),
                10,
                seconds,
                device == "cuda",
            )
    return out


def ssl_rate(device: str, seconds: float) -> dict[str, float]:
    from genrl.data import digits_split, labeled_subset
    from genrl.ssl import PRESETS, SSLGANClassifier

    Xtr, _, ytr, _ = digits_split()
    y = labeled_subset(ytr, 10)
    params = {**PRESETS["digits"], "max_steps": 50, "random_state": 0, "device": device}
    return {"ssl_digits_steps_per_s": rate(lambda: SSLGANClassifier(**params).fit(Xtr, y), 50, seconds, device == "cuda")}


def imagination_rates(device: str, seconds: float) -> dict[str, float]:
    from genrl.rollout import collect
    from genrl.worldmodel import make_world_model

    data = collect("Pendulum-v1", 2000, seed=0)
    out: dict[str, float] = {}
    for kind in ("gan", "ensemble"):
        model = make_world_model(kind, 3, 1).fit(data, steps=20, device=device)
        for batch in (10_000, 100_000):
            obs = torch.randn(batch, 3, device=model.device)
            act = torch.rand(batch, 1, device=model.device) * 4 - 2
            out[f"world_model_{kind}_batch{batch}_transitions_per_s"] = rate(
                lambda m=model, o=obs, a=act: m.sample(o, a, 1), batch, seconds, device == "cuda"
            )
    return out


def gail_round(device: str) -> dict[str, float]:
    from genrl.gail import make_gail, record

    class Angle:  # a scripted CartPole expert
        def predict(self, obs: Any, deterministic: bool = True) -> tuple[int, None]:
            return int(obs[2] + 0.5 * obs[3] > 0), None

    gail = make_gail("CartPole-v1", record(Angle(), "CartPole-v1", 5, seed=0), seed=0, device=device)
    gail.learn(gail.round_steps)  # the first round builds SB3's buffers
    t0 = time.perf_counter()
    gail.learn(2 * gail.round_steps)
    return {"gail_round_seconds": round(time.perf_counter() - t0, 3)}


def main(args: Args) -> None:
    if not torch.cuda.is_available():
        print("gpu-check: no CUDA device on this machine; nothing to check (exit 0)")
        return
    t0 = time.perf_counter()
    result: dict[str, Any] = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "cpu_threads": 1}
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider"],
                           capture_output=True, text=True)  # fmt: skip
    result["cuda_tests"] = {"returncode": tests.returncode, "summary": tests.stdout.strip().splitlines()[-1:]}
    torch.set_num_threads(1)
    for device in ("cpu", "cuda"):
        for part in (gan_rates, ssl_rate, imagination_rates):
            for k, v in part(device, args.seconds).items():
                result[f"{device}_{k}"] = v
        try:
            result.update({f"{device}_{k}": v for k, v in gail_round(device).items()})
        except ImportError as e:  # gymnasium / SB3 not carried to this machine
            result[f"{device}_gail"] = f"skipped: {e}"
    result["seconds"] = round(time.perf_counter() - t0, 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main(parse_dataclass(Args, __doc__))
