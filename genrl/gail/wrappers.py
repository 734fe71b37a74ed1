"""The learner's view of its envs in GAIL: a learned reward in place of the true one, and a window
of recent transitions for the discriminator. Each piece does one thing:

* :class:`RewardFn`: the Protocol every learned reward meets (a :class:`~genrl.gail.reward.RewardNet`'s
  ``reward`` with its discount bound, or :class:`ScaledReward` around one);
* :class:`ScaledReward`: divides a reward by its running standard deviation (scale only: a shift
  would change the incentive to survive);
* :class:`TransitionWindow`: a VecEnv wrapper that remembers the last transitions (a ring buffer)
  and the true returns of finished episodes;
* :class:`RewardVecEnvWrapper`: a VecEnv wrapper that swaps the env's reward for a ``RewardFn``'s,
  keeping the true reward in ``info["true_reward"]`` (as imitation's wrapper of the same name does).
"""

from __future__ import annotations

from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from genrl.spaces import flatten_obs

WINDOW_FIELDS = ("obs", "act", "next_obs", "terminated")
"""What the discriminator needs of a transition."""


class RewardFn(Protocol):
    """``(obs (B, d_obs), act (B, d_act), next_obs (B, d_obs), terminated (B,) bool) -> reward (B,)``."""

    def __call__(self, obs: np.ndarray, act: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray) -> np.ndarray: ...


class ScaledReward:
    """``fn``'s reward divided by the running standard deviation of every reward it has given."""

    def __init__(self, fn: RewardFn) -> None:
        self.fn, self.rms = fn, RunningMeanStd(shape=())

    def __call__(self, obs: np.ndarray, act: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray) -> np.ndarray:
        reward = self.fn(obs, act, next_obs, terminated)
        self.rms.update(reward)
        return reward / np.sqrt(self.rms.var + 1e-8)


def step_transitions(
    space: gym.Space, new_obs: Any, dones: np.ndarray, infos: list[dict[str, Any]]
) -> tuple[np.ndarray, np.ndarray]:
    """The true ``(next_obs (B, d) flat, terminated (B,))`` of a VecEnv step: the VecEnv has already
    reset finished envs, so their next observation is in ``info["terminal_observation"]``; a
    time-limit truncation is not a termination."""
    next_obs = flatten_obs(space, new_obs, batched=True)
    truncated = np.array([info.get("TimeLimit.truncated", False) for info in infos])
    for i in np.flatnonzero(dones):
        next_obs[i] = flatten_obs(space, infos[i]["terminal_observation"])
    return next_obs, dones & ~truncated


class _StepWrapper(VecEnvWrapper):
    """Keeps the observation and actions a step starts from, so a wrapper sees whole transitions;
    observations reach ``on_step`` flattened (:func:`genrl.spaces.flatten_obs`), while the learner
    gets them as the env gives them (a Dict space stays a dict)."""

    def reset(self) -> Any:
        obs = self.venv.reset()
        self._obs = flatten_obs(self.observation_space, obs, batched=True)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        obs, rew, dones, infos = self.venv.step_wait()
        next_obs, terminated = step_transitions(self.observation_space, obs, dones, infos)
        rew = self.on_step(self._obs, self._actions, next_obs, terminated, rew, infos)
        self._obs = flatten_obs(self.observation_space, obs, batched=True)
        return obs, rew, dones, infos

    def on_step(self, obs: np.ndarray, act: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray, rew: np.ndarray,
                infos: list[dict[str, Any]]) -> np.ndarray:  # fmt: skip
        raise NotImplementedError


class TransitionWindow(_StepWrapper):
    """Remembers the (obs, act, next_obs, terminated) of the last ``capacity // num_envs`` vectorised
    steps and the true returns of finished episodes (from an inner ``Monitor``'s ``info["episode"]``).

    :param capacity: transitions to keep (whole vectorised steps; the oldest are dropped first).
    """

    def __init__(self, venv: VecEnv, capacity: int) -> None:
        super().__init__(venv)
        self.steps = max(1, capacity // self.num_envs)
        self.episode_returns: list[float] = []
        self._rows: dict[str, np.ndarray] = {}
        self._next, self._filled = 0, 0

    def on_step(self, obs: np.ndarray, act: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray, rew: np.ndarray,
                infos: list[dict[str, Any]]) -> np.ndarray:  # fmt: skip
        self.add({"obs": obs, "act": act, "next_obs": next_obs, "terminated": terminated})
        for info in infos:
            if "episode" in info:
                self.episode_returns.append(float(info["episode"]["r"]))
        return rew

    def add(self, step: dict[str, np.ndarray]) -> None:
        """Store one vectorised step (each field ``(num_envs, ...)``), evicting the oldest when full."""
        for key in WINDOW_FIELDS:
            value = np.asarray(step[key]).reshape(self.num_envs, -1)
            if key not in self._rows:
                self._rows[key] = np.zeros((self.steps, *value.shape), dtype=value.dtype)
            self._rows[key][self._next] = value
        self._next = (self._next + 1) % self.steps
        self._filled = min(self._filled + 1, self.steps)

    def recent(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The remembered ``(obs, act, next_obs, terminated)`` rows, oldest step first."""
        order = (np.arange(self._filled) + (self._next - self._filled)) % self.steps
        obs, act, next_obs, term = (self._rows[k][order].reshape(self._filled * self.num_envs, -1) for k in WINDOW_FIELDS)
        return obs, act, next_obs, term[:, 0]

    def __len__(self) -> int:
        return self._filled * self.num_envs


class RewardVecEnvWrapper(_StepWrapper):
    """Replaces the env's reward by ``reward_fn``'s; ``info["true_reward"]`` keeps the env's own."""

    def __init__(self, venv: VecEnv, reward_fn: RewardFn) -> None:
        super().__init__(venv)
        self.reward_fn = reward_fn

    def on_step(self, obs: np.ndarray, act: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray, rew: np.ndarray,
                infos: list[dict[str, Any]]) -> np.ndarray:  # fmt: skip
        for info, r in zip(infos, rew):
            info["true_reward"] = float(r)
        return self.reward_fn(obs, act, next_obs, terminated)
