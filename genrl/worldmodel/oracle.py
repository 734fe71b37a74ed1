"""The true transition kernel of a genrl env behind the world-model ``sample`` interface.

A planner run through :class:`TrueKernel` instead of a learned model shows what the planner itself
can reach on an env (the ceiling a perfect world model would give); ``fit`` learns nothing, so it
drops into :func:`~genrl.worldmodel.pets.mpc_loop` unchanged. :class:`GaussianKernel` is the best
a unimodal model can do: the true kernel's own mean and standard deviation, for envs that give
them in closed form (``kernel_moments``).
"""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch

from genrl.envs.base import StochasticEnv
from genrl.errors import InputError
from genrl.validation import as_float_tensor, check_count
from genrl.worldmodel.models import Prediction


class TrueKernel:
    """Draws next states from a :class:`~genrl.envs.StochasticEnv`'s kernel, B (obs, action) pairs at once.

    :param env: a genrl env (or its id); :param seed: seed of the kernel's random draws.
    """

    def __init__(self, env: gym.Env | str, seed: int = 0) -> None:
        env = gym.make(env) if isinstance(env, str) else env
        unwrapped = env.unwrapped
        if not isinstance(unwrapped, StochasticEnv):
            raise InputError(f"TrueKernel needs a genrl StochasticEnv, got {type(unwrapped).__name__}")
        self.env: StochasticEnv = unwrapped
        self.obs_dim = self.env.observation_space.shape[0]
        self.act_dim = self.env.action_space.shape[0]
        self.device = torch.device("cpu")
        self.rng = np.random.default_rng(seed)

    def fit(self, data: Any, *args: Any, **kwargs: Any) -> TrueKernel:
        """Nothing to learn: the kernel is known."""
        return self

    @torch.no_grad()
    def sample(self, obs: Any, act: Any, n: int = 1) -> Prediction:
        """``n`` true draws for each of B pairs ``obs (B, d_obs)``, ``act (B, d_act)``; see :class:`Prediction`."""
        n = check_count(n, "n")
        obs = as_float_tensor(obs, "obs", (self.obs_dim,), torch.float64).cpu().numpy()
        act = as_float_tensor(act, "act", (self.act_dim,), torch.float64).cpu().numpy()
        if len(obs) != len(act):
            raise InputError(f"obs and actions differ in batch size: {len(obs)} vs {len(act)}")
        s2, r = self.env.sample_next_batch(obs, act, n, self.rng)
        next_obs = torch.from_numpy(s2).view(len(obs), n, -1)
        reward = torch.from_numpy(r).view(len(obs), n)
        terminated = torch.from_numpy(self.env.terminal(s2)).view(len(obs), n)
        return Prediction(next_obs, reward, terminated)


class GaussianKernel(TrueKernel):
    """Draws from one Gaussian per (obs, action) with the true kernel's mean and standard deviation
    (the env's ``kernel_moments(obs, act) -> (mean, std)``, each ``(B, d_obs)``): a perfect
    unimodal model. Rewards and terminations are zeros: pass the env's closed forms to the planner.
    """

    def __init__(self, env: gym.Env | str, seed: int = 0) -> None:
        super().__init__(env, seed)
        if not hasattr(self.env, "kernel_moments"):
            raise InputError(f"{type(self.env).__name__} gives no kernel_moments in closed form")

    @torch.no_grad()
    def sample(self, obs: Any, act: Any, n: int = 1) -> Prediction:
        n = check_count(n, "n")
        obs = as_float_tensor(obs, "obs", (self.obs_dim,), torch.float64).cpu().numpy()
        act = as_float_tensor(act, "act", (self.act_dim,), torch.float64).cpu().numpy()
        mean, std = cast(Any, self.env).kernel_moments(obs, act)
        draws = mean[:, None] + std[:, None] * self.rng.standard_normal((len(obs), n, self.obs_dim))
        zeros = torch.zeros(len(obs), n)
        return Prediction(torch.from_numpy(draws).float(), zeros, zeros.bool())
