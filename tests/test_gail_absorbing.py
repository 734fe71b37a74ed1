"""DAC's absorbing states with an off-policy learner (genrl.gail.absorbing)."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.vec_env import DummyVecEnv

from genrl.errors import InputError
from genrl.gail import GAIL, AbsorbingFlag, AbsorbingReplayBuffer, RewardNet, make_gail, record
from genrl.rollout import rollout


class Reach1D(gym.Env):
    """x starts in [-0.5, 0] and moves by 0.2 a; reaching x >= 1 ends the episode (the goal); -1 per step."""

    observation_space = spaces.Box(-2.0, 2.0, (1,), np.float32)
    action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.x = float(self.np_random.uniform(-0.5, 0.0))
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x = float(np.clip(self.x + 0.2 * float(np.clip(action[0], -1, 1)), -2, 2))
        return np.array([self.x], np.float32), -1.0, self.x >= 1.0, False, {}


gym.register("GenrlTestReach1D-v0", entry_point=Reach1D, max_episode_steps=50)


class Forward:
    def predict(self, obs, deterministic=True):
        return np.array([1.0], np.float32), None


@pytest.fixture(scope="module")
def demos():
    return record(Forward(), "GenrlTestReach1D-v0", episodes=10, seed=0)  # return -6.6: ends in 5 to 8 steps


SMALL_SAC = {"learning_starts": 250, "batch_size": 64, "policy_kwargs": {"net_arch": [64, 64]}}


def test_buffer_stores_terminal_as_absorbing_and_the_self_loop():
    space = spaces.Box(-np.inf, np.inf, (3,), np.float32)  # two features and the flag
    rb = AbsorbingReplayBuffer(10, space, spaces.Box(-1, 1, (1,), np.float32), "cpu")
    s, s2, a = np.array([[1.0, 2.0, 0.0]]), np.array([[3.0, 4.0, 0.0]]), np.array([[0.5]])
    rb.add(s, s2, a, np.zeros(1), np.array([False]), [{}])
    rb.add(s, s2, a, np.zeros(1), np.array([True]), [{}])  # terminated
    rb.add(s, s2, a, np.zeros(1), np.array([True]), [{"TimeLimit.truncated": True}])  # cut by the time limit
    assert rb.pos == 4  # the termination took two rows
    absorbing = [0.0, 0.0, 1.0]
    assert rb.next_observations[1, 0].tolist() == absorbing and rb.dones[1, 0] == 1 and rb.timeouts[1, 0] == 0
    assert rb.observations[2, 0].tolist() == absorbing == rb.next_observations[2, 0].tolist()
    assert rb.actions[2, 0].tolist() == [0.0] and rb.dones[2, 0] == 1 and rb.timeouts[2, 0] == 0  # its value is in its reward
    assert rb.next_observations[3, 0].tolist() == s2[0].tolist() and rb.dones[3, 0] == 1 and rb.timeouts[3, 0] == 1
    rb.reward_fn = lambda obs, act, next_obs, terminated: np.zeros(len(obs))
    batch = rb.sample(300)  # the learner's rows: the self-loop is the discriminator's alone
    assert batch.observations[:, -1].sum() == 0 and 0 < batch.next_observations[:, -1].sum() < 300
    rb.dones[1:3] = 0  # as buffers were saved before these rows were terminations
    rb.end_absorbing_rows()
    assert rb.dones[:4, 0].tolist() == [0, 1, 1, 1] and rb.timeouts[:4, 0].tolist() == [0, 0, 0, 1]
    from genrl.gail.sb3 import RelabelingReplayBuffer

    for cls in (AbsorbingReplayBuffer, RelabelingReplayBuffer):  # sampled rows' envs are SB3's secret
        with pytest.raises(InputError, match="one env"):
            cls(10, space, spaces.Box(-1, 1, (1,), np.float32), "cpu", n_envs=2)


def test_reward_net_reads_the_flag_and_ignores_the_action_in_the_absorbing_state():
    net = RewardNet(2, 1, discrete=False, absorbing=True, use_next_obs=True)
    absorbing = np.array([[0.0, 0.0, 1.0]])
    x = net.inputs(absorbing, np.array([[0.7]]), absorbing)
    torch.testing.assert_close(x, net.absorbing_inputs(1))  # any action there is the absorbing transition
    flagged = net.inputs(np.array([[1.0, 2.0, 0.0]]), np.array([[0.7]]), np.array([[3.0, 4.0, 0.0]]))
    torch.testing.assert_close(flagged, net.inputs(np.array([[1.0, 2.0]]), np.array([[0.7]]), np.array([[3.0, 4.0]])))
    with pytest.raises(InputError, match="2 features"):
        net.inputs(np.zeros((1, 4)), np.zeros((1, 1)), np.zeros((1, 2)))


def _reach_gail(demos, absorbing, source):
    gail = make_gail("GenrlTestReach1D-v0", demos, algo="sac", absorbing=absorbing, seed=0, device="cpu",
                     round_steps=250, algo_kwargs=SMALL_SAC, disc_source=source).learn(2000)  # fmt: skip
    return gail, rollout(gail, "GenrlTestReach1D-v0", 10, seed=100).mean_return


def test_plain_gail_pays_sac_never_to_reach_the_goal(demos):
    """GAIL's reward -log(1 - D) is positive, so without absorbing states a learner is paid to never finish."""
    assert _reach_gail(demos, False, "recent")[1] < -45  # expert -6.6; never finishing -50


