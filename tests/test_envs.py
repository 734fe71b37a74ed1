import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import genrl  # noqa: F401  (registers the envs)
from genrl.envs import ENVS, NEEDS_MUJOCO
from genrl.errors import InputError


def _needs(name: str) -> None:
    if name in NEEDS_MUJOCO:
        pytest.importorskip("mujoco")


@pytest.mark.parametrize("name", list(ENVS))
def test_env_passes_gymnasium_checker_and_has_a_horizon(name):
    _needs(name)
    env = gym.make(f"genrl/{name}-v0")
    check_env(env.unwrapped, skip_render_check=True)
    env.reset(seed=0)
    steps, done = 0, False
    while not done:
        _, r, term, trunc, _ = env.step(env.action_space.sample())
        assert np.isfinite(r)
        done, steps = term or trunc, steps + 1
    assert steps == ENVS[name][1]


@pytest.mark.parametrize("name", list(ENVS))
def test_sample_next_shares_the_step_code_path(name):
    _needs(name)
    env = gym.make(f"genrl/{name}-v0").unwrapped
    obs, _ = env.reset(seed=1)
    a = env.action_space.sample()
    # Same generator state -> step and sample_next(n=1) give the same draw.
    state = env.np_random.bit_generator.state
    nxt, r, *_ = env.step(a)
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    s2, r2 = env.sample_next(obs, a, 1, rng)
    np.testing.assert_allclose(s2[0], nxt, rtol=1e-5, atol=1e-5)
    assert r2[0] == pytest.approx(r, rel=1e-5, abs=1e-5)
    with pytest.raises(InputError, match="sample_next expects"):
        env.sample_next(obs[:-1], a, 3)


def test_fork2d_is_bimodal_when_pushed_up_and_unimodal_otherwise():
    env = gym.make("genrl/Fork2D-v0").unwrapped
    up, _ = env.sample_next(np.zeros(2), np.array([0.0, 1.0]), 4000, seed=0)
    left = (up[:, 0] < -0.5).mean()
    assert 0.45 < left < 0.55 and ((up[:, 0] > 0.5).mean() + left) > 0.99  # two modes at x = ±1
    assert (np.abs(up[:, 0]) < 0.5).mean() < 0.001  # no mass where a Gaussian model puts its mean
    down, _ = env.sample_next(np.zeros(2), np.array([0.0, -1.0]), 4000, seed=0)
    assert np.abs(down[:, 0]).max() < 0.3  # one mode


def test_kicked_pendulum_kick_rate_and_gusty_cart_tails():
    env = gym.make("genrl/KickedPendulum-v0").unwrapped
    obs = np.array([1.0, 0.0, 0.0])
    s2, _ = env.sample_next(obs, np.zeros(1), 20000, seed=0)
    kicked = np.abs(s2[:, 2]) > 1.5
    assert 0.18 < kicked.mean() < 0.22 and abs((s2[kicked, 2] > 0).mean() - 0.5) < 0.05
    cart = gym.make("genrl/GustyCart-v0").unwrapped
    s2, r = cart.sample_next(np.array([0.0, 0.0]), np.zeros(1), 20000, seed=0)
    v = s2[:, 1]
    kurtosis = ((v - v.mean()) ** 4).mean() / v.var() ** 2
    assert kurtosis > 6  # a Gaussian has 3
    assert 0.03 < (r > 5).mean() < 0.07  # the jackpot near the origin


def test_fork_wall_straight_push_clears_the_wall_but_its_mode_average_would_not():
    import torch

    from genrl.worldmodel.rewards import fork_wall_crash, fork_wall_reward

    env = gym.make("genrl/ForkWall2D-v0").unwrapped
    below = np.array([0.0, -0.4])  # just under the wall, in its column
    nxt, r = env.sample_next(below, np.array([0.0, 1.0]), 4000, seed=0)
    assert not env.terminal(nxt).any() and (np.abs(nxt[:, 0]) > 0.5).all()  # both modes clear it
    assert abs((nxt[:, 0] > 0).mean() - 0.5) < 0.03
    assert env.terminal(nxt.mean(0, keepdims=True))[0]  # ... but the modes' average is on the wall
    # Moving into the wall without the fork (a_y <= 0 keeps x) crashes: -10 and the episode ends.
    env.reset(seed=0)
    env._s = np.array([0.0, 0.6])
    _, r2, terminated, _, _ = env.step(np.array([0.0, -1.0], dtype=np.float32))
    assert terminated and r2 == -10.0
    # The closed-form reward and termination the planners use agree with the env's.
    t = torch.as_tensor
    assert np.allclose(fork_wall_reward(t(nxt), t(nxt), t(nxt)).numpy(), r, atol=1e-5)
    assert not fork_wall_crash(t(nxt), t(nxt), t(nxt)).any()


