"""Expert demonstrations: training an SB3 expert, recording it, and checking demos against an env.

Demonstrations are :class:`~genrl.transitions.Transitions` (the same ``.npz`` format:
obs, act, next_obs, rew, terminated, truncated), with ``meta`` holding ``env_id``, the
observation and action spaces (``space_signature``) and the recorded episode returns. Loading
for training checks them against the env the learner will act in.

Minari datasets (https://minari.farama.org) are read by :func:`load_minari` (optional
dependency: ``pip install "genrl-gan[minari]"``); their episodes become the same transitions.

Expert checkpoints are stable-baselines3 ``.zip`` files; SB3's loader unpickles parts of them, so
load only experts you trained or trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.vec_env import VecEnv

from genrl.errors import InputError
from genrl.rollout import rollout
from genrl.spaces import check_observations, flat_obs_dim, space_signature
from genrl.transitions import FIELDS, Transitions

_MUJOCO_SAC = {"steps": 1_000_000, "n_envs": 1, "kwargs": {"learning_starts": 10_000}}
_MUJOCO_TD3 = {"steps": 1_000_000, "n_envs": 1, "noise_std": 0.1,
               "kwargs": {"learning_starts": 10_000, "learning_rate": 1e-3, "batch_size": 256, "train_freq": 1,
                          "gradient_steps": 1, "policy_kwargs": {"net_arch": [400, 300]}}}  # fmt: skip
EXPERTS: dict[str, dict[str, dict[str, Any]]] = {
    # Zoo-style settings that reach expert level within these budgets on 2 CPU cores.
    "CartPole-v1": {"ppo": {"steps": 60_000, "n_envs": 8,
                            "kwargs": {"n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98, "n_epochs": 20,
                                       "ent_coef": 0.0, "learning_rate": 1e-3, "clip_range": 0.2}}},
    "Pendulum-v1": {"sac": {"steps": 20_000, "n_envs": 1, "kwargs": {"learning_rate": 1e-3}}},
    # rl-zoo3's MuJoCo settings (hyperparams/sac.yml and td3.yml, "mujoco-defaults").
    "Hopper-v5": {"sac": _MUJOCO_SAC, "td3": _MUJOCO_TD3},
    "HalfCheetah-v5": {"sac": _MUJOCO_SAC, "td3": _MUJOCO_TD3},
}  # fmt: skip
"""env id -> algo -> {steps, n_envs, kwargs for the SB3 constructor[, noise_std: TD3's Gaussian action
noise]}; an env's first algo is its default."""

EXPERT_ALGOS = ("ppo", "sac", "td3")
"""The SB3 algorithms :func:`train_expert` trains (SAC and TD3 need Box actions)."""


def expert_settings(env_id: str, algo: str | None = None) -> tuple[str, dict[str, Any]]:
    """(algo, settings) for an expert: the table's, else PPO for discrete actions and SAC for Box
    actions with SB3's defaults, 8 PPO envs and a 100k-step budget."""
    table = EXPERTS.get(env_id, {})
    if algo is not None and algo not in EXPERT_ALGOS:
        raise InputError(f"unknown expert algo {algo!r}; choose one of {list(EXPERT_ALGOS)}")
    if algo is None:
        if table:
            algo = next(iter(table))
        else:
            algo = "ppo" if isinstance(gym.make(env_id).action_space, spaces.Discrete) else "sac"
    if algo in table:
        return algo, table[algo]
    return algo, {"steps": 100_000, "n_envs": 8 if algo == "ppo" else 1, "kwargs": {}}


