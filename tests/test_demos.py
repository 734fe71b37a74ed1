import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO

from genrl.errors import InputError
from genrl.gail import load_demos, record
from genrl.worldmodel import Transitions


@pytest.fixture(scope="module")
def cartpole_demos():
    policy = PPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu")  # untrained: only the format matters here
    return record(policy, "CartPole-v1", episodes=3, seed=0)


def test_record_round_trips_and_keeps_episode_structure(cartpole_demos, tmp_path):
    d = cartpole_demos
    assert d.meta["action_space"] == {"kind": "Discrete", "n": 2} and len(d.meta["episode_returns"]) == 3
    assert (d.terminated | d.truncated).sum() == 3 and sum(d.meta["episode_returns"]) == pytest.approx(d.rew.sum())
    back = load_demos(d.save(tmp_path / "demos.npz"), gym.make("CartPole-v1"))
    np.testing.assert_array_equal(back.act, d.act)


def test_mismatched_spaces_empty_and_nan_demos_are_refused(cartpole_demos, tmp_path):
    path = cartpole_demos.save(tmp_path / "demos.npz")
    with pytest.raises(InputError, match="recorded with observation_space"):
        load_demos(path, gym.make("Pendulum-v1"))
    foreign = Transitions(cartpole_demos.obs, cartpole_demos.act + 5, cartpole_demos.next_obs, cartpole_demos.rew,
                          cartpole_demos.terminated, cartpole_demos.truncated)  # fmt: skip
    with pytest.raises(InputError, match=r"integers in \[0, 2\)"):
        load_demos(foreign.save(tmp_path / "f.npz"), gym.make("CartPole-v1"))
    with pytest.raises(InputError, match="empty"):
        Transitions(np.zeros((0, 4)), np.zeros((0, 1)), np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros(0))
    obs = cartpole_demos.obs.copy()
    obs[3, 1] = np.nan
    with pytest.raises(InputError, match="obs contains NaN"):
        Transitions(obs, cartpole_demos.act, cartpole_demos.next_obs, cartpole_demos.rew, cartpole_demos.terminated,
                    cartpole_demos.truncated)  # fmt: skip