def test_pushed_half_cheetah_has_three_velocity_modes_at_the_push_rate():
    pytest.importorskip("mujoco")
    env = gym.make("genrl/PushedHalfCheetah-v0").unwrapped
    obs, _ = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(20):  # somewhere mid-stride
        obs, *_ = env.step(env.action_space.sample())
    nxt, _ = env.sample_next(obs, np.zeros(6, dtype=np.float32), 4000, seed=0)
    kick = nxt[:, 8] - np.median(nxt[:, 8])  # the torso's forward velocity
    # Three point masses near -2, 0, +2 m/s (ground contact bends a push by up to a few tenths).
    assert np.allclose(np.sort(np.unique(np.round(kick, 1))), [-2.0, 0.0, 2.0], atol=0.3)
    assert abs((kick > 1).mean() - 0.1) < 0.02 and abs((kick < -1).mean() - 0.1) < 0.02


def test_fork_wall_straight_plan_beats_waiting_under_the_true_kernel():
    import torch

    from genrl.worldmodel.model_env import BatchedModelEnv
    from genrl.worldmodel.oracle import TrueKernel
    from genrl.worldmodel.planner import MPCPlanner
    from genrl.worldmodel.rewards import fork_wall_crash, fork_wall_reward

    sim = BatchedModelEnv(TrueKernel("genrl/ForkWall2D-v0", 0), reward_fn=fork_wall_reward, termination_fn=fork_wall_crash)
    planner = MPCPlanner(sim, np.array([-1.0, -1.0]), np.array([1.0, 1.0]), horizon=12, particles=64)
    gate = torch.tensor([0.0, -0.7])
    up, wait = torch.zeros(1, 12, 2), torch.zeros(1, 12, 2)
    up[..., 1] = 1.0
    scores = planner.evaluate(gate, torch.cat([up, wait]))
    assert scores[0] > scores[1] + 3, scores  # straight through the fork: no crash, and closer to the goal


def test_fork_wall_knowing_the_modes_changes_the_planned_route():
    """MPC through the true kernel goes straight through the fork; MPC through the best single
    Gaussian (the kernel's own mean and standard deviation) stalls below the wall."""

    from genrl.rollout import rollout
    from genrl.worldmodel.model_env import BatchedModelEnv
    from genrl.worldmodel.oracle import GaussianKernel, TrueKernel
    from genrl.worldmodel.planner import MPCPlanner
    from genrl.worldmodel.rewards import fork_wall_crash, fork_wall_reward

    def episode(kernel):
        sim = BatchedModelEnv(kernel, reward_fn=fork_wall_reward, termination_fn=fork_wall_crash)
        planner = MPCPlanner(sim, np.array([-1.0, -1.0]), np.array([1.0, 1.0]), horizon=12, population=300, elites=30,
                             iterations=4, particles=16, seed=0)  # fmt: skip
        return rollout(planner.act, "genrl/ForkWall2D-v0", 1, seed=0)

    true, gaussian = episode(TrueKernel("genrl/ForkWall2D-v0", 0)), episode(GaussianKernel("genrl/ForkWall2D-v0", 0))
    assert len(true.rewards[0]) == 30 and true.returns[0] > 20  # through the fork, no crash, at the goal early
    assert gaussian.returns[0] < true.returns[0] - 5, (gaussian.returns[0], true.returns[0])


@pytest.mark.parametrize(
    "name, obs, act",
    [
        ("ForkWall2D", [[0.3, -0.4], [1.0, 2.0]], [[0.2, 1.0], [-0.5, 0.5]]),
        ("JumpPits2D", [[0.3, -0.4], [1.0, 2.0]], [[0.2, 1.0, 0.5], [-0.5, 0.5, -0.5]]),
    ],
)
def test_kernel_moments_match_the_true_kernel(name, obs, act):
    env = gym.make(f"genrl/{name}-v0").unwrapped
    obs, act = np.array(obs), np.array(act)
    mean, std = env.kernel_moments(obs, act)
    for i in range(2):
        draws, _ = env.sample_next(obs[i], act[i], 20000, seed=i)
        np.testing.assert_allclose(draws.mean(0), mean[i], atol=0.03)
        np.testing.assert_allclose(draws.std(0), std[i], atol=0.03)


