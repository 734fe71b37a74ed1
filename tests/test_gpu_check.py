"""``make gpu-check`` on a machine without CUDA says so and exits 0 (on a GPU it runs; see experiments/gpu_check.py)."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: make gpu-check runs for real")
def test_gpu_check_skips_cleanly_without_cuda(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "experiments" / "gpu_check.py"), "--out", str(tmp_path / "g.json")],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0 and "no CUDA device" in r.stdout and not (tmp_path / "g.json").exists()
