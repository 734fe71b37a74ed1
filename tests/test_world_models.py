import gymnasium as gym
import numpy as np
import pytest
import torch

import genrl  # noqa: F401
from genrl.errors import InputError
from genrl.rollout import collect, rollout
from genrl.worldmodel import WorldModel, make_world_model
from genrl.worldmodel.fitting import EarlyStopping


@pytest.fixture(scope="module")
def fork_data():
    return collect("genrl/Fork2D-v0", 12000, n_envs=8, seed=0)


PROBE_OBS, PROBE_ACT = np.zeros((1, 2)), np.array([[0.0, 1.0]])  # pushed up: modes at x = -1 and x = +1


@pytest.mark.slow
def test_gan_world_model_keeps_both_modes_where_the_ensemble_averages(fork_data):
    torch.manual_seed(0)
    gan = make_world_model("gan", 2, 2, hidden=(128, 128)).fit(fork_data, steps=2000)
    x = gan.sample(PROBE_OBS, PROBE_ACT, 2000).next_obs[0, :, 0].numpy()
    left, right = (x < -0.5).mean(), (x > 0.5).mean()
    assert 0.35 < left < 0.65 and 0.35 < right < 0.65, (left, right)
    ens = make_world_model("ensemble", 2, 2, hidden=(128, 128)).fit(fork_data, steps=1500)
    mean_x = ens.mean_prediction(PROBE_OBS, PROBE_ACT)[0, 0].item()
    assert -0.5 < mean_x < 0.5  # between the modes, where the true density is ~0


def test_shapes_save_load_and_wrong_inputs(fork_data, tmp_path):
    for kind in ("gan", "ensemble", "mlp"):
        model = make_world_model(kind, 2, 2, hidden=(16,)).fit(fork_data[:500], steps=20)
        pred = model.sample(np.zeros((3, 2)), np.zeros((3, 2)), n=4)
        assert pred.next_obs.shape == (3, 4, 2) and pred.reward.shape == (3, 4) and pred.terminated.dtype == torch.bool
        back = WorldModel.load(model.save(tmp_path / f"{kind}.safetensors"), device="cpu")
        if kind == "mlp":
            torch.testing.assert_close(back.sample(np.ones((2, 2)), np.ones((2, 2))).next_obs,
                                       model.sample(np.ones((2, 2)), np.ones((2, 2))).next_obs)  # fmt: skip
        with pytest.raises(InputError, match=r"obs \(B, 2\) and actions \(B, 2\)"):
            back.sample(np.zeros((3, 3)), np.zeros((3, 2)))
        with pytest.raises(InputError, match="NaN"):
            back.sample(np.full((1, 2), np.nan), np.zeros((1, 2)))
    with pytest.raises(InputError, match="unknown world model"):
        make_world_model("vae", 2, 2)


def test_gan_categories_are_a_discrete_choice_of_noise_and_survive_a_checkpoint(fork_data, tmp_path):
    model = make_world_model("gan", 2, 2, hidden=(16,), categories=4, seed=0).fit(fork_data[:500], steps=20)
    assert model.generators[0].categories == 4
    back = WorldModel.load(model.save(tmp_path / "gan.safetensors"), device="cpu")
    assert back.categories == 4 and back.sample(np.zeros((2, 2)), np.zeros((2, 2)), n=3).next_obs.shape == (2, 3, 2)
    with pytest.raises(InputError, match="categories"):
        make_world_model("gan", 2, 2, categories=9)  # more than the 8 noise entries


def test_model_env_passes_check_env_and_trains_sb3(fork_data):
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3 import SAC

    from genrl.worldmodel.model_env import BatchedModelEnv, ModelEnv

    real = gym.make("genrl/Fork2D-v0")
    model = make_world_model("mlp", 2, 2, hidden=(32, 32)).fit(fork_data[:2000], steps=200)
    env = ModelEnv(model, real.observation_space, real.action_space, fork_data.obs[:100], horizon=20)
    check_env(env, skip_render_check=True)
    SAC("MlpPolicy", env, learning_starts=20, batch_size=16, seed=0).learn(60)
    batched = BatchedModelEnv(model, reward_fn=lambda o, a, n: -n.norm(dim=1))
    batched.reset(np.zeros((1000, 2), dtype=np.float32))
    nxt, r, term = batched.step(np.ones((1000, 2), dtype=np.float32))
    assert nxt.shape == (1000, 2) and r.shape == (1000,) and not term.any()
    with pytest.raises(InputError, match="observation space of shape"):
        ModelEnv(model, gym.make("genrl/KickedPendulum-v0").observation_space, real.action_space, fork_data.obs)


