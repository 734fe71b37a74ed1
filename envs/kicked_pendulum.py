"""KickedPendulum: Pendulum-v1 whose angular velocity receives random discrete kicks."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


def angle_normalize(th: np.ndarray) -> np.ndarray:
    return ((th + np.pi) % (2 * np.pi)) - np.pi


class KickedPendulum(StochasticEnv):
    """Pendulum-v1 (g = 10, m = l = 1, dt = 0.05, |θ̇| ≤ 8, u ∈ [-2, 2]) plus kicks.

    Each step draws a kick k ∈ {-K, 0, +K} with probabilities (p/2, 1-p, p/2) and ε ~ N(0, 1)::

        θ̇' = clip(θ̇ + (15·sin θ + 3u)·0.05 + k + 0.02·ε, -8, 8)
        θ'  = θ + 0.05·θ̇'
        r   = -(angle_normalize(θ)² + 0.1·θ̇² + 0.001·u²)      (Pendulum-v1's reward, on s and a)

    with p = 0.2 and K = 3 rad/s. Observation (cos θ, sin θ, θ̇) as in Pendulum-v1; the three modes
    move all three coordinates jointly, and the velocity clip adds point masses. Start: θ ~ U(-π, π),
    θ̇ ~ U(-1, 1); 200 steps per episode with ``gym.make("genrl/KickedPendulum-v0")``.
    """

    max_speed, max_torque, dt = 8.0, 2.0, 0.05

    def __init__(self, kick_prob: float = 0.2, kick: float = 3.0) -> None:
        super().__init__()
        self.kick_prob, self.kick = kick_prob, kick
        high = np.array([1.0, 1.0, self.max_speed], dtype=np.float32)
        self.observation_space = spaces.Box(-high, high, dtype=np.float32)
        self.action_space = spaces.Box(-self.max_torque, self.max_torque, shape=(1,), dtype=np.float32)

    def _initial_state(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([rng.uniform(-np.pi, np.pi), rng.uniform(-1.0, 1.0)])

    def _obs(self, s: np.ndarray) -> np.ndarray:
        return np.stack([np.cos(s[:, 0]), np.sin(s[:, 0]), s[:, 1]], 1)

    def _state(self, obs: np.ndarray) -> np.ndarray:
        return np.stack([np.arctan2(obs[:, 1], obs[:, 0]), obs[:, 2]], 1)

    def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        th, thdot, u = s[:, 0], s[:, 1], a[:, 0]
        reward = -(angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * u**2)
        draw = rng.random(len(s))
        k = np.where(draw < self.kick_prob / 2, -self.kick, np.where(draw < self.kick_prob, self.kick, 0.0))
        thdot2 = np.clip(thdot + (15.0 * np.sin(th) + 3.0 * u) * self.dt + k + 0.02 * rng.standard_normal(len(s)),
                         -self.max_speed, self.max_speed)  # fmt: skip
        return np.stack([th + self.dt * thdot2, thdot2], 1), reward
