"""ForkWall2D: a push up into a wall's rows is deflected left or right; both paths clear the wall,
their average hits it."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


class ForkWall2D(StochasticEnv):
    """A point on [-5, 5]² must reach the goal g = (0, 4) past a wall W = {|x| < 0.5, |y| < 0.25}.

    State = observation = (x, y); action (a_x, a_y) ∈ [-1, 1]². A step that enters the wall's rows
    from below (y < -0.25 ≤ y + 0.5·a_y) is forked: b = ±1 with probability ½ each, as if the wall's
    edge deflected the point left or right. With ε ~ N(0, 1)::

        x' = clip(x + 0.5·a_x + κ·b·a_y·[y < -0.25 ≤ y + 0.5·a_y] + σ·ε, -5, 5)
        y' = clip(y + 0.5·a_y, -5, 5)
        r  = 1 - ||(x', y') - g|| / 8,   or -10 if (x', y') ∈ W

    with κ = 1 and σ = 0.05; landing in W is a crash, which also ends the episode (forfeiting the
    positive rewards still to come, so crashing never pays). Start: (N(0, 0.1²), -3); 30 steps per
    episode with ``gym.make("genrl/ForkWall2D-v0")``.

    **Why the modes decide the best action.** Everywhere but at the wall's lower edge the kernel
    is a narrow Gaussian in x and exact in y. The shortest route is straight up the wall's column:
    the full push (a_x = 0, a_y = 1) that enters the wall's rows from x ≈ 0 lands at x' = ±1 + σε,
    so both modes clear the wall (|x'| ≥ 0.5 + 3σ: a crash below 10⁻³), and the next push leaves
    the wall's rows; the point then steers back to x = 0 on its way up, about 15 steps in all. The
    average of the two modes, x' ≈ 0, is inside the wall: a model that averages the modes predicts
    a crash for that push from anywhere |x| < 0.5, and one Gaussian spread over both (standard
    deviation ≈ 1 in x) puts ≈ 38% of its mass there. A planner trusting either enters the wall's
    rows at |x| ≳ 1.5 instead, a detour of about 6 steps (3 out, 3 back at 0.5 per step), each
    scoring less on the way.
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
        return np.array([0.1 * rng.standard_normal(), -3.0])

    def kernel_moments(self, obs: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's mean and standard deviation ``(B, 2)`` each, for observations and actions
        ``(B, 2)``, in closed form (the square's edge clip aside): what the best single Gaussian
        model of this env predicts."""
        a = np.clip(act, -1.0, 1.0)
        y = obs[:, 1] + 0.5 * a[:, 1]
        enters = (obs[:, 1] < -self.wall[1]) & (y >= -self.wall[1])
        mean = np.stack([obs[:, 0] + 0.5 * a[:, 0], y], 1)
        std = np.stack([np.hypot(self.kappa * a[:, 1] * enters, self.sigma), np.zeros(len(obs))], 1)
        return mean, std

    def modes(self, obs: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's mode centres ``(B, 2, 2)`` (deflected left, right; the same point where the
        step does not enter the wall's rows) and weights ``(B, 2)`` (the square's edge clip aside)."""
        mean, _ = self.kernel_moments(obs, act)
        a = np.clip(act, -1.0, 1.0)
        enters = (obs[:, 1] < -self.wall[1]) & (mean[:, 1] >= -self.wall[1])
        shift = np.stack([self.kappa * a[:, 1] * enters, np.zeros(len(obs))], 1)
        return np.stack([mean - shift, mean + shift], 1), np.full((len(obs), 2), 0.5)

    def terminal(self, obs: np.ndarray) -> np.ndarray:
        """A crash: the position is inside the wall."""
        return (np.abs(obs[:, 0]) < self.wall[0]) & (np.abs(obs[:, 1]) < self.wall[1])

    def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        b = np.where(rng.random(len(s)) < 0.5, 1.0, -1.0)
        eps = rng.standard_normal(len(s))
        y = s[:, 1] + 0.5 * a[:, 1]
        enters = (s[:, 1] < -self.wall[1]) & (y >= -self.wall[1])  # entering the wall's rows from below
        x = s[:, 0] + 0.5 * a[:, 0] + self.kappa * b * a[:, 1] * enters + self.sigma * eps
        s2 = np.clip(np.stack([x, y], 1), -5.0, 5.0)
        return s2, np.where(self.terminal(s2), -self.crash_cost, 1.0 - np.linalg.norm(s2 - self.goal, axis=1) / 8.0)