def test_jump_pits_knowing_the_modes_avoids_the_pits():
    """MPC through the true kernel lands in no pit and beats walking; MPC through the best single
    Gaussian jumps from where both slips land in a pit."""
    from genrl.envs import JumpPits2D
    from genrl.rollout import rollout
    from genrl.worldmodel.model_env import BatchedModelEnv
    from genrl.worldmodel.oracle import GaussianKernel, TrueKernel
    from genrl.worldmodel.planner import MPCPlanner
    from genrl.worldmodel.rewards import jump_pits_reward

    def episode(kernel):
        sim = BatchedModelEnv(kernel, reward_fn=jump_pits_reward)
        planner = MPCPlanner(sim, -np.ones(3), np.ones(3), horizon=12, population=300, elites=30, iterations=4,
                             particles=16, seed=0)  # fmt: skip
        return rollout(planner.act, "genrl/JumpPits2D-v0", 1, seed=0, keep_transitions=True)

    true, gaussian = episode(TrueKernel("genrl/JumpPits2D-v0", 0)), episode(GaussianKernel("genrl/JumpPits2D-v0", 0))
    pits = JumpPits2D().in_pit
    assert not pits(true.transitions.next_obs).any() and true.returns[0] > 14.3  # walking straight up scores 14.3
    assert pits(gaussian.transitions.next_obs).any() and gaussian.returns[0] < true.returns[0] - 2


def test_jump_pits_reward_closed_form_matches_the_env():
    import torch

    from genrl.worldmodel.rewards import jump_pits_reward

    env = gym.make("genrl/JumpPits2D-v0").unwrapped
    obs, act = np.array([[0.0, -1.0], [1.0, 0.0], [3.0, 2.5]]), np.array([[0.0, 1.0, 1.0], [1.0, 0.5, 1.0], [-1.0, 1.0, -1.0]])
    for o, a in zip(obs, act):
        nxt, r = env.sample_next(o, a, 50, seed=0)
        t = torch.as_tensor
        expected = jump_pits_reward(t(np.repeat(o[None], 50, 0)), t(np.repeat(a[None], 50, 0)), t(nxt)).numpy()
        np.testing.assert_allclose(r, expected, atol=1e-5)


@pytest.mark.parametrize("name", ["Fork2D", "UnevenFork2D", "RingKick2D", "ForkWall2D", "JumpPits2D"])
def test_true_samples_fall_on_the_closed_form_modes_with_their_weights(name):
    env = gym.make(f"genrl/{name}-v0").unwrapped
    obs = np.array([[0.5, 1.0 if name != "ForkWall2D" else -0.5]])
    act = np.array([[0.3, 0.9, 0.5]]) if name == "JumpPits2D" else np.array([[0.3, 0.9]])
    centres, weights = env.modes(obs, act)
    draws, _ = env.sample_next(obs[0], act[0], 20_000, seed=0)
    dist = np.linalg.norm(draws[:, None] - centres[0][None], axis=-1)
    assert np.quantile(dist.min(1), 0.99) < 4 * env.sigma  # every draw sits on one of the modes
    freq = np.bincount(dist.argmin(1), minlength=len(weights[0])) / len(draws)
    np.testing.assert_allclose(freq, weights[0], atol=0.015)


def test_held_out_envs_vary_spacing_and_orientation_with_the_state():
    fork = gym.make("genrl/UnevenFork2D-v0").unwrapped
    act = np.array([[0.0, 1.0], [0.0, 1.0]])
    centres, weights = fork.modes(np.array([[0.0, -4.0], [0.0, 4.0]]), act)
    gaps = centres[:, 2, 0] - centres[:, 1, 0]
    assert gaps[1] > 1.5 * gaps[0] and list(weights[0]) == [0.2, 0.5, 0.3]
    ring = gym.make("genrl/RingKick2D-v0").unwrapped
    c, _ = ring.modes(np.array([[-2.0, 0.0], [2.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 1.0]]))
    d0, d1 = c[0, 0] - c[0].mean(0), c[1, 0] - c[1].mean(0)
    assert abs(np.arctan2(d1[1], d1[0]) - np.arctan2(d0[1], d0[0])) == pytest.approx(1.2, abs=1e-6)  # turned by 0.3·Δx
    still, _ = ring.sample_next(np.zeros(2), np.zeros(2), 2000, seed=0)
    assert still.std(0).max() < 0.06  # no push, no kick: one Gaussian
