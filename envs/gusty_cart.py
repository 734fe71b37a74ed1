"""GustyCart: a cart on a line buffeted by heavy-tailed gusts, with a rare jackpot reward."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


class GustyCart(StochasticEnv):
    """Heavy-tailed, heteroscedastic dynamics and a stochastic reward.

    State = observation = (x, v); action a ∈ [-1, 1]. Each step draws a gust w ~ Student-t(ν = 3)
    and U ~ U(0, 1)::

        v' = clip(0.9·v + 0.5·a + 0.1·(1 + |x|)·w, -10, 10)
        x' = clip(x + 0.1·v', -10, 10)
        r  = -|x'| - 0.01·a² + 10·1[U < 0.05 and |x'| < 0.5]

    Gusts grow with |x| (heteroscedastic) and have heavy tails that Gaussian models cover only by
    inflating their variance; the reward has its own rare mode. Start: x ~ U(-3, 3), v = 0;
    100 steps per episode with ``gym.make("genrl/GustyCart-v0")``.
    """

    def __init__(self, dof: float = 3.0) -> None:
        super().__init__()
        self.dof = dof
        self.observation_space = spaces.Box(-10.0, 10.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)

    def _initial_state(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([rng.uniform(-3.0, 3.0), 0.0])

    def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x, v, u = s[:, 0], s[:, 1], a[:, 0]
        w = rng.standard_t(self.dof, size=len(s))
        v2 = np.clip(0.9 * v + 0.5 * u + 0.1 * (1.0 + np.abs(x)) * w, -10.0, 10.0)
        x2 = np.clip(x + 0.1 * v2, -10.0, 10.0)
        jackpot = (rng.random(len(s)) < 0.05) & (np.abs(x2) < 0.5)
        return np.stack([x2, v2], 1), -np.abs(x2) - 0.01 * u**2 + 10.0 * jackpot
