"""Dyna/MBPO on the run loop: exact resume (in process and after SIGKILL), the schedule, the refusals."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from stable_baselines3 import SAC

from genrl.cli import main
from genrl.schedules import linear_int_schedule
from genrl.worldmodel import make_world_model
from genrl.worldmodel.dyna import Dyna, DynaConfig
from genrl.worldmodel.rewards import pendulum_reward

TINY = DynaConfig(start_steps=20, model_every=20, model_fit_steps=20, rollouts=16, updates_per_step=2, batch_size=16,
                  eval_every=30, eval_episodes=1, rollout_schedule=(20, 60, 1, 3))  # fmt: skip


def _dyna(kind="gan"):
    model = None if kind is None else make_world_model(kind, 3, 1, hidden=(16,), seed=0)
    return Dyna("Pendulum-v1", model, TINY, reward_fn=pendulum_reward, seed=0, device="cpu")


def _assert_same(a, b):
    for (name, x), y in zip(a.agent.policy.state_dict().items(), b.agent.policy.state_dict().values()):
        assert torch.equal(x, y), name
    if a.model is not None:
        for (name, x), y in zip(a.model.state_dict().items(), b.model.state_dict().values()):
            assert torch.equal(x, y), name
    assert [r["return_mean"] for r in a.history] == [r["return_mean"] for r in b.history]


@pytest.mark.parametrize("kind", ["gan", None])
def test_a_resumed_run_ends_where_an_uninterrupted_one_does(kind, tmp_path):
    """Checkpoints at 30 and 60 real steps fall mid-episode (Pendulum's last 200): the env is replayed."""
    straight = _dyna(kind).learn(90)
    ckpt = tmp_path / "dyna.safetensors"
    _dyna(kind).learn(30, checkpoint_path=ckpt)
    Dyna.load(ckpt, device="cpu").learn(60, checkpoint_path=ckpt)
    resumed = Dyna.load(ckpt, device="cpu").learn(90)
    assert resumed.step_count == 90 and [r["step"] for r in resumed.history] == [30, 60, 90]
    _assert_same(straight, resumed)
    assert resumed.agent.replay_buffer.pos == straight.agent.replay_buffer.pos


def test_rollout_length_follows_the_schedule():
    assert [linear_int_schedule(t, 20, 100, 1, 15) for t in (0, 20, 60, 100, 500)] == [1, 1, 8, 15, 15]
    assert DynaConfig(rollout_length=4).rollout_length_at(10**6) == 4
    dyna = _dyna("mlp")
    grown = []
    dyna.learn(60, callback=lambda d, row: grown.append(d.agent.replay_buffer.pos) or None)
    # 16 rollouts a step, of length 1 until step 20 then growing to 3 by step 60 (none terminate in Pendulum)
    expected = sum(16 * TINY.rollout_length_at(t) for t in range(20, 61))
    assert dyna.agent.replay_buffer.pos == expected


def test_mbrl_refuses_discrete_actions_in_one_line(tmp_path, capsys):
    assert main(["mbrl", "--env", "CartPole-v1", "--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "continuous (Box) action space" in err and "Discrete(2)" in err
    assert main(["mbrl", "--env", "Pendulum-v1", "--set", "rollouts=many", "--out", str(tmp_path / "s"), "--quiet"]) == 2
    assert "rollouts must be int" in capsys.readouterr().err


def _mbrl_cmd(out, steps):
    return [sys.executable, "-m", "genrl.cli", "mbrl", "--env", "Pendulum-v1", "--model", "mlp", "--steps", str(steps),
            "--out", str(out), "--quiet", "--threads", "1", "--checkpoint-every", "40", "--set", "start_steps=40",
            "model_every=60", "model_fit_steps=30", "rollouts=16", "updates_per_step=1", "batch_size=32", "eval_every=80",
            "eval_episodes=1"]  # fmt: skip


@pytest.mark.slow
def test_mbrl_killed_with_sigkill_resumes_to_the_uninterrupted_run(tmp_path):
    from test_reliability import _kill_after_checkpoint

    straight = tmp_path / "straight"
    subprocess.run(_mbrl_cmd(straight, 240), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = tmp_path / "run"
    _kill_after_checkpoint(_mbrl_cmd(out, 240), out / "checkpoint.safetensors")
    killed_at = Dyna.load(out / "checkpoint.safetensors", device="cpu").step_count
    assert 0 < killed_at < 240
    subprocess.run([*_mbrl_cmd(out, 240), "--resume"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (straight, out))
    assert [r["step"] for r in b["curve"]] == [80, 160, 240] and b["env_steps"] == 240
    assert [r["return_mean"] for r in a["curve"]] == [r["return_mean"] for r in b["curve"]]
    pa, pb = (SAC.load(d / "agent.zip", device="cpu").policy.state_dict() for d in (straight, out))
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert np.isfinite(b["return_mean"])
