"""ForkWall2D: a gate below a wall forks an upward push into two paths that both clear the wall,
while their average hits it."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


class ForkWall2D(StochasticEnv):
    """A point on [-5, 5]² must reach the goal g = (0, 4) past a wall W = {|x| < 0.5, |y| < 0.25}.

    State = observation = (x, y); action (a_x, a_y) ∈ [-1, 1]². Below the wall lies a gate,
    the rows G = {-0.75 ≤ y < -0.25}; a step from the gate that pushes up is forked: b = ±1 with
    probability ½ each. With ε ~ N(0, I)::

        x' = clip(x + 0.5·a_x + κ·b·max(a_y, 0)·[y ∈ G] + σ·ε_x, -5, 5)
        y' = clip(y + 0.5·a_y + σ·ε_y, -5, 5)
        r  = 1 - ||(x', y') - g|| / 8,   or -10 if (x', y') ∈ W

    with κ = 1 and σ = 0.05; landing in W is a crash, which also ends the episode (forfeiting the
    positive rewards still to come, so crashing never pays). Start: (N(0, 0.1²), N(-3, 0.1²));
    30 steps per episode with ``gym.make("genrl/ForkWall2D-v0")``.

    **Why the modes decide the best action.** Everywhere but the gate the kernel is a narrow
    Gaussian. The shortest route is straight up the wall's column: from the gate at x ≈ 0 a full
    push (a_x = 0, a_y = 1) lands at y' ≈ y + 0.5, in the wall's rows, and at x' = ±1 + σε, so
    both modes clear the wall (|x'| ≥ 0.5 + 3σ: a crash below 10⁻³); then the point steers back
    to x = 0 on its way up. That takes about 15 steps. The average of the two modes, x' ≈ 0, is
    inside the wall: a model that averages the modes predicts a crash for any full push from the
    gate with |x| < 0.5, and one Gaussian spread over both (standard deviation ≈ 1 in x) puts
    ≈ 38% of its mass there. A planner trusting either crosses the gate at |x| ≳ 1.5 instead,
    a detour of about 6 steps (3 out, 3 back at 0.5 per step), each scoring less on the way.
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
        gate = (s[:, 1] >= -0.75) & (s[:, 1] < -0.25)
        x = s[:, 0] + 0.5 * a[:, 0] + self.kappa * b * np.maximum(a[:, 1], 0.0) * gate + self.sigma * eps[:, 0]
        y = s[:, 1] + 0.5 * a[:, 1] + self.sigma * eps[:, 1]
        s2 = np.clip(np.stack([x, y], 1), -5.0, 5.0)
        return s2, np.where(self.terminal(s2), -self.crash_cost, 1.0 - np.linalg.norm(s2 - self.goal, axis=1) / 8.0)
