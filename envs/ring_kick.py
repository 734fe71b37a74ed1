"""RingKick2D: four kicks of unequal weight in directions that turn with the state."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


class RingKick2D(StochasticEnv):
    """Four-modal dynamics on [-5, 5]²: a kick in one of four perpendicular directions.

    State = observation = (x, y); action a ∈ [-1, 1]². Each step draws k ∈ {0, 1, 2, 3} with
    probabilities (0.4, 0.3, 0.2, 0.1) and ε ~ N(0, I)::

        θ_k = 0.3·x + k·π/2                      (the kicks' directions turn with x)
        ρ   = (0.4 + 0.3·tanh(y))·||a|| / √2     (their length grows with y and with the push)
        s'  = clip(s + 0.5·a + ρ·(cos θ_k, sin θ_k) + σ·ε, -5, 5)
        r   = -||s' - (-2, 3)||

    with σ = 0.05. The four modes lie on a circle of radius ρ around the push's target, so their
    average is the one place the true density is nearly zero; a zero push gives one Gaussian.
    Modes in two dimensions, unequal weights, and a spacing and orientation that depend on the
    state. Start: N(0, 0.1² I); 50 steps per episode with ``gym.make("genrl/RingKick2D-v0")``.
    Kept out of the world models' recipe search (a held-out check of their defaults).
    """

    goal = np.array([-2.0, 3.0])
    probs = np.array([0.4, 0.3, 0.2, 0.1])

    def __init__(self, sigma: float = 0.05) -> None:
        super().__init__()
        self.sigma = sigma
        self.observation_space = spaces.Box(-5.0, 5.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def _initial_state(self, rng: np.random.Generator) -> np.ndarray:
        return np.clip(0.1 * rng.standard_normal(2), -5, 5)

    def _kicks(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        """The four kick vectors ``(B, 4, 2)``."""
        theta = 0.3 * s[:, 0, None] + np.arange(4) * np.pi / 2
        rho = (0.4 + 0.3 * np.tanh(s[:, 1])) * np.linalg.norm(a, axis=1) / np.sqrt(2)
        return rho[:, None, None] * np.stack([np.cos(theta), np.sin(theta)], -1)

    def modes(self, obs: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's mode centres ``(B, 4, 2)`` and weights ``(B, 4)`` at ``obs``, ``act`` ``(B, 2)``
        (the square's edge clip aside)."""
        a = np.clip(act, -1.0, 1.0)
        centres = (obs + 0.5 * a)[:, None, :] + self._kicks(obs, a)
        return centres, np.broadcast_to(self.probs, centres.shape[:2]).copy()

    def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        k = rng.choice(4, size=len(s), p=self.probs)
        kick = self._kicks(s, a)[np.arange(len(s)), k]
        s2 = np.clip(s + 0.5 * a + kick + self.sigma * rng.standard_normal(s.shape), -5.0, 5.0)
        return s2, -np.linalg.norm(s2 - self.goal, axis=1)