@pytest.mark.parametrize("method", ["cem", "mppi"])
def test_mpc_through_a_learned_model_beats_random_actions(fork_data, method):
    from genrl.worldmodel.model_env import BatchedModelEnv
    from genrl.worldmodel.planner import MPCPlanner

    model = make_world_model("mlp", 2, 2, hidden=(64, 64)).fit(fork_data, steps=600)
    goal = torch.tensor([2.0, 4.0])
    planner = MPCPlanner(BatchedModelEnv(model, reward_fn=lambda o, a, n: -(n - goal).norm(dim=1)),
                         np.array([-1.0, -1.0]), np.array([1.0, 1.0]), horizon=8, population=100, elites=10,
                         iterations=3, particles=1, method=method)  # fmt: skip

    def episode_return(policy, seed):
        return rollout(policy, "genrl/Fork2D-v0", 1, seed=seed).returns[0]

    rng = np.random.default_rng(0)
    random_return = np.mean([episode_return(lambda o: rng.uniform(-1, 1, 2), s) for s in range(3)])
    planned = episode_return(planner.act, 0)
    assert planned > random_return + 100, (planned, random_return)  # measured: about -30 vs. -224


@pytest.mark.parametrize("retention", [5000, 1000])
def test_dyna_sac_runs_real_steps_and_keeps_its_model_rollouts_within_retention(retention):
    from genrl.worldmodel.dyna import DynaConfig, dyna_sac

    cfg = DynaConfig(start_steps=60, model_every=60, model_fit_steps=50, rollouts=64,
                     updates_per_step=1, batch_size=32, buffer_size=retention, eval_every=60, eval_episodes=1)  # fmt: skip
    agent, curve = dyna_sac("genrl/Fork2D-v0", make_world_model("mlp", 2, 2, hidden=(16,)), 120, cfg)
    assert [row["step"] for row in curve] == [60, 120] and all(np.isfinite(r["return_mean"]) for r in curve)
    # scored at the second fit on the 60 real steps since the first, before training on them
    assert "model_energy_score_unseen" not in curve[0] and np.isfinite(curve[1]["model_energy_score_unseen"])
    assert all(r["ent_coef"] > 0 and r["policy_std"] > 0 and np.isfinite(r["q_mean"]) for r in curve)
    imagined = (120 - 60 + 1) * 64  # one imagined batch per real step after the start
    rb = agent.replay_buffer
    assert rb.size() == min(imagined, retention) and rb.pos == imagined % retention and rb.full == (imagined > retention)


def test_dyna_critic_layer_norm_and_target_rate_reach_sac():
    from torch import nn

    from genrl.worldmodel.dyna import DynaConfig, dyna_sac

    cfg = DynaConfig(start_steps=20, model_every=20, model_fit_steps=20, rollouts=16, updates_per_step=1,
                     batch_size=16, eval_every=40, eval_episodes=1, critic_layer_norm=True, tau=0.01)  # fmt: skip
    agent, _ = dyna_sac("genrl/Fork2D-v0", make_world_model("mlp", 2, 2, hidden=(16,)), 40, cfg)
    for critic in (agent.critic, agent.critic_target):  # the target copies the normalised critics
        assert [sum(isinstance(m, nn.LayerNorm) for m in q) for q in critic.q_networks] == [2, 2]
    trained = {id(p) for g in agent.critic.optimizer.param_groups for p in g["params"]}
    assert all(id(p) in trained for p in agent.critic.parameters())
    assert agent.tau == 0.01 and not any(isinstance(m, nn.LayerNorm) for m in agent.actor.modules())


@pytest.mark.parametrize("batch, n", [(1, 1), (3, 2), (7, 5)])
def test_ensemble_sampling_any_batch_size(batch, n):
    model = make_world_model("ensemble", 2, 2, hidden=(8,))
    pred = model.sample(np.zeros((batch, 2)), np.zeros((batch, 2)), n)
    assert pred.next_obs.shape == (batch, n, 2)


