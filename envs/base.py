"""Base class: a vectorised stochastic transition shared by ``step`` and ``sample_next``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from genrl.errors import InputError


class StochasticEnv(gym.Env):
    """Subclasses define the kernel on batches; this class supplies the gymnasium face.

    Subclasses set ``observation_space`` and ``action_space`` and implement

    * ``_initial_state(rng) -> state (d_state,)``
    * ``_transition(state (B, d_state), action (B, d_act), rng) -> (next_state (B, d_state), reward (B,))``
    * ``_obs(state (B, d_state)) -> obs (B, d_obs)`` and ``_state(obs (B, d_obs)) -> state``
      (identity by default; the pendulum observes (cos θ, sin θ, θ̇));
    * ``terminal(obs (B, d_obs)) -> (B,)`` bool: whether reaching ``obs`` ends the episode (never,
      by default).

    Envs whose kernel is a mixture of narrow modes may also give ``modes(obs (B, d_obs), act (B, d_act))
    -> (centres (B, K, d_obs), weights (B, K))`` and ``sigma`` (the modes' noise), which
    :func:`genrl.worldmodel.evaluate.mode_weight_error` scores models against.
    """

    # gymnasium declares metadata as an instance variable; a ClassVar override fails mypy, hence the noqa.
    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012
    # Every subclass sets Box spaces; annotated (not assigned) so the clip bounds type-check.
    observation_space: spaces.Box
    action_space: spaces.Box

    def __init__(self) -> None:
        super().__init__()
        self._s: np.ndarray | None = None

    if TYPE_CHECKING:
        # The kernel every subclass implements (see the class docstring); declared only for the type checker,
        # so a subclass that forgets one still fails with AttributeError, as it always has.
        def _initial_state(self, rng: np.random.Generator) -> np.ndarray: ...

        def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]: ...

    def _obs(self, state: np.ndarray) -> np.ndarray:
        return state

    def _state(self, obs: np.ndarray) -> np.ndarray:
        return obs

    def terminal(self, obs: np.ndarray) -> np.ndarray:
        return np.zeros(len(obs), dtype=bool)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._s = self._initial_state(self.np_random)
        return self._obs(self._s[None])[0].astype(np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self._s is None:
            raise RuntimeError("call reset() before step()")
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(1, -1), self.action_space.low, self.action_space.high)
        s2, r = self._transition(self._s[None], a, self.np_random)
        self._s = s2[0]
        obs = self._obs(s2)
        return obs[0].astype(np.float32), float(r[0]), bool(self.terminal(obs)[0]), False, {}

    def sample_next(
        self, obs: np.ndarray, action: np.ndarray, n: int, seed: int | np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """n independent draws from the true kernel at one (obs, action).

        :param obs: ``(d_obs,)``; :param action: ``(d_act,)`` (clipped to the action space).
        :return: next observations ``(n, d_obs)`` float32 and rewards ``(n,)`` float32.
        """
        obs = np.asarray(obs, dtype=np.float64)
        action = np.asarray(action, dtype=np.float64)
        if obs.shape != self.observation_space.shape or action.shape != self.action_space.shape:
            raise InputError(f"sample_next expects obs {self.observation_space.shape} and action "
                             f"{self.action_space.shape}, got {obs.shape} and {action.shape}")  # fmt: skip
        return self.sample_next_batch(obs[None], action[None], n, np.random.default_rng(seed))

    def sample_next_batch(
        self, obs: np.ndarray, action: np.ndarray, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """n draws for each of B pairs ``obs (B, d_obs)``, ``action (B, d_act)`` (unchecked; clipped to
        the action space): next observations ``(B * n, d_obs)`` float32, pair-major, and rewards ``(B * n,)``."""
        s = np.repeat(self._state(obs), n, axis=0)
        a = np.repeat(np.clip(action, self.action_space.low, self.action_space.high), n, axis=0)
        s2, r = self._transition(s, a, rng)
        return self._obs(s2).astype(np.float32), r.astype(np.float32)