@pytest.mark.parametrize("source", ["recent", "replay"])
def test_absorbing_states_teach_sac_to_reach_the_goal(demos, source):
    """With absorbing states SAC finishes, whether the discriminator sees recent rows or (DAC's way) the replay buffer."""
    gail, ret = _reach_gail(demos, True, source)
    assert ret > -30
    # from the replay buffer, the discriminator sees each self-loop once, and so the demo rows hold it once;
    # from recent rows, each termination stands for gamma / (1 - gamma) absorbing steps
    assert gail.absorbing_repeats == (1 if source == "replay" else 99)
    rb = gail.learner.replay_buffer
    flags = rb.observations[: rb.pos, 0, -1]
    assert rb.next_observations[: rb.pos, 0, -1].sum() == 2 * flags.sum() > 0  # each ending: into absorbing, and its loop


def test_discriminator_sees_each_termination_gamma_over_one_minus_gamma_times(demos):
    gail = make_gail("GenrlTestReach1D-v0", demos, algo="sac", seed=0, device="cpu", round_steps=200,
                     algo_kwargs=SMALL_SAC)  # fmt: skip
    assert gail.reward_net.absorbing and gail.absorbing_repeats == 99  # "auto": the expert's episodes terminate
    n_term = int(gail.train_demos.terminated.sum())
    assert len(gail.demo_x) == len(gail.train_demos) + 99 * n_term and n_term > 0
    assert int(gail.demo_x[:, 1].sum()) == 99 * n_term  # the absorbing flag, on those rows only
    truncated = gail.train_demos.truncated.copy()
    truncated[:] = True
    assert len(gail.reward_net.transition_inputs(gail.train_demos.obs, gail.train_demos.act, None,
                                                 np.zeros_like(truncated), 99)) == len(gail.train_demos)  # fmt: skip


def test_absorbing_sac_run_resumes_with_its_absorbing_value(demos, tmp_path):
    gail = make_gail("GenrlTestReach1D-v0", demos, algo="sac", seed=0, device="cpu", round_steps=200,
                     algo_kwargs=SMALL_SAC).learn(400)  # fmt: skip
    back = GAIL.load(gail.save(tmp_path / "gail.safetensors"), device="cpu")
    assert isinstance(back.learner.replay_buffer, AbsorbingReplayBuffer) and back.flagged
    assert back.absorbing_value == gail.absorbing_value != 0 and back.absorbing_repeats == 99
    np.testing.assert_array_equal(back.learner.replay_buffer.observations, gail.learner.replay_buffer.observations)
    assert back.learn(600).learner.num_timesteps == 600


def test_absorbing_replay_buffer_from_built_parts(demos):
    """imitation's way of building: GAIL(demos, venv, learner, reward_net) with DAC's buffer."""
    venv = DummyVecEnv([lambda: gym.make("GenrlTestReach1D-v0")])
    net = RewardNet(1, 1, discrete=False, absorbing=True)
    learner = SAC("MlpPolicy", AbsorbingFlag(venv), replay_buffer_class=AbsorbingReplayBuffer, learning_starts=100,
                  batch_size=32, seed=0, device="cpu")  # fmt: skip
    with pytest.raises(InputError, match="AbsorbingFlag"):
        GAIL(demos, venv, learner, net)
    gail = GAIL(demos, AbsorbingFlag(venv), learner, net, round_steps=200).learn(400)
    assert gail.learner.replay_buffer.observations[:400, 0, -1].sum() > 0
    assert np.isfinite(rollout(gail, "GenrlTestReach1D-v0", 2).mean_return)  # predict() adds the flag


def test_td3_learner_trains_and_resumes(demos, tmp_path):
    gail = make_gail("GenrlTestReach1D-v0", demos, algo="td3", seed=0, device="cpu", round_steps=200,
                     algo_kwargs={"learning_starts": 100, "batch_size": 32}).learn(400)  # fmt: skip
    assert type(gail.learner).__name__ == "TD3" and gail.learner.action_noise is not None
    assert np.isfinite(rollout(gail, "GenrlTestReach1D-v0", 2).mean_return)
    back = GAIL.load(gail.save(tmp_path / "td3.safetensors"), device="cpu")
    for name, p in gail.learner.policy.state_dict().items():  # actor, critics and their targets
        torch.testing.assert_close(back.learner.policy.state_dict()[name], p)
    assert back.learn(600).learner.num_timesteps == 600