@pytest.mark.parametrize("kind", ["gan", "ensemble"])
def test_world_model_fit_resumes_exactly_from_a_checkpoint(kind, tmp_path):
    data = collect("genrl/Fork2D-v0", 400, seed=0)
    straight = make_world_model(kind, 2, 2, hidden=(16, 16), seed=1).fit(data, steps=40, batch_size=32, device="cpu")
    ckpt = tmp_path / "wm.safetensors"
    crashing = make_world_model(kind, 2, 2, hidden=(16, 16), seed=1)

    def crash_at_30(model, row):  # a crash ten steps after the step-20 checkpoint
        if row["step"] == 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crashing.fit(data, steps=40, batch_size=32, device="cpu", checkpoint_path=ckpt, checkpoint_every=20,
                     callback=crash_at_30, log_every=10)  # fmt: skip
    resumed = WorldModel.load(ckpt, device="cpu")
    assert resumed.step_count == 20
    with pytest.raises(InputError, match="pass steps > 20"):  # a loaded fit continues; it never silently does nothing
        WorldModel.load(ckpt, device="cpu").fit(data, steps=20, batch_size=32, device="cpu")
    resumed.fit(data, steps=40, batch_size=32, device="cpu")  # a loaded fit continues
    assert resumed.step_count == 40
    fresh = WorldModel.load(ckpt, device="cpu", continue_fit=False).fit(data, steps=5, batch_size=32, device="cpu")
    assert fresh.step_count == 5  # a new fit warm-started from the loaded weights
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


@pytest.mark.parametrize("kind", ["gan", "ensemble"])
def test_early_stopping_ends_on_the_best_held_out_weights_keeps_elites_and_resumes_exactly(kind, tmp_path):
    data = collect("genrl/Fork2D-v0", 400, seed=0)
    stop = EarlyStopping(every=5, patience=3, threshold=0.02)
    options = {"hidden": (16, 16), "seed": 1, **({"members": 4, "elites": 2} if kind == "ensemble" else {})}
    fit = {"steps": 2000, "batch_size": 32, "device": "cpu", "early_stopping": stop, "log_every": 5}
    seen: dict[int, dict] = {}

    def keep(model, row):
        seen[row["step"]] = {k: v.clone() for k, v in model.state_dict().items()}

    straight = make_world_model(kind, 2, 2, **options).fit(data, callback=keep, **fit)
    scores = {r["step"]: r["holdout_energy_score"] for r in straight.history}
    assert straight.step_count < 2000
    # It stops `patience` scores after the last that beat the best by the threshold, on the best weights.
    improved = [s for s in scores if all(scores[s] < scores[t] * (1 - stop.threshold) for t in scores if t < s)]
    assert straight.step_count == improved[-1] + stop.patience * stop.every
    best = min(scores, key=scores.__getitem__)
    for name, value in straight.state_dict().items():
        if name != "elite_index":
            torch.testing.assert_close(value, seen[best][name], msg=name)
    if kind == "ensemble":
        assert straight.elite_index.shape == (2,) and len(set(straight.elite_index.tolist())) == 2
    full = make_world_model(kind, 2, 2, **options).fit(data, **{**fit, "steps": 60, "early_stopping": False})
    assert full.step_count == 60 and "holdout_energy_score" not in full.history[-1]

    ckpt = tmp_path / "wm.safetensors"

    def crash(model, row):  # a crash after the checkpoint at step 10
        if row["step"] == 15:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make_world_model(kind, 2, 2, **options).fit(data, callback=crash, checkpoint_path=ckpt, checkpoint_every=10, **fit)
    resumed = WorldModel.load(ckpt, device="cpu").fit(data, **fit)
    assert resumed.step_count == straight.step_count
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


def test_pets_loop_refits_after_each_planned_episode_and_beats_random():
    from genrl.worldmodel.pets import PETSConfig, mpc_loop

    cfg = PETSConfig(
        episodes=2, init_steps=300, fit_steps=300, horizon=8, population=100, elites=10, iterations=3, particles=1
    )
    model = make_world_model("mlp", 2, 2, hidden=(64, 64), seed=0)
    curve = mpc_loop("genrl/Fork2D-v0", model, cfg, seed=0, device="cpu")
    assert [r["env_steps"] for r in curve] == [350, 400]  # 300 random steps, then two 50-step planned episodes
    assert model.step_count == 300  # each refit is a fresh fit_steps-step fit (warm-started) on all real data
    assert min(r["return"] for r in curve) > -150, curve  # random actions score about -224 here


