import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl.errors import InputError
from genrl.gail import GAIL, RewardNet, make_gail, record


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
    return make_gail("CartPole-v1", demos, seed=0, device="cpu").learn(15_000)


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
    assert not net.absorbing  # "auto": the expert never terminates, so no absorbing states
    assert net.reward(demos.obs, demos.act).mean() > net.reward(np.array(random_obs), np.array(random_act)).mean() + 0.5
    returns = [r["return_mean"] for r in trained.history if np.isfinite(r["return_mean"])]
    assert np.mean(returns[-3:]) > 150, returns  # random play averages ~22


def test_reward_net_save_load_round_trip(trained, demos, tmp_path):
    path = trained.reward_net.save(tmp_path / "reward.safetensors")
    back = RewardNet.load(path)
    obs, act = demos.obs[:50], demos.act[:50]
    np.testing.assert_allclose(back.reward(obs, act), trained.reward_net.reward(obs, act), rtol=1e-6)


def test_gail_refuses_demos_of_another_env(demos):
    with pytest.raises(InputError, match="recorded in CartPole-v1, not Pendulum-v1"):
        make_gail("Pendulum-v1", demos)
    with pytest.raises(InputError, match="algo"):
        make_gail("CartPole-v1", demos, algo="trpo")
    with pytest.raises(InputError, match="continuous"):
        make_gail("CartPole-v1", demos, algo="sac")
    with pytest.raises(InputError, match="unknown GAIL reward"):
        RewardNet(4, 2, True, reward="exp")


def test_absorbing_rows_and_terminal_bonus():
    net = RewardNet(2, 2, discrete=True, absorbing=True, use_next_obs=True)
    obs, act, nxt = np.zeros((3, 2)), np.array([0, 1, 1]), np.ones((3, 2))
    terminated = np.array([False, True, False])
    x = net.transition_inputs(obs, act, nxt, terminated)
    assert x.shape == (4, 2 * 3 + 2)  # one absorbing row for the one termination, none for the others
    assert x[:, 2].tolist() == [0, 0, 0, 1]  # the "absorbing" flag of s
    assert x[:, -1].tolist() == [0, 1, 0, 1]  # s' of the terminated row is the absorbing state
    gamma = 0.9
    with torch.no_grad():
        per_step = torch.nn.functional.softplus(net(net.inputs(obs, act, nxt, terminated))).numpy()
        r_abs = float(torch.nn.functional.softplus(net(net.absorbing_inputs(1))))
    expected = per_step + terminated * gamma / (1 - gamma) * r_abs  # absorbing forever after the termination
    np.testing.assert_allclose(net.reward(obs, act, nxt, terminated, gamma), expected, rtol=1e-5)
    with pytest.raises(InputError, match="next_obs"):
        net.inputs(obs, act)


def test_gail_run_saves_and_resumes_with_its_step_count_and_curve(demos, tmp_path):
    ckpt = tmp_path / "gail.safetensors"
    gail = make_gail("CartPole-v1", demos, seed=0, device="cpu", use_next_obs=True, round_steps=256)
    assert GAIL.load(gail.save(ckpt), device="cpu").learner.num_timesteps == 0  # saved before its first round
    gail.learn(1024, checkpoint_path=ckpt, checkpoint_every=512)
    back = GAIL.load(ckpt, device="cpu")
    assert back.learner.num_timesteps == 1024 and back.history == gail.history
    obs, act, nxt = demos.obs[:20], demos.act[:20], demos.next_obs[:20]
    np.testing.assert_allclose(back.reward_net.reward(obs, act, nxt), gail.reward_net.reward(obs, act, nxt), rtol=1e-6)
    for name, p in gail.learner.policy.state_dict().items():
        torch.testing.assert_close(back.learner.policy.state_dict()[name], p)
    for a, b in zip(back.window.recent(), gail.window.recent()):  # the discriminator's policy window, in order
        np.testing.assert_array_equal(a, b)
    back.learn(1536)
    assert back.learner.num_timesteps == 1536
    assert len(back.window) == len(gail.window)  # the discriminator's policy window kept its size
    assert [r["step"] for r in back.history] == [256, 512, 768, 1024, 1280, 1536]


def test_sac_gail_checkpoint_keeps_replay_buffer(tmp_path):
    demos = record(PendulumHeuristic(), "Pendulum-v1", episodes=2, seed=0)
    gail = make_gail("Pendulum-v1", demos, algo="sac", seed=0, device="cpu", round_steps=150,
                algo_kwargs={"learning_starts": 100, "buffer_size": 1000})  # fmt: skip
    gail.learn(300)
    back = GAIL.load(gail.save(tmp_path / "sac.safetensors"), device="cpu")
    rb, rb2 = gail.learner.replay_buffer, back.learner.replay_buffer
    assert rb2.pos == rb.pos == 300
    np.testing.assert_array_equal(rb2.observations[:300], rb.observations[:300])
    torch.testing.assert_close(back.learner.log_ent_coef, gail.learner.log_ent_coef)
    back.learn(450)
    assert back.learner.num_timesteps == 450 and back.learner.replay_buffer.pos == 450