def test_replay_source_draws_the_discriminators_policy_rows_from_the_replay_buffer(demos):
    gail = make_gail("GenrlTestReach1D-v0", demos, algo="sac", seed=0, device="cpu", round_steps=200,
                     algo_kwargs=SMALL_SAC, disc_source="replay", disc_updates=3, disc_batch=50).learn(400)  # fmt: skip
    x = gail._policy_inputs()
    assert len(x) == 150 and x.shape[1] == gail.demo_x.shape[1]
    n_term = int(gail.train_demos.terminated.sum())  # the demos' side: one absorbing row per termination
    assert n_term > 0 and len(gail.demo_x) == len(gail.train_demos) + n_term and int(gail.demo_x[:, 1].sum()) == n_term
    with pytest.raises(InputError, match="off-policy"):
        make_gail("GenrlTestReach1D-v0", demos, algo="ppo", n_envs=1, seed=0, device="cpu", disc_source="replay")
    with pytest.raises(InputError, match="disc_source"):
        make_gail("GenrlTestReach1D-v0", demos, algo="sac", seed=0, device="cpu", disc_source="window")


def test_absorbing_scale_is_the_flags_value_in_the_discriminators_input(tmp_path):
    net = RewardNet(2, 1, discrete=False, absorbing=True, use_next_obs=True, absorbing_scale=10.0)
    absorbing = np.array([[0.0, 0.0, 1.0]])
    x = net.inputs(absorbing, np.array([[0.7]]), absorbing)
    assert x.tolist() == [[0.0, 0.0, 10.0, 0.0, 0.0, 0.0, 10.0]]  # the action there is dropped
    torch.testing.assert_close(x, net.absorbing_inputs(1))
    assert RewardNet.load(net.save(tmp_path / "net.safetensors")).absorbing_scale == 10.0
    with pytest.raises(InputError, match="absorbing_scale"):
        RewardNet(2, 1, discrete=False, absorbing=True, absorbing_scale=0.0)
    with pytest.raises(InputError, match="absorbing_scale"):
        RewardNet(2, 1, discrete=False, absorbing=True, absorbing_scale="10")


@pytest.mark.parametrize("scale, judged_below_policy", [(1.0, False), (10.0, True)])
def test_under_a_gradient_penalty_only_a_scaled_flag_lets_the_absorbing_state_look_fake(scale, judged_below_policy):
    """The absorbing state's features are the demos' mean: with a penalty of 10, D's logit there
    stays near the demos' unless the flag puts it further away (as on Hopper-v5, see RewardNet)."""
    from genrl.gan.losses import get_loss
    from genrl.gan.update import AdversarialUpdate

    gen = torch.Generator().manual_seed(0)
    net = RewardNet(6, 1, discrete=False, hidden=(64, 64), absorbing=True, absorbing_scale=scale)
    demos = torch.randn(2000, 6, generator=gen)
    policy = torch.randn(2000, 6, generator=gen) + 2.0  # off the demos' distribution
    real = net.inputs(demos, torch.zeros(2000, 1))
    fake = torch.cat([net.inputs(policy, torch.zeros(2000, 1)), net.absorbing_inputs(200)])  # 1 in 11 rows absorbing
    up = AdversarialUpdate(net.D, torch.optim.Adam(net.parameters(), lr=1e-3), get_loss("non_saturating"),
                           gradient_penalty=10.0)  # fmt: skip
    for _ in range(600):
        idx = torch.randint(2000, (128,), generator=gen)
        loss, _ = up.discriminator_loss(real[idx], fake[torch.randint(len(fake), (128,), generator=gen)])
        up.step_discriminator(loss)
    with torch.no_grad():
        absorbing_logit, policy_logit = net(net.absorbing_inputs(1)).item(), net(fake[:2000]).mean().item()
    assert (absorbing_logit < policy_logit) == judged_below_policy, (absorbing_logit, policy_logit)