def test_discrete_actions_are_one_hot_inside_the_model():
    from genrl.worldmodel import world_model_for

    data = collect("CartPole-v1", 2000, seed=0)
    model = world_model_for("mlp", "CartPole-v1", hidden=(64, 64), seed=0).fit(data, steps=600, batch_size=128, device="cpu")
    assert (model.act_dim, model.discrete_actions) == (2, True)
    pred = model.sample(data.obs[:200], data.act[:200], 1).next_obs[:, 0].numpy()
    moved = np.abs(data.next_obs[:200] - data.obs[:200]).mean()
    assert np.abs(pred - data.next_obs[:200]).mean() < 0.3 * moved  # the push direction is learned, not averaged
    with pytest.raises(InputError, match="actions"):
        model.sample(data.obs[:2], np.array([0, 2]), 1)
    with pytest.raises(InputError):
        world_model_for("gan", "genrl/Fork2D-v0").sample(np.zeros((1, 2)), np.zeros((1, 3)), 1)
    # a learned CartPole behind a gymnasium face with the real Discrete action space: DQN trains in it
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3 import DQN

    from genrl.worldmodel.model_env import ModelEnv

    real = gym.make("CartPole-v1")
    sim = ModelEnv(model, real.observation_space, real.action_space, data.obs, horizon=50)
    check_env(sim, skip_render_check=True)
    DQN("MlpPolicy", sim, learning_starts=50, seed=0, device="cpu").learn(200)
    with pytest.raises(InputError, match="does not match the model's actions"):
        ModelEnv(model, real.observation_space, gym.spaces.Discrete(3), data.obs)


def test_true_kernel_draws_the_env_kernel_and_plans_in_the_pets_loop():
    from genrl.worldmodel.oracle import TrueKernel
    from genrl.worldmodel.pets import PETSConfig, mpc_loop

    kernel = TrueKernel("genrl/Fork2D-v0", seed=0)
    x = kernel.sample(np.zeros((2, 2)), np.array([[0.0, 1.0], [0.0, -1.0]]), 4000).next_obs[..., 0].numpy()
    assert 0.45 < (x[0] > 0).mean() < 0.55 and abs(x[0]).min() > 0.7  # pushed up: the two modes at x = ±1
    assert abs(x[1]).max() < 0.4  # pushed down: one mode at x = 0
    cfg = PETSConfig(episodes=1, init_steps=10, horizon=8, population=100, elites=10, iterations=3, particles=1)
    curve = mpc_loop("genrl/Fork2D-v0", kernel, cfg, reward_fn=None, seed=0)
    assert curve[0]["return"] > -60, curve  # random actions score about -224; a learned MLP model about -30
    with pytest.raises(InputError, match="StochasticEnv"):
        TrueKernel("Pendulum-v1")
    with pytest.raises(InputError, match=r"shape \(N, 2\)"):
        kernel.sample(np.zeros((1, 3)), np.zeros((1, 2)))


def test_planner_scores_particles_by_their_mean_or_their_worst_fraction():
    from types import SimpleNamespace

    from genrl.worldmodel.planner import MPCPlanner

    class TwoCandidates:  # candidate 0 pays 10 on three particles and -25 on the fourth; candidate 1 pays 0
        model = SimpleNamespace(device=torch.device("cpu"))

        def reset(self, obs):
            self.n = len(obs)

        def step(self, act):
            risky = torch.tensor([10.0, 10.0, 10.0, -25.0] + [0.0] * 4)
            return None, risky[: self.n], torch.zeros(self.n, dtype=torch.bool)

    seqs = torch.zeros(2, 1, 1)
    kw = dict(low=np.array([-1.0]), high=np.array([1.0]), horizon=1, population=2, elites=1, particles=4)
    mean = MPCPlanner(TwoCandidates(), **kw).evaluate(torch.zeros(1), seqs)
    cvar = MPCPlanner(TwoCandidates(), **kw, objective="cvar", cvar_alpha=0.25).evaluate(torch.zeros(1), seqs)
    assert mean.tolist() == [1.25, 0.0] and cvar.tolist() == [-25.0, 0.0]  # the mean takes the risk, CVaR does not
    with pytest.raises(InputError, match="objective must be"):
        MPCPlanner(TwoCandidates(), **kw, objective="max")