def check_demos(demos: Transitions, env: gym.Env | VecEnv) -> Transitions:
    """Refuse demos whose env id, spaces or values do not fit ``env`` (an env or a VecEnv); return them
    unchanged otherwise."""
    spec = getattr(env, "spec", None)
    recorded, env_id = demos.meta.get("env_id"), getattr(spec, "id", None)
    if recorded and env_id and recorded != env_id:
        raise InputError(f"demonstrations were recorded in {recorded}, not {env_id}")
    want = {"observation_space": space_signature(env.observation_space), "action_space": space_signature(env.action_space)}
    for key, sig in want.items():
        got = demos.meta.get(key)
        if got is not None and got != sig:
            raise InputError(f"demonstrations were recorded with {key} {got}, but the env has {sig}")
    obs_dim = flat_obs_dim(env.observation_space)
    if demos.obs.shape[1] != obs_dim:
        raise InputError(f"demonstration observations have {demos.obs.shape[1]} features; the env's have {obs_dim}")
    act_dim = (
        1 if isinstance(env.action_space, spaces.Discrete) else int(np.prod(cast("tuple[int, ...]", env.action_space.shape)))
    )
    if demos.act.shape[1] != act_dim:
        raise InputError(f"demonstration actions have {demos.act.shape[1]} dimensions; the env's have {act_dim}")
    if isinstance(env.action_space, spaces.Discrete):
        a = demos.act[:, 0]
        if not np.all((a == np.round(a)) & (a >= 0) & (a < env.action_space.n)):
            raise InputError(f"demonstration actions must be integers in [0, {env.action_space.n})")
    return demos


def expert_steps(env_id: str, steps: int | None = None, algo: str | None = None) -> int:
    """The env steps :func:`train_expert` takes: ``steps``, else the expert table's budget, else 100k."""
    return steps or expert_settings(env_id, algo)[1]["steps"]


def build_expert(env_id: str, seed: int = 0, device: str = "auto", algo: str | None = None,
                 tensorboard_dir: str | Path | None = None) -> BaseAlgorithm:  # fmt: skip
    """The untrained SB3 learner :func:`train_expert` trains (settings: :func:`expert_settings`)."""
    from stable_baselines3 import PPO, SAC, TD3
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.noise import NormalActionNoise

    algo, cfg = expert_settings(env_id, algo)
    venv = make_vec_env(env_id, n_envs=cfg["n_envs"], seed=seed)
    check_observations(venv.observation_space, env_id)
    if algo != "ppo" and not isinstance(venv.action_space, spaces.Box):
        raise InputError(f"--algo {algo} needs continuous (Box) actions; {env_id} has {venv.action_space}: use ppo")
    kwargs = dict(cfg["kwargs"])
    if "noise_std" in cfg:
        n = int(np.prod(cast("tuple[int, ...]", venv.action_space.shape)))
        kwargs["action_noise"] = NormalActionNoise(np.zeros(n), cfg["noise_std"] * np.ones(n))
    tb = str(tensorboard_dir) if tensorboard_dir is not None else None
    learner = {"ppo": PPO, "sac": SAC, "td3": TD3}[algo]
    policy = "MultiInputPolicy" if isinstance(venv.observation_space, spaces.Dict) else "MlpPolicy"
    return learner(policy, venv, seed=seed, device=device, verbose=0, tensorboard_log=tb, **kwargs)


def train_expert(
    env_id: str,
    steps: int | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
    callback: MaybeCallback = None,
    tensorboard_dir: str | Path | None = None,
    algo: str | None = None,
) -> BaseAlgorithm:
    """Train an SB3 expert with the settings in :data:`EXPERTS` (see :func:`expert_settings`).

    :param algo: ``"ppo"``, ``"sac"`` or ``"td3"`` (default: the env's entry in :data:`EXPERTS`,
        else PPO for discrete actions and SAC otherwise).
    :param progress: show genrl's progress bar; :param callback: SB3 callback(s) for the training.
    :param tensorboard_dir: SB3's TensorBoard logs go there.
    """
    from genrl.gail.sb3 import ProgressCallback

    model = build_expert(env_id, seed, device, algo, tensorboard_dir)
    algo = expert_settings(env_id, algo)[0]
    total = expert_steps(env_id, steps, algo)
    callbacks: list[BaseCallback] = [ProgressCallback(total, desc=f"expert {algo.upper()} on {env_id}")] if progress else []
    callbacks += [callback] if isinstance(callback, BaseCallback) else list(callback or [])  # type: ignore[arg-type]
    return model.learn(total, callback=callbacks)