@pytest.mark.parametrize("backup", ["closed_form", "td"])
def test_sampled_absorbing_rows_carry_the_absorbing_states_value(demos, tmp_path, backup):
    gail = make_gail("GenrlTestReach1D-v0", demos, algo="sac", seed=0, device="cpu", round_steps=200, algo_kwargs=SMALL_SAC,
                     disc_source="replay", absorbing_scale=10.0, absorbing_backup=backup).learn(400)  # fmt: skip
    rb, net, gamma = gail.learner.replay_buffer, gail.reward_net, gail.learner.gamma
    ends = np.flatnonzero(rb.next_observations[: rb.pos, 0, -1] > 0)
    i = int(ends[rb.observations[ends, 0, -1] == 0][0])  # a step into the absorbing state
    rewards = rb._get_samples(np.array([i])).rewards[:, 0].numpy()
    # closed form: staying there forever under the current discriminator; td: the value backed up once per round
    value = net.absorbing_reward() / (1 - gamma) if backup == "closed_form" else gail.absorbing_value
    assert backup == "closed_form" or 0 < value < net.absorbing_reward() / (1 - gamma) * 0.1  # two rounds from 0
    step = net.reward(rb.observations[[i], 0], gail._unscale(rb.actions[[i], 0]), rb.next_observations[[i], 0])
    np.testing.assert_allclose(rewards, [step[0] + gamma * value], rtol=1e-4)
    back = GAIL.load(gail.save(tmp_path / "gail.safetensors"), device="cpu")
    assert back.disc_source == "replay" and back.reward_net.absorbing_scale == 10.0 and back.absorbing_repeats == 1
    assert back.absorbing_backup == backup and back.absorbing_value == gail.absorbing_value
    with pytest.raises(InputError, match="absorbing_backup"):
        make_gail("GenrlTestReach1D-v0", demos, algo="sac", device="cpu", absorbing_backup="bootstrap")


def test_demo_fraction_mixes_relabelled_demos_and_their_steps_into_absorbing_into_the_learners_batches(demos, tmp_path):
    gail = make_gail("GenrlTestReach1D-v0", demos, algo="sac", seed=0, device="cpu", round_steps=200,
                     algo_kwargs=SMALL_SAC, disc_source="replay", demo_fraction=0.25).learn(400)  # fmt: skip
    rb, d = gail.learner.replay_buffer, gail.train_demos
    n_term = int(d.terminated.sum())
    assert len(rb.demo_rows["obs"]) == len(d)  # each termination: the step into the absorbing state (no self-loop)
    assert rb.demo_rows["obs"][:, -1].sum() == 0 and rb.demo_rows["next_obs"][:, -1].sum() == n_term > 0
    np.testing.assert_allclose(rb.demo_rows["actions"][: len(d)], d.act)  # Forward's action 1 is the top of [-1, 1]
    batch = rb.sample(64)
    assert all(len(x) == 64 for x in batch[:5])
    demo_obs = batch.observations[48:].numpy()  # the last round(0.25 * 64) rows are demonstrations
    stored = {tuple(row) for row in rb.demo_rows["obs"].tolist()}
    assert all(tuple(row) in stored for row in demo_obs.tolist())
    act, nxt, ended = gail._unscale(batch.actions[48:].numpy()), batch.next_observations[48:].numpy(), batch.dones[48:, 0] > 0
    expected = gail.reward_net.reward(demo_obs, act, nxt, ended.numpy(), gail.learner.gamma)
    np.testing.assert_allclose(batch.rewards[48:, 0].numpy(), expected, rtol=1e-4, atol=1e-5)
    back = GAIL.load(gail.save(tmp_path / "gail.safetensors"), device="cpu")
    rb_back = back.learner.replay_buffer
    assert rb_back.demo_fraction == 0.25 and len(rb_back.demo_rows["obs"]) == len(rb.demo_rows["obs"])
    with pytest.raises(InputError, match="demo_fraction"):
        make_gail("GenrlTestReach1D-v0", demos, algo="ppo", n_envs=1, seed=0, device="cpu", demo_fraction=0.5)
    with pytest.raises(InputError, match="demo_fraction"):
        make_gail("GenrlTestReach1D-v0", demos, algo="sac", seed=0, device="cpu", demo_fraction=1.0)


@pytest.mark.parametrize("algo, absorbing", [("sac", True), ("td3", False)])
def test_behaviour_cloning_warm_starts_off_policy_actors(demos, algo, absorbing):
    obs = demos.obs[:20]
    kwargs = {"algo": algo, "absorbing": absorbing, "seed": 0, "device": "cpu", "algo_kwargs": SMALL_SAC}
    assert "use_sde" not in SMALL_SAC["policy_kwargs"]  # make_gail hands SB3 a copy, which SAC writes into
    before = make_gail("GenrlTestReach1D-v0", demos, **kwargs).predict(obs, deterministic=True)[0]
    gail = make_gail("GenrlTestReach1D-v0", demos, bc_epochs=300, **kwargs)
    after = gail.predict(obs, deterministic=True)[0]  # the demos' action is always 1, the top of the range
    assert np.abs(before).mean() < 0.5 and after.min() > 0.9
    if algo == "td3":
        for name, p in gail.learner.actor.state_dict().items():
            torch.testing.assert_close(gail.learner.actor_target.state_dict()[name], p)