def test_planner_particles_follow_the_models_own_draws():
    """Through a stochastic model the particles of one action sequence get different returns (their
    CVaR lies below their mean); through a deterministic one they coincide."""
    from genrl.worldmodel.model_env import BatchedModelEnv
    from genrl.worldmodel.oracle import TrueKernel
    from genrl.worldmodel.planner import MPCPlanner

    kernel = TrueKernel("genrl/Fork2D-v0", seed=0)

    class OneDrawPerPair:  # the true kernel, drawn once per distinct (s, a): deterministic
        obs_dim, act_dim, device = kernel.obs_dim, kernel.act_dim, kernel.device

        def sample(self, obs, act, n=1):
            pairs, index = torch.unique(torch.cat([obs, act], 1), dim=0, return_inverse=True)
            pred = kernel.sample(pairs[:, :2], pairs[:, 2:], n)
            return type(pred)(pred.next_obs[index], pred.reward[index], pred.terminated[index])

    up = torch.tensor([[[0.0, 1.0]] * 3])  # push up three times: each step forks left or right
    kw = dict(low=-np.ones(2), high=np.ones(2), horizon=3, population=1, elites=1, particles=16)
    for model, differ in ((kernel, True), (OneDrawPerPair(), False)):
        scores = []
        for objective in ("mean", "cvar"):
            kernel.rng = np.random.default_rng(0)  # the same draws for both objectives
            planner = MPCPlanner(BatchedModelEnv(model), **kw, objective=objective, cvar_alpha=0.25)
            scores.append(float(planner.evaluate(torch.zeros(2), up)[0]))
        assert (scores[1] < scores[0] - 0.1) == differ, (model, scores)
        assert differ or scores[1] == pytest.approx(scores[0])


def test_mode_weight_error_is_near_its_floor_for_the_truth_and_large_for_one_mode():
    import gymnasium as gym

    from genrl.worldmodel.evaluate import mode_weight_error
    from genrl.worldmodel.models import Prediction
    from genrl.worldmodel.oracle import TrueKernel

    env = gym.make("genrl/UnevenFork2D-v0").unwrapped
    probes = collect("genrl/UnevenFork2D-v0", 200, n_envs=2, seed=0)
    truth = mode_weight_error(TrueKernel(env, 1), env, probes, n_samples=400)
    assert truth["mode_probes"] > 20 and max(truth["mode_tv"], truth["mode_tv_floor"]) < 0.06  # sampling noise only

    class MiddleOnly:  # every draw on the heaviest mode (weight 0.5): total variation 0.5
        def sample(self, obs, act, n):
            centres, _ = env.modes(np.asarray(obs, np.float64), np.asarray(act, np.float64))
            x = torch.as_tensor(centres[:, 1], dtype=torch.float32)[:, None].expand(-1, n, -1)
            zeros = torch.zeros(len(obs), n)
            return Prediction(x, zeros, zeros.bool())

    assert mode_weight_error(MiddleOnly(), env, probes)["mode_tv"] == pytest.approx(0.5)
    with pytest.raises(InputError, match="no modes"):
        mode_weight_error(MiddleOnly(), gym.make("genrl/GustyCart-v0").unwrapped, probes)


def test_dyna_batches_mix_real_transitions_at_the_real_ratio():
    from genrl.transitions import TransitionBuffer
    from genrl.worldmodel.dyna import MixedReplayBuffer

    box = gym.spaces.Box(-1, 1, (2,))
    real = TransitionBuffer(2, 2, capacity=4)
    mixed = MixedReplayBuffer(100, box, box, n_envs=1, real=real, real_ratio=0.25)
    for _ in range(20):
        mixed.add(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2)), np.zeros(1), np.zeros(1), [{}])
    assert len(mixed.sample(8).observations) == 8  # no real data yet: model rows only
    for _ in range(20):  # grows past its first capacity
        real.add(np.ones(2), np.ones(2), np.ones(2), 1.0, False, False)
    batch = mixed.sample(64)
    assert batch.observations.shape == (64, 2) and int(batch.rewards.sum()) == 16
    assert batch.actions.max() == 1.0  # real actions scaled to SAC's [-1, 1] as its own are
    only_real = MixedReplayBuffer(1, box, box, n_envs=1, real=real, real_ratio=1.0).sample(16)  # model-free SAC
    assert int(only_real.rewards.sum()) == 16 and not only_real.dones.any()


