import numpy as np
import pytest

from genrl.errors import InputError
from genrl.gail import GAIL, RewardNet, record


class AnglePolicy:
    """A scripted CartPole expert: push towards the side the pole falls to."""

    def predict(self, obs, deterministic=True):
        return int(obs[2] + 0.5 * obs[3] > 0), None


@pytest.fixture(scope="module")
def demos():
    d = record(AnglePolicy(), "CartPole-v1", episodes=10, seed=0)
    assert np.mean(d.meta["episode_returns"]) > 400
    return d


@pytest.fixture(scope="module")
def trained(demos):
    return GAIL("CartPole-v1", demos, seed=0, device="cpu").learn(15_000)


def test_discriminator_prefers_expert_transitions_and_learner_beats_random(trained, demos):
    random_obs, random_act = [], []
    rng = np.random.default_rng(0)
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=1)
    for _ in range(500):
        a = int(rng.integers(2))
        random_obs.append(obs)
        random_act.append(a)
        obs, _, term, trunc, _ = env.step(a)
        if term or trunc:
            obs, _ = env.reset()
    net = trained.reward_net
    assert net.reward(demos.obs, demos.act).mean() > net.reward(np.array(random_obs), np.array(random_act)).mean() + 0.5
    returns = [r["return_mean"] for r in trained.history if np.isfinite(r["return_mean"])]
    assert np.mean(returns[-3:]) > 150, returns  # random play averages ~22


def test_reward_net_save_load_round_trip(trained, demos, tmp_path):
    path = trained.reward_net.save(tmp_path / "reward.safetensors")
    back = RewardNet.load(path)
    obs, act = demos.obs[:50], demos.act[:50]
    np.testing.assert_allclose(back.reward(obs, act), trained.reward_net.reward(obs, act), rtol=1e-6)


def test_gail_refuses_demos_of_another_env(demos):
    with pytest.raises(InputError, match="recorded with"):
        GAIL("Pendulum-v1", demos)
    with pytest.raises(InputError, match="algo"):
        GAIL("CartPole-v1", demos, algo="trpo")
    with pytest.raises(InputError, match="continuous"):
        GAIL("CartPole-v1", demos, algo="sac")
    with pytest.raises(InputError, match="unknown GAIL reward"):
        RewardNet(4, 2, True, reward="exp")
