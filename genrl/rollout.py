"""Acting in gymnasium envs: step-budget collection (:func:`collect`) and whole episodes (:func:`rollout`).

* :func:`collect`: ``n_steps`` transitions from ``n_envs`` vectorised copies (world-model data);
* :func:`rollout`: whole episodes of one policy in one env, with per-episode rewards, returns and
  lengths and, on request, the :class:`~genrl.transitions.Transitions` recorded (demonstrations,
  policy evaluation, planned episodes);
* :func:`random_return`: the mean return of uniformly random actions (the zero of normalised scores).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import gymnasium as gym
import numpy as np

from genrl.errors import InputError
from genrl.spaces import flatten_obs
from genrl.transitions import FIELDS, Transitions

Policy = Callable[[np.ndarray], np.ndarray]


def make_env(env_id: str) -> gym.Env:
    """``gym.make`` from a genrl module: a worker process unpickling it imports genrl, which registers the genrl/ ids."""
    return gym.make(env_id)


def collect(
    env_id: str, n_steps: int, policy: Policy | Any | None = None, n_envs: int = 4, seed: int = 0, subproc: bool = False
) -> Transitions:
    """Roll out ``policy`` in ``n_envs`` copies of ``env_id`` for ``n_steps`` transitions in total.

    :param policy: ``None`` (uniform random actions), a callable ``obs (B, d_obs) -> actions``,
        or any stable-baselines3 model (its ``predict`` is used, deterministic=False).
    :param subproc: step the ``n_envs`` copies in worker processes (SB3 ``SubprocVecEnv``; worth it
        for envs slower than the inter-process round trip, not for classic control).
    """
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    if n_steps < 1 or n_envs < 1:
        raise InputError("n_steps and n_envs must be >= 1")
    venv = (SubprocVecEnv if subproc else DummyVecEnv)([partial(make_env, env_id) for _ in range(n_envs)])
    venv.seed(seed)
    venv.action_space.seed(seed)
    rows: dict[str, list] = {k: [] for k in FIELDS}
    obs = cast(np.ndarray, venv.reset())  # a flat (Box) observation space: one array, not a dict or tuple
    for _ in range(-(-n_steps // n_envs)):
        if policy is None:
            act = np.stack([venv.action_space.sample() for _ in range(n_envs)])
        elif hasattr(policy, "predict"):
            act = policy.predict(obs, deterministic=False)[0]
        else:
            act = np.asarray(policy(obs))
        nxt, rew, done, infos = venv.step(act)
        nxt = cast(np.ndarray, nxt)
        true_next = nxt.copy()
        truncated = np.array([info.get("TimeLimit.truncated", False) for info in infos])
        for i in np.flatnonzero(done):
            true_next[i] = infos[i]["terminal_observation"]  # the VecEnv already reset this copy
        for key, value in (("obs", obs), ("act", act), ("next_obs", true_next), ("rew", rew),
                           ("terminated", done & ~truncated), ("truncated", truncated)):  # fmt: skip
            rows[key].append(np.asarray(value))
        obs = nxt
    venv.close()
    data = {k: np.concatenate(v)[:n_steps] for k, v in rows.items()}
    return Transitions(**data, meta={"env_id": env_id})


@dataclass
class Episodes:
    """What :func:`rollout` returns: the rewards of each episode as the env gave them, step by step,
    and the transitions of every step when recorded (``keep_transitions=True``)."""

    rewards: list[list[Any]]
    transitions: Transitions | None = None

    @property
    def returns(self) -> list[Any]:
        """Per-episode returns, each summed in step order from 0.0."""
        returns = []
        for rewards in self.rewards:
            total = 0.0
            for r in rewards:
                total = total + r
            returns.append(total)
        return returns

    @property
    def lengths(self) -> list[int]:
        return [len(r) for r in self.rewards]

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns))


def rollout(
    policy: Any, env: gym.Env | str, episodes: int, seed: int = 0, deterministic: bool = True, keep_transitions: bool = False
) -> Episodes:
    """Run ``episodes`` whole episodes; episode ``ep`` starts from ``env.reset(seed=seed + ep)``.

    :param policy: anything with SB3's ``predict(obs, deterministic=...)`` (an SB3 model), a callable
        ``obs (d_obs,) -> action`` for one observation, or ``None`` for uniformly random actions
        (``env.action_space`` is then seeded with ``seed`` first).
    :param env: a gymnasium env, or an id (the env is then made here and closed at the end).
    :param keep_transitions: also return every step as :class:`~genrl.transitions.Transitions`
        (``meta`` empty; callers add theirs; Dict observations flattened, see
        :func:`genrl.spaces.flatten_obs`).
    """
    own = isinstance(env, str)
    env = gym.make(env) if isinstance(env, str) else env
    if policy is None:
        env.action_space.seed(seed)
    rows: dict[str, list] = {k: [] for k in FIELDS}
    rewards: list[list[Any]] = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        episode: list[Any] = []
        done = False
        while not done:
            if policy is None:
                act = env.action_space.sample()
            elif hasattr(policy, "predict"):
                act = policy.predict(obs, deterministic=deterministic)[0]
            else:
                act = policy(obs)
            nxt, r, term, trunc, _ = env.step(act)
            if keep_transitions:
                flat = (flatten_obs(env.observation_space, obs), flatten_obs(env.observation_space, nxt))
                for k, v in zip(rows, (flat[0], act, flat[1], r, term, trunc)):
                    rows[k].append(v)
            episode.append(r)
            obs, done = nxt, term or trunc
        rewards.append(episode)
    if own:
        env.close()
    return Episodes(rewards, Transitions.from_steps(rows) if keep_transitions else None)


def random_return(env_id: str, episodes: int = 20, seed: int = 0) -> float:
    """Mean return of uniformly random actions over ``episodes`` episodes (the zero of normalised scores)."""
    total = 0.0
    for rewards in rollout(None, env_id, episodes, seed=seed).rewards:
        for r in rewards:
            total = total + r
    return total / episodes