def record(policy: Any, env_id: str, episodes: int, seed: int = 0, deterministic: bool = True) -> Transitions:
    """Record ``episodes`` episodes of an SB3 model (or anything with ``predict``) in ``env_id``."""
    if episodes < 1:
        raise InputError(f"episodes must be >= 1, got {episodes}")
    env = gym.make(env_id)
    played = rollout(policy, env, episodes, seed=seed, deterministic=deterministic, keep_transitions=True)
    assert played.transitions is not None
    played.transitions.meta = {"env_id": env_id, "observation_space": space_signature(env.observation_space),
                               "action_space": space_signature(env.action_space),
                               "episode_returns": played.returns}  # fmt: skip
    return played.transitions


def load_demos(path: str | Path, env: gym.Env | None = None, download: bool = False) -> Transitions:
    """Read demonstrations (a transitions ``.npz``, or ``minari:<dataset id or dir>``); with ``env``, check
    they fit it. ``download`` lets a Minari id that is not on disk be fetched."""
    if str(path).startswith("minari:"):
        return load_minari(str(path)[len("minari:") :], env, download)
    demos = Transitions.load(path)
    return check_demos(demos, env) if env is not None else demos


def load_minari(dataset: Any, env: gym.Env | None = None, download: bool = False) -> Transitions:
    """Read a Minari dataset into demonstrations.

    :param dataset: a ``minari.MinariDataset``, a dataset directory (the one holding ``data/``, or
        ``data/`` itself), or a dataset id.
    :param env: when given, the demonstrations are checked against it (:func:`check_demos`).
    :param download: fetch a dataset id that is not on disk from Minari's remote (needs network and
        ``pip install "genrl-gan[minari]"`` with its ``gcs``/``hf`` extras); otherwise nothing is downloaded.
    Episodes store T+1 observations for T steps; transition t is (obs[t], act[t], obs[t+1]).
    """
    try:
        import minari
    except ImportError:
        raise InputError('reading Minari datasets needs the optional dependency: pip install "genrl-gan[minari]"') from None
    if not isinstance(dataset, minari.MinariDataset):
        path = Path(dataset)
        try:
            if path.exists():
                dataset = minari.MinariDataset(path / "data" if (path / "data").is_dir() else path)
            else:
                dataset = minari.load_dataset(str(dataset), download=download)
        except (ValueError, FileNotFoundError, OSError) as e:
            hint = "" if download else " (not on disk? --download fetches it)"
            raise InputError(f"cannot read the Minari dataset {str(dataset)!r}{hint}: {e}") from None
    for name in ("observation_space", "action_space"):
        space = getattr(dataset, name)
        if not isinstance(space, (spaces.Box, spaces.Discrete)) or len(space.shape or ()) > 1:
            raise InputError(f"Minari dataset {name} is {space}; only flat Box or Discrete spaces are supported")
    rows: dict[str, list] = {k: [] for k in FIELDS}
    returns = []
    for ep in dataset.iterate_episodes():
        obs = np.asarray(ep.observations)
        for key, value in zip(rows, (obs[:-1], ep.actions, obs[1:], ep.rewards, ep.terminations, ep.truncations)):
            rows[key].append(np.asarray(value).reshape(len(ep.rewards), -1) if key in ("obs", "act", "next_obs") else value)
        returns.append(float(np.sum(ep.rewards)))
    if not returns:
        raise InputError("the Minari dataset has no episodes")
    env_spec = dataset.spec.env_spec
    meta = {"env_id": env_spec.id if env_spec is not None else None, "source": "minari:" + dataset.spec.dataset_id,
            "observation_space": space_signature(dataset.observation_space),
            "action_space": space_signature(dataset.action_space), "episode_returns": returns}  # fmt: skip
    demos = Transitions(**{k: np.concatenate(v) for k, v in rows.items()}, meta=meta)
    return check_demos(demos, env) if env is not None else demos