class PendulumHeuristic:
    """Energy-pumping swing-up, good enough as a stand-in expert for mechanics tests."""

    def predict(self, obs, deterministic=True):
        cos, sin, vel = obs
        return np.array([np.clip(2.0 * np.sign(vel * cos) if cos < 0.9 else -10 * sin - 2 * vel, -2, 2)], np.float32), None


def test_gail_steps_its_envs_in_worker_processes(demos):
    gail = make_gail("CartPole-v1", demos, n_envs=2, subproc=True, round_steps=64, seed=0, device="cpu").learn(128)
    assert gail.learner.num_timesteps == 128 and type(gail.venv.unwrapped).__name__ == "SubprocVecEnv"
    gail.venv.close()


def test_gail_takes_built_parts_and_sb3_callbacks(demos, tmp_path):
    """imitation's way: GAIL(demos, venv, learner, reward_net), any SB3 learner, SB3 callbacks for it."""
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import CheckpointCallback
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    learner = A2C("MlpPolicy", venv, n_steps=16, seed=0, device="cpu")
    net = RewardNet(4, 2, discrete=True, obs_mean=demos.obs.mean(0), obs_std=demos.obs.std(0) + 1e-6)
    gail = GAIL(demos, venv, learner, net, disc_batch=64)
    assert gail.round_steps == 32  # one A2C rollout
    rows = []
    saver = CheckpointCallback(save_freq=32, save_path=str(tmp_path / "sb3"), name_prefix="a2c")
    gail.learn(96, learner_callback=saver, callback=lambda g, row: rows.append(row) or len(rows) < 2)
    assert learner.num_timesteps == 64 and [r["step"] for r in rows] == [32, 64]  # the callback stopped it
    assert sorted(p.name for p in (tmp_path / "sb3").iterdir())  # SB3's callback ran inside the rounds
    venv2 = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    learner2 = A2C("MlpPolicy", venv2, n_steps=16, seed=0, device="cpu")
    back = GAIL.load(gail.save(tmp_path / "gail.safetensors"), device="cpu", venv=venv2, learner=learner2)
    assert back.learner.num_timesteps == 64 and back.history == gail.history
    with pytest.raises(InputError, match="pass them to load"):
        GAIL.load(tmp_path / "gail.safetensors")


class DictCartPole(gym.Env):
    """CartPole-v1 observed as a Dict: {"cart": (x, ẋ), "pole": (θ, θ̇)}."""

    def __init__(self) -> None:
        from gymnasium.envs.classic_control import CartPoleEnv

        self.inner = CartPoleEnv()
        self.action_space = self.inner.action_space
        low, high = self.inner.observation_space.low, self.inner.observation_space.high
        self.observation_space = gym.spaces.Dict({"cart": gym.spaces.Box(low[:2], high[:2]),
                                                  "pole": gym.spaces.Box(low[2:], high[2:])})  # fmt: skip

    def _dict(self, obs):
        return {"cart": obs[:2], "pole": obs[2:]}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, info = self.inner.reset(seed=seed)
        return self._dict(obs), info

    def step(self, action):
        obs, r, terminated, truncated, info = self.inner.step(action)
        return self._dict(obs), r, terminated, truncated, info


def test_dict_observations_flatten_for_the_discriminator_and_use_multi_input_policy():
    from gymnasium.utils.env_checker import check_env

    from genrl.gail import make_gail
    from genrl.gail.demos import record, train_expert

    if "genrl-test/DictCartPole-v0" not in gym.registry:
        gym.register("genrl-test/DictCartPole-v0", entry_point=DictCartPole, max_episode_steps=100)
    check_env(DictCartPole(), skip_render_check=True)
    expert = train_expert("genrl-test/DictCartPole-v0", 256, device="cpu")
    assert type(expert.policy).__name__ == "MultiInputActorCriticPolicy"
    demos = record(expert, "genrl-test/DictCartPole-v0", 2)
    assert demos.obs.shape[1] == 4 and demos.meta["observation_space"]["kind"] == "Dict"
    gail = make_gail("genrl-test/DictCartPole-v0", demos, n_envs=2, round_steps=64, device="cpu").learn(128)
    obs, _, next_obs, _ = gail.window.recent()
    assert obs.shape == next_obs.shape == (len(gail.window), 4) and np.isfinite(gail.history[-1]["disc_acc_policy"])
    with pytest.raises(InputError, match="Dict observations are supported with algo='ppo'"):
        make_gail("genrl-test/DictCartPole-v0", demos, bc_epochs=1, device="cpu")
