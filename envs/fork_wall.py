"""ForkWall2D: Fork2D's bimodal push with a wall that both modes clear but their average hits."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


class ForkWall2D(StochasticEnv):
    """A point on [-5, 5]² must reach the goal g = (0, 4) past a wall W = {|x| < 0.5, |y| < 0.25}.

    State = observation = (x, y); action (a_x, a_y) ∈ [-1, 1]². Each step draws b = ±1 with
    probability ½ each and ε ~ N(0, I)::

        x' = clip(x + 0.5·a_x + κ·b·max(a_y, 0) + σ·ε_x, -5, 5)
        y' = clip(y + 0.5·a_y + σ·ε_y, -5, 5)
        r  = 1 - ||(x', y') - g|| / 8,   or -10 if (x', y') ∈ W

    with κ = 1 and σ = 0.05; landing in W is a crash, which also ends the episode (forfeiting the
    positive rewards still to come, so crashing never pays). Start:
    (N(0, 0.1²), N(-3, 0.1²)); 30 steps per episode with ``gym.make("genrl/ForkWall2D-v0")``.

    **Why the modes decide the best action.** Pushing straight up (a_y = 1) from a point whose
    steered position u = x + 0.5·a_x has |u| ≤ 0.35 sends it to x' = u ± 1 + σε: both modes land
    at |x'| ≥ 0.5 + 3σ, clear of the wall, so under the true kernel the straight route through the
    wall's column crashes with probability below 10⁻³ per step and is the shortest way to the goal.
    The average of the two modes, x' = u, lies on the wall: a model that averages the modes
    predicts a crash for certain, and one Gaussian spread over both (standard deviation ≈ 1 in x)
    puts ≈ 38% of its mass on the wall when y' falls in the wall's rows. A planner trusting either
    avoids the wall's column, or stops short of its rows, and pays the extra distance at every
    step; a planner with a model that knows the two modes goes straight. (The same holds
    everywhere the modes straddle the wall: only knowing both tells which pushes are safe.)
    """

    goal = np.array([0.0, 4.0])
    wall = (0.5, 0.25)  # half-width in x, half-height in y, centred at the origin
    crash_cost = 10.0

    def __init__(self, kappa: float = 1.0, sigma: float = 0.05) -> None:
        super().__init__()
        self.kappa, self.sigma = kappa, sigma
        self.observation_space = spaces.Box(-5.0, 5.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def _initial_state(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([0.1 * rng.standard_normal(), -3.0 + 0.1 * rng.standard_normal()])

    def terminal(self, obs: np.ndarray) -> np.ndarray:
        """A crash: the position is inside the wall."""
        return (np.abs(obs[:, 0]) < self.wall[0]) & (np.abs(obs[:, 1]) < self.wall[1])

    def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        b = np.where(rng.random(len(s)) < 0.5, 1.0, -1.0)
        eps = rng.standard_normal(s.shape)
        x = s[:, 0] + 0.5 * a[:, 0] + self.kappa * b * np.maximum(a[:, 1], 0.0) + self.sigma * eps[:, 0]
        y = s[:, 1] + 0.5 * a[:, 1] + self.sigma * eps[:, 1]
        s2 = np.clip(np.stack([x, y], 1), -5.0, 5.0)
        return s2, np.where(self.terminal(s2), -self.crash_cost, 1.0 - np.linalg.norm(s2 - self.goal, axis=1) / 8.0)