def test_model_rollout_buffer_keeps_exactly_the_last_buffer_size_transitions():
    """MBPO's retention: imagined batches wrap around SAC's buffer; the oldest rows go first."""
    from stable_baselines3.common.buffers import ReplayBuffer

    from genrl.worldmodel.dyna import _extend

    box = gym.spaces.Box(-np.inf, np.inf, (1,))
    buffer = ReplayBuffer(10, box, box, n_envs=1)
    for start in (0, 7):  # two imagined batches of 7 rows: 14 rows through a buffer of 10
        rows = np.arange(start, start + 7, dtype=np.float32)[:, None]
        _extend(buffer, rows, rows + 0.5, rows, rows[:, 0], np.zeros(7))
    assert buffer.full and buffer.pos == 4 and buffer.size() == 10
    assert sorted(buffer.observations[:, 0, 0].tolist()) == list(range(4, 14))  # rows 0-3 were overwritten
    np.testing.assert_array_equal(buffer.next_observations[:, 0, 0], buffer.observations[:, 0, 0] + 0.5)
    assert buffer.sample(64).observations.min() >= 4


def test_gan_members_train_on_their_own_resamples_and_share_the_draws(tmp_path):
    from genrl.worldmodel import WorldModel

    data = collect("genrl/Fork2D-v0", 400, seed=0)
    model = make_world_model("gan", 2, 2, hidden=(16, 16), members=3, seed=0).fit(data, steps=30, device="cpu")
    g = [torch.cat([p.flatten() for p in G.parameters()]) for G in model.generators]
    assert len(g) == 3 and not torch.equal(g[0], g[1])  # members differ
    draws = model.sample(data.obs[:4], data.act[:4], 64)
    assert draws.next_obs.shape == (4, 64, 2) and torch.isfinite(draws.next_obs).all()
    loaded = WorldModel.load(model.save(tmp_path / "m.safetensors"), device="cpu")
    assert loaded.members == 3
    for a, b in zip(model.parameters(), loaded.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(InputError, match="members"):
        make_world_model("gan", 2, 2, members=0)


def test_mode_weight_error_counts_mass_between_the_modes():
    import gymnasium as gym

    from genrl.worldmodel.evaluate import mode_weight_error
    from genrl.worldmodel.models import Prediction

    env = gym.make("genrl/Fork2D-v0").unwrapped
    probes = collect("genrl/Fork2D-v0", 200, n_envs=2, seed=0)

    class Average:  # every draw at the mean of the two modes: all mass off the modes
        def sample(self, obs, act, n):
            centres, _ = env.modes(np.asarray(obs, np.float64), np.asarray(act, np.float64))
            x = torch.as_tensor(centres.mean(1), dtype=torch.float32)[:, None].expand(-1, n, -1)
            zeros = torch.zeros(len(obs), n)
            return Prediction(x, zeros, zeros.bool())

    assert mode_weight_error(Average(), env, probes)["mode_tv"] == pytest.approx(1.0)


def test_termination_accuracy_scores_a_learned_ending_above_chance():
    from genrl.transitions import Transitions
    from genrl.worldmodel.evaluate import termination_accuracy

    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, (4000, 2)).astype(np.float32)
    act = rng.uniform(-1, 1, (4000, 2)).astype(np.float32)
    nxt = obs + 0.2 * act
    ended = nxt[:, 0] > 0.6  # the episode ends past a line (about 1 row in 5)
    data = Transitions(obs, act, nxt, np.zeros(4000, np.float32), ended, np.zeros(4000, bool))
    model = make_world_model("mlp", 2, 2, hidden=(32, 32), seed=0).fit(data[:3000], steps=600, device="cpu")
    assert termination_accuracy(model, data[3000:]) > 0.9
    with pytest.raises(InputError, match="terminated and ones that did not"):
        termination_accuracy(model, data[3000:][~ended[3000:]])
