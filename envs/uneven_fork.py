"""UnevenFork2D: three outcomes of unequal weight whose spacing grows as the point climbs."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


class UnevenFork2D(StochasticEnv):
    """Trimodal, action-gated dynamics on [-5, 5]² with unequal mode weights and state-dependent spacing.

    State = observation = (x, y); action (a_x, a_y) ∈ [-1, 1]². Each step draws b ∈ {-1, 0, +1}
    with probabilities (0.2, 0.5, 0.3) and ε ~ N(0, I)::

        g  = 0.5 + 0.1·(y + 5)                   (from 0.5 at the bottom to 1.5 at the top)
        x' = clip(x + 0.5·a_x + b·g·max(a_y, 0) + σ·ε_x, -5, 5)
        y' = clip(y + 0.5·a_y + σ·ε_y, -5, 5)
        r  = -||(x', y') - (2, 4)||

    with σ = 0.05. Pushing up splits the next state into three modes g·a_y apart, the middle one
    holding half the mass and the outer ones unequal (0.2 left, 0.3 right); a downward or level
    push gives one Gaussian. Unlike :class:`~genrl.envs.Fork2D` the modes' spacing depends on the
    state, and a mixture model must get three weights right. Start: N(0, 0.1² I) + (0, -3); 50
    steps per episode with ``gym.make("genrl/UnevenFork2D-v0")``. Kept out of the world models'
    recipe search (a held-out check of their defaults).
    """

    goal = np.array([2.0, 4.0])
    offsets = np.array([-1.0, 0.0, 1.0])
    probs = np.array([0.2, 0.5, 0.3])

    def __init__(self, sigma: float = 0.05) -> None:
        super().__init__()
        self.sigma = sigma
        self.observation_space = spaces.Box(-5.0, 5.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def _initial_state(self, rng: np.random.Generator) -> np.ndarray:
        return np.clip(0.1 * rng.standard_normal(2) + [0.0, -3.0], -5, 5)

    def modes(self, obs: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's mode centres ``(B, 3, 2)`` and weights ``(B, 3)`` at ``obs``, ``act`` ``(B, 2)``
        (the square's edge clip aside)."""
        a = np.clip(act, -1.0, 1.0)
        gap = (0.5 + 0.1 * (obs[:, 1] + 5.0)) * np.maximum(a[:, 1], 0.0)
        x = obs[:, 0, None] + 0.5 * a[:, 0, None] + self.offsets * gap[:, None]
        y = np.broadcast_to((obs[:, 1] + 0.5 * a[:, 1])[:, None], x.shape)
        return np.stack([x, y], -1), np.broadcast_to(self.probs, x.shape).copy()

    def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        b = self.offsets[rng.choice(3, size=len(s), p=self.probs)]
        eps = rng.standard_normal(s.shape)
        gap = (0.5 + 0.1 * (s[:, 1] + 5.0)) * np.maximum(a[:, 1], 0.0)
        x = s[:, 0] + 0.5 * a[:, 0] + b * gap + self.sigma * eps[:, 0]
        y = s[:, 1] + 0.5 * a[:, 1] + self.sigma * eps[:, 1]
        s2 = np.clip(np.stack([x, y], 1), -5.0, 5.0)
        return s2, -np.linalg.norm(s2 - self.goal, axis=1)
