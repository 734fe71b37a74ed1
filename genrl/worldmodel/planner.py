"""Model-predictive control through a world model: CEM and MPPI behind one interface.

Both optimise an action sequence of length ``horizon`` by sampling ``population`` candidates,
scoring each over ``particles`` imagined rollouts in a
:class:`~genrl.worldmodel.model_env.BatchedModelEnv` (all candidates and particles in one batch;
each particle follows its own draws from the model, so a stochastic model's spread of outcomes
reaches the score), and refitting the sampling distribution. The score is the particles' mean
return, or with ``objective="cvar"`` the mean of their worst ``cvar_alpha`` fraction (risk-averse).
``act(obs)`` returns the first action and keeps the rest as a warm start for the next call
(receding horizon).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from genrl.errors import InputError
from genrl.worldmodel.model_env import BatchedModelEnv


class MPCPlanner:
    """:param env: the batched model env to imagine in; :param low, high: action bounds ``(d_act,)``.

    :param method: ``"cem"`` (refit mean/std to the top ``elites``) or ``"mppi"`` (exponentially
        weighted mean with temperature ``temperature``).
    :param objective: ``"mean"`` or ``"cvar"`` of the particles' returns (see the module docstring).
    """

    def __init__(
        self,
        env: BatchedModelEnv,
        low: np.ndarray,
        high: np.ndarray,
        horizon: int = 15,
        population: int = 400,
        elites: int = 40,
        iterations: int = 5,
        particles: int = 4,
        method: Literal["cem", "mppi"] = "cem",
        temperature: float = 1.0,
        discount: float = 1.0,
        seed: int = 0,
        objective: Literal["mean", "cvar"] = "mean",
        cvar_alpha: float = 0.2,
    ) -> None:
        if method not in ("cem", "mppi"):
            raise InputError(f"method must be 'cem' or 'mppi', got {method!r}")
        if objective not in ("mean", "cvar"):
            raise InputError(f"objective must be 'mean' or 'cvar', got {objective!r}")
        if not 0.0 < cvar_alpha <= 1.0:
            raise InputError(f"cvar_alpha must be in (0, 1], got {cvar_alpha}")
        self.objective, self.worst = objective, max(1, int(np.ceil(cvar_alpha * particles)))
        if not 0 < elites <= population:
            raise InputError("elites must be in [1, population]")
        self.env, self.method = env, method
        dev = env.model.device
        self.low = torch.as_tensor(low, dtype=torch.float32, device=dev)
        self.high = torch.as_tensor(high, dtype=torch.float32, device=dev)
        self.horizon, self.population, self.elites = horizon, population, elites
        self.iterations, self.particles, self.temperature, self.discount = iterations, particles, temperature, discount
        self.gen = torch.Generator(device=dev).manual_seed(seed)
        self.reset()

    def reset(self) -> None:
        """Forget the warm start (call at the start of an episode)."""
        self.mean = ((self.low + self.high) / 2).expand(self.horizon, -1).clone()

    @torch.no_grad()
    def evaluate(self, obs: Tensor, seqs: Tensor) -> Tensor:
        """The score ``(P,)`` (mean or CVaR of the particles' discounted imagined returns) of action
        sequences ``(P, H, d_act)`` from ``obs (d_obs,)``."""
        P, H, _ = seqs.shape
        self.env.reset(obs[None].expand(P * self.particles, -1))
        total = torch.zeros(P * self.particles, device=obs.device)
        alive = torch.ones_like(total)
        acts = seqs.repeat_interleave(self.particles, 0)
        for t in range(H):
            _, r, term = self.env.step(acts[:, t])
            total += alive * (self.discount**t) * r
            alive = alive * (~term).float()
        returns = total.view(P, self.particles)
        if self.objective == "cvar":
            return returns.topk(self.worst, dim=1, largest=False).values.mean(1)
        return returns.mean(1)

    @torch.no_grad()
    def act(self, obs: Any) -> np.ndarray:
        """Plan from ``obs (d_obs,)`` and return the first action ``(d_act,)``."""
        obs = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.low.device).reshape(-1)
        mean, std = self.mean, (self.high - self.low).expand(self.horizon, -1) / 2
        for _ in range(self.iterations):
            noise = torch.randn(self.population, *mean.shape, device=mean.device, generator=self.gen)
            seqs = torch.max(torch.min(mean + std * noise, self.high), self.low)
            returns = self.evaluate(obs, seqs)
            if self.method == "cem":
                elite = seqs[returns.topk(self.elites).indices]
                mean, std = elite.mean(0), elite.std(0) + 1e-3
            else:
                w = torch.softmax((returns - returns.max()) / self.temperature, 0)
                mean = (w[:, None, None] * seqs).sum(0)
        self.mean = torch.cat([mean[1:], mean[-1:]])  # shift for the next call
        return mean[0].cpu().numpy()
