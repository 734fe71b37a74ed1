import json
import os
import signal
import subprocess
import sys
import time

import pytest

from genrl.gail import GAIL, record
from genrl.gan import GANTrainer

TIMING_KEYS = {"seconds"}


def _gan_cmd(out, steps):
    return [sys.executable, "-m", "genrl.cli", "gan", "--data", "ring8", "--steps", str(steps), "--out", str(out),
            "--quiet", "--threads", "1", "--checkpoint-every", "50"]  # fmt: skip


class AnglePolicy:
    """A scripted CartPole expert: push towards the side the pole falls to."""

    def predict(self, obs, deterministic=True):
        return int(obs[2] + 0.5 * obs[3] > 0), None


@pytest.fixture(scope="module")
def cartpole_demos(tmp_path_factory):
    return record(AnglePolicy(), "CartPole-v1", episodes=4, seed=0).save(tmp_path_factory.mktemp("demos") / "demos.npz")


def _gail_cmd(out, steps, demos):
    return [sys.executable, "-m", "genrl.cli", "gail", "--env", "CartPole-v1", "--demos", str(demos), "--steps", str(steps),
            "--out", str(out), "--quiet", "--threads", "1", "--checkpoint-every", "512"]  # fmt: skip


def _kill_after_checkpoint(cmd, ckpt):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not ckpt.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert ckpt.exists(), "no checkpoint was written within a minute"
        time.sleep(0.3)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
def test_gan_run_killed_with_sigkill_resumes_where_it_left_off(tmp_path):
    out = tmp_path / "run"
    ckpt = out / "checkpoint.safetensors"
    _kill_after_checkpoint(_gan_cmd(out, 600), ckpt)
    killed_at = GANTrainer.load(ckpt, device="cpu").step_count
    assert 0 < killed_at < 600
    subprocess.run([*_gan_cmd(out, 600), "--resume"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    final = GANTrainer.load(ckpt, device="cpu")
    assert final.step_count == 600
    steps = [r["step"] for r in final.history]
    assert steps == sorted(set(steps)) and steps[0] <= killed_at  # one loss curve, continued, never restarted
    assert json.loads((out / "metrics.json").read_text())["steps"] == 600


@pytest.mark.slow
def test_gail_run_killed_with_sigkill_resumes_where_it_left_off(tmp_path, cartpole_demos):
    out = tmp_path / "run"
    ckpt = out / "checkpoint.safetensors"
    _kill_after_checkpoint(_gail_cmd(out, 6144, cartpole_demos), ckpt)
    killed_at = GAIL.load(ckpt, device="cpu").learner.num_timesteps
    assert 0 < killed_at < 6144
    cmd = [*_gail_cmd(out, 6144, cartpole_demos), "--resume"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    final = GAIL.load(ckpt, device="cpu")
    assert final.learner.num_timesteps == 6144
    steps = [r["step"] for r in final.history]
    assert steps == list(range(256, 6145, 256))  # one learning curve, continued from the checkpoint, never restarted
    assert json.loads((out / "metrics.json").read_text())["env_steps"] == 6144


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["gan", "--data", "ring8", "--steps", "150"], ["ssl", "--steps", "60"],
                                  ["gail", "--env", "CartPole-v1", "--steps", "1024", "--demos"]])  # fmt: skip
def test_same_seed_gives_identical_metrics_on_cpu(tmp_path, argv, cartpole_demos):
    argv = [*argv, str(cartpole_demos)] if argv[-1] == "--demos" else argv
    metrics = []
    for run in ("a", "b"):
        out = tmp_path / run
        cmd = [sys.executable, "-m", "genrl.cli", *argv, "--out", str(out), "--quiet", "--threads", "1", "--seed", "3"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        m = json.loads((out / "metrics.json").read_text())
        metrics.append({k: v for k, v in m.items() if k not in TIMING_KEYS})
    assert metrics[0] == metrics[1]
