"""Environments backed by a world model: a batched stepper and a gymnasium face for SB3.

Reward and termination come from the model, or from user functions with the signature
``fn(obs (B, d_obs), act (B, d_act), next_obs (B, d_obs)) -> (B,)`` tensors (pure functions, as in
mbrl-lib's ``reward_fns`` / ``termination_fns``, with the pre-step observation added so that
rewards like Pendulum's, which depend on (s, a), can be written).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from genrl.errors import InputError
from genrl.validation import as_float_tensor
from genrl.worldmodel.models import WorldModel
from genrl.worldmodel.oracle import TrueKernel

TransitionFn = Callable[[Tensor, Tensor, Tensor], Tensor]


class BatchedModelEnv:
    """Steps B imagined states at once on the model's device (no host round trips).

    :param model: a fitted :class:`~genrl.worldmodel.models.WorldModel`, or a
        :class:`~genrl.worldmodel.oracle.TrueKernel` to imagine with the true dynamics.
    :param reward_fn: optional reward function (see the module docstring); default: the model's.
    :param termination_fn: optional termination function; default: the model's termination head.
    """

    def __init__(
        self, model: WorldModel | TrueKernel, reward_fn: TransitionFn | None = None, termination_fn: TransitionFn | None = None
    ) -> None:
        self.model, self.reward_fn, self.termination_fn = model, reward_fn, termination_fn
        self.obs: Tensor | None = None

    def reset(self, obs: Any) -> Tensor:
        """Start B imagined trajectories from ``obs (B, d_obs)``."""
        self.obs = as_float_tensor(obs, "obs", (self.model.obs_dim,)).to(self.model.device)
        return self.obs

    @torch.no_grad()
    def step(self, act: Any) -> tuple[Tensor, Tensor, Tensor]:
        """One draw per state: ``next_obs (B, d_obs)``, ``reward (B,)``, ``terminated (B,)`` bool."""
        if self.obs is None:
            raise RuntimeError("call reset(obs) before step(act)")
        act = torch.as_tensor(act, dtype=torch.float32, device=self.model.device).reshape(len(self.obs), -1)
        pred = self.model.sample(self.obs, act, 1)
        nxt = pred.next_obs[:, 0]
        reward = self.reward_fn(self.obs, act, nxt) if self.reward_fn else pred.reward[:, 0]
        term = self.termination_fn(self.obs, act, nxt).bool() if self.termination_fn else pred.terminated[:, 0]
        self.obs = nxt
        return nxt, reward, term


class ModelEnv(gym.Env):
    """A gymnasium env whose dynamics are a world model; SB3 trains in it unchanged.

    :param model: fitted world model; its dims must match the spaces.
    :param observation_space: the real env's (flat ``Box``) observation space.
    :param action_space: the real env's ``Box`` action space, or its ``Discrete`` one for a model
        built with ``discrete_actions`` (DQN then trains in a learned CartPole).
    :param start_obs: ``(N, d_obs)`` observations to start episodes from (e.g. logged real ones).
    :param horizon: steps before truncation.
    """

    metadata = {"render_modes": []}  # noqa: RUF012
    # __init__ refuses anything else; annotated so the clip bounds type-check.
    observation_space: gym.spaces.Box
    action_space: gym.spaces.Box | gym.spaces.Discrete

    def __init__(
        self,
        model: WorldModel,
        observation_space: gym.spaces.Box,
        action_space: gym.spaces.Box | gym.spaces.Discrete,
        start_obs: np.ndarray,
        horizon: int = 200,
        reward_fn: TransitionFn | None = None,
        termination_fn: TransitionFn | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(observation_space, gym.spaces.Box) or observation_space.shape != (model.obs_dim,):
            raise InputError(f"ModelEnv needs a Box observation space of shape ({model.obs_dim},), got {observation_space}")
        if isinstance(action_space, gym.spaces.Discrete):
            if not model.discrete_actions or int(action_space.n) != model.act_dim:
                raise InputError(f"{action_space} does not match the model's actions ({model.act_dim}, "
                                 f"discrete={model.discrete_actions})")  # fmt: skip
        elif not isinstance(action_space, gym.spaces.Box) or action_space.shape != (model.act_dim,) or model.discrete_actions:
            raise InputError(f"{action_space} does not match the model's actions ({model.act_dim}, "
                             f"discrete={model.discrete_actions}); ModelEnv takes Box or Discrete actions")  # fmt: skip
        self.observation_space, self.action_space = observation_space, action_space
        self.start_obs = np.asarray(start_obs, dtype=np.float32).reshape(-1, model.obs_dim)
        self.horizon = horizon
        self.sim = BatchedModelEnv(model, reward_fn, termination_fn)
        self._t = 0

    def _clip(self, obs: Tensor) -> np.ndarray:
        return np.clip(obs[0].cpu().numpy(), self.observation_space.low, self.observation_space.high).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._t = 0
        start = self.start_obs[self.np_random.integers(len(self.start_obs))][None]
        if seed is not None:
            torch.manual_seed(seed)
        return self._clip(self.sim.reset(start)), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        if isinstance(self.action_space, gym.spaces.Discrete):  # an index; the model one-hot encodes it
            a = np.asarray(action, dtype=np.float32).reshape(1, 1)
        else:
            a = np.clip(np.asarray(action, dtype=np.float32), self.action_space.low, self.action_space.high)[None]
        nxt, reward, term = self.sim.step(a)
        self._t += 1
        return self._clip(nxt), float(reward[0]), bool(term[0]), self._t >= self.horizon, {}
