import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from genrl.errors import InputError
from genrl.gail import load_demos, record
from genrl.gail.demos import EXPERTS
from genrl.transitions import Transitions


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
    with pytest.raises(InputError, match="recorded in CartPole-v1, not Pendulum-v1"):
        load_demos(path, gym.make("Pendulum-v1"))
    anonymous = cartpole_demos[:]  # demos that do not name their env are still checked by their spaces
    anonymous.meta = {k: v for k, v in cartpole_demos.meta.items() if k != "env_id"}
    with pytest.raises(InputError, match="recorded with observation_space"):
        load_demos(anonymous.save(tmp_path / "anonymous.npz"), gym.make("Pendulum-v1"))
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


def _write_minari(root, env_id, episodes):
    """A Minari dataset written with Minari's own storage layer (no network, no jax)."""
    minari = pytest.importorskip("minari")
    pytest.importorskip("h5py")
    from minari.data_collector.episode_buffer import EpisodeBuffer
    from minari.dataset.minari_storage import MinariStorage

    env = gym.make(env_id)
    data_dir = root / "scripted-v0" / "data"
    data_dir.parent.mkdir(parents=True)
    storage = MinariStorage.new(data_dir, env_spec=env.spec)
    buffers = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=ep)
        o, a, r, term, trunc = [obs], [], [], [], []
        for t in range(20 + 5 * ep):  # variable lengths; the last episode ends by truncation only
            act = env.action_space.sample()
            obs, rew, te, tr, _ = env.step(act)
            o.append(obs), a.append(act), r.append(rew), term.append(te), trunc.append(tr or t == 19 + 5 * ep)
        buffers.append(EpisodeBuffer(id=ep, observations=np.array(o), actions=np.array(a), rewards=r, terminations=term,
                                     truncations=trunc, infos={}))  # fmt: skip
    storage.update_episodes(buffers)
    storage.update_metadata({"dataset_id": "scripted-v0", "minari_version": minari.__version__})
    return data_dir.parent


def test_minari_dataset_reads_as_demos_and_is_checked_against_the_env(tmp_path):
    path = _write_minari(tmp_path, "Pendulum-v1", episodes=3)
    demos = load_demos(f"minari:{path}", gym.make("Pendulum-v1"))
    assert len(demos) == 20 + 25 + 30 and demos.obs.shape == (75, 3) and demos.act.shape == (75, 1)
    np.testing.assert_array_equal(demos.next_obs[:19], demos.obs[1:20])  # s' of step t is s of step t + 1
    assert demos.truncated.sum() == 3 and demos.meta["env_id"] == "Pendulum-v1" and len(demos.meta["episode_returns"]) == 3
    with pytest.raises(InputError, match="recorded in Pendulum-v1, not CartPole-v1"):
        load_demos(f"minari:{path}", gym.make("CartPole-v1"))
    with pytest.raises(InputError, match="Minari"):
        load_demos(f"minari:{tmp_path / 'missing'}")


def test_minari_ids_not_on_disk_are_fetched_only_when_asked(monkeypatch):
    minari = pytest.importorskip("minari")
    with pytest.raises(InputError, match="--download fetches it"):
        load_demos("minari:genrl/not-on-disk-v0")
    asked = []

    def fake_load(dataset_id, download=False):  # no network in tests: record the request instead
        asked.append((dataset_id, download))
        raise FileNotFoundError("offline")

    monkeypatch.setattr(minari, "load_dataset", fake_load)
    with pytest.raises(InputError, match="offline"):
        load_demos("minari:genrl/not-on-disk-v0", download=True)
    assert asked == [("genrl/not-on-disk-v0", True)]


def test_train_expert_takes_the_algo_and_refuses_sac_on_discrete_actions():
    from genrl.gail.demos import expert_settings, train_expert

    model = train_expert("Pendulum-v1", 200, algo="td3", device="cpu")
    assert type(model).__name__ == "TD3"  # Pendulum's table has SAC only: SB3's TD3 defaults
    assert expert_settings("Hopper-v5") == ("sac", EXPERTS["Hopper-v5"]["sac"])
    assert expert_settings("Acrobot-v1")[0] == "ppo"
    with pytest.raises(InputError, match="--algo sac needs continuous"):
        train_expert("CartPole-v1", 100, algo="sac", device="cpu")


def test_mujoco_hopper_expert_trains_when_mujoco_is_installed():
    pytest.importorskip("mujoco")
    from genrl.gail.demos import train_expert

    model = train_expert("Hopper-v5", 300, device="cpu")  # SAC, rl-zoo3's settings
    assert type(model).__name__ == "SAC" and model.num_timesteps == 300 and model.learning_starts == 10_000
    td3 = train_expert("HalfCheetah-v5", 300, algo="td3", device="cpu")
    assert td3.action_noise is not None and td3.batch_size == 256


def test_gail_starts_from_the_envs_preset_and_explicit_arguments_win(tmp_path):
    pytest.importorskip("mujoco")
    from genrl.gail import GAIL, make_gail
    from genrl.gail.presets import GAIL_PRESETS
    from genrl.rollout import collect

    demos = collect("Hopper-v5", 200, n_envs=1)
    gail = make_gail("Hopper-v5", demos, algo="sac", disc_updates=7, algo_kwargs={"batch_size": 64}, device="cpu")
    preset = GAIL_PRESETS["Hopper-v5"]["sac"]
    assert gail.config["gradient_penalty"] == preset["gradient_penalty"] and gail.disc_updates == 7
    assert gail.learner.learning_starts == 10_000 and gail.learner.batch_size == 64
    assert [m.out_features for m in gail.reward_net.modules() if isinstance(m, torch.nn.Linear)][:2] == [256, 256]
    assert gail.factory is not None and gail.factory["preset"] is False  # a checkpoint keeps the resolved settings
    gail.learn(50)
    resumed = GAIL.load(gail.save(tmp_path / "run.safetensors"), device="cpu")
    assert resumed.disc_updates == 7 and resumed.learner.learning_starts == 10_000
    plain = make_gail("Hopper-v5", demos, algo="sac", preset=False, device="cpu")
    assert plain.learner.learning_starts == 500 and plain.config["gradient_penalty"] == 0.0
