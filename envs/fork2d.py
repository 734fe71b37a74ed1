"""Fork2D: a point pushed upward passes left or right of an obstacle with equal probability."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


class Fork2D(StochasticEnv):
    """Bimodal, action-gated dynamics on the square [-5, 5]².

    State = observation = (x, y); action (a_x, a_y) ∈ [-1, 1]². Each step draws b = ±1 with
    P(b = +1) = 0.5 + ρ·tanh(x) and Gaussian noise ε ~ N(0, I)::

        x' = clip(x + 0.5·a_x + κ·b·max(a_y, 0) + σ·ε_x, -5, 5)
        y' = clip(y + 0.5·a_y + σ·ε_y, -5, 5)
        r  = -||(x', y') - (2, 4)||

    with κ = 1, σ = 0.05, ρ = 0 by default. Pushing up (a_y > 0) splits the next state into two
    modes 2κ·a_y apart; for a_y ≤ 0 the kernel is a single Gaussian, where a good model must not
    invent a second mode. A Gaussian model's mean lands between the modes, where the true density
    is about zero. Start: N(0, 0.1² I). Episodes are truncated after 50 steps when made with
    ``gym.make("genrl/Fork2D-v0")``.
    """

    goal = np.array([2.0, 4.0])

    def __init__(self, kappa: float = 1.0, sigma: float = 0.05, rho: float = 0.0) -> None:
        super().__init__()
        self.kappa, self.sigma, self.rho = kappa, sigma, rho
        self.observation_space = spaces.Box(-5.0, 5.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def _initial_state(self, rng: np.random.Generator) -> np.ndarray:
        return np.clip(0.1 * rng.standard_normal(2), -5, 5)

    def modes(self, obs: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's mode centres ``(B, 2, 2)`` (b = -1, +1) and weights ``(B, 2)`` at ``obs``,
        ``act`` ``(B, 2)`` (the square's edge clip aside)."""
        a = np.clip(act, -1.0, 1.0)
        base = obs + 0.5 * a
        shift = self.kappa * np.maximum(a[:, 1], 0.0)
        centres = np.stack([base - np.stack([shift, 0 * shift], 1), base + np.stack([shift, 0 * shift], 1)], 1)
        p_plus = 0.5 + self.rho * np.tanh(obs[:, 0])
        return centres, np.stack([1 - p_plus, p_plus], 1)

    def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        p_plus = 0.5 + self.rho * np.tanh(s[:, 0])
        b = np.where(rng.random(len(s)) < p_plus, 1.0, -1.0)
        eps = rng.standard_normal(s.shape)
        x = s[:, 0] + 0.5 * a[:, 0] + self.kappa * b * np.maximum(a[:, 1], 0.0) + self.sigma * eps[:, 0]
        y = s[:, 1] + 0.5 * a[:, 1] + self.sigma * eps[:, 1]
        s2 = np.clip(np.stack([x, y], 1), -5.0, 5.0)
        return s2, -np.linalg.norm(s2 - self.goal, axis=1)
