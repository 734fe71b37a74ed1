import json
import os
import signal
import subprocess
import sys
import time

import pytest

from genrl.gan import GANTrainer

TIMING_KEYS = {"seconds"}


def _gan_cmd(out, steps):
    return [sys.executable, "-m", "genrl.cli", "gan", "--data", "ring8", "--steps", str(steps), "--out", str(out),
            "--quiet", "--threads", "1", "--checkpoint-every", "50"]  # fmt: skip


def test_gan_run_killed_with_sigkill_resumes_where_it_left_off(tmp_path):
    out = tmp_path / "run"
    ckpt = out / "checkpoint.safetensors"
    proc = subprocess.Popen(_gan_cmd(out, 600), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not ckpt.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert ckpt.exists(), "no checkpoint was written within a minute"
        time.sleep(0.3)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    killed_at = GANTrainer.load(ckpt, device="cpu").step_count
    assert 0 < killed_at < 600
    subprocess.run([*_gan_cmd(out, 600), "--resume"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    final = GANTrainer.load(ckpt, device="cpu")
    assert final.step_count == 600
    steps = [r["step"] for r in final.history.rows]
    assert steps == sorted(set(steps)) and steps[0] <= killed_at  # one loss curve, continued, never restarted
    assert json.loads((out / "metrics.json").read_text())["steps"] == 600


@pytest.mark.parametrize("argv", [["gan", "--data", "ring8", "--steps", "150"]])
def test_same_seed_gives_identical_metrics_on_cpu(tmp_path, argv):
    metrics = []
    for run in ("a", "b"):
        out = tmp_path / run
        cmd = [sys.executable, "-m", "genrl.cli", *argv, "--out", str(out), "--quiet", "--threads", "1", "--seed", "3"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        m = json.loads((out / "metrics.json").read_text())
        metrics.append({k: v for k, v in m.items() if k not in TIMING_KEYS})
    assert metrics[0] == metrics[1]
