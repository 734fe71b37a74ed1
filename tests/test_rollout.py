import gymnasium as gym
import numpy as np
import pytest

import genrl  # noqa: F401
from genrl.rollout import random_return, rollout


class AnglePolicy:
    """A scripted CartPole policy with SB3's predict."""

    def predict(self, obs, deterministic=True):
        return int(obs[2] + 0.5 * obs[3] > 0), None


def test_rollout_runs_whole_episodes_with_any_policy_kind():
    played = rollout(AnglePolicy(), "CartPole-v1", 2, seed=0, keep_transitions=True)
    t = played.transitions
    assert played.lengths == [len(r) for r in played.rewards] and len(t) == sum(played.lengths)
    assert (t.terminated | t.truncated).sum() == 2 and played.returns == [float(n) for n in played.lengths]
    as_callable = rollout(lambda obs: AnglePolicy().predict(obs)[0], gym.make("CartPole-v1"), 2, seed=0)
    assert as_callable.rewards == played.rewards and as_callable.transitions is None
    within = ~(t.terminated | t.truncated)[:-1]  # next_obs[t] == obs[t + 1] inside an episode
    np.testing.assert_array_equal(t.next_obs[:-1][within], t.obs[1:][within])


def test_random_rollouts_are_seeded_and_random_return_sums_every_step():
    a, b = rollout(None, "Pendulum-v1", 2, seed=3), rollout(None, "Pendulum-v1", 2, seed=3)
    assert a.rewards == b.rewards and a.lengths == [200, 200]
    assert rollout(None, "Pendulum-v1", 2, seed=4).rewards != a.rewards
    assert random_return("Pendulum-v1", episodes=2, seed=3) == pytest.approx(a.mean_return)
