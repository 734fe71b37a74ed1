"""JumpPits2D: a jump is fast but slips sideways by ±2; from the corridor both slips land in a pit,
while their average stays in the corridor."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


class JumpPits2D(StochasticEnv):
    """A point on [-5, 5]² heads for the goal g = (0, 4) up a corridor between two strips of pits.

    State = observation = (x, y); action (a_x, a_y, a_j) ∈ [-1, 1]³, a jump when a_j > 0. A walk
    moves half a unit; a jump also moves one unit up and slips sideways by κ·b, b = ±1 with
    probability ½ each. With J = [a_j > 0] and ε ~ N(0, 1)::

        x' = clip(x + 0.5·a_x + κ·b·J + σ·ε, -5, 5)
        y' = clip(y + 0.5·a_y + J, -5, 5)
        r  = 1 - ||(x', y') - g|| / 8 - c·[(x', y') ∈ P]

    with κ = 2, σ = 0.05, c = 3 and the pits P = {1.4 < |x| < 2.6, -3 < y < 3}. Landing in a pit
    costs c and nothing else (the episode goes on). Start: (N(0, 0.1²), -3); 20 steps per episode
    with ``gym.make("genrl/JumpPits2D-v0")``.

    **Why the modes decide the best action.** Walking straight up the corridor reaches the goal in
    14 steps and never meets a pit (return 14.3). A jump from the corridor's middle
    (|x + 0.5·a_x| ≤ 0.5, which steering reaches from any |x| ≤ 1) lands at x ± 2 + σε, inside a pit
    whichever way it slips (the pits span 2 ± 0.6, the landing 2 ± 0.5 ± 3σ): it costs c = 3 for one
    unit of progress, which the reward repays at 1/8 per step until a walker would arrive, at most
    14/8 = 1.75. Jumps that land safely exist only where one slip lands back in the corridor and the
    other beyond the pits (from x = 1 steering outward: x' = -0.5 or 3.5), and a planner can find
    them only with a model that places both outcomes. The average of the two outcomes, x' ≈ x, is in
    the corridor: a model that averages the modes sees a free unit of progress from anywhere. One
    Gaussian over both (standard deviation κ = 2 in x) puts only ≈ 29% of its mass in the pits, so a
    planner trusting it prices a jump from the middle at ≈ 0.9 and jumps there too.
    """

    goal = np.array([0.0, 4.0])
    pits = (1.4, 2.6, 3.0)  # |x| between the first two, |y| below the third
    pit_cost = 3.0

    def __init__(self, kappa: float = 2.0, sigma: float = 0.05) -> None:
        super().__init__()
        self.kappa, self.sigma = kappa, sigma
        self.observation_space = spaces.Box(-5.0, 5.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)

    def _initial_state(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([0.1 * rng.standard_normal(), -3.0])

    def in_pit(self, obs: np.ndarray) -> np.ndarray:
        """Whether each position ``(B, 2)`` is in a pit."""
        lo, hi, y_max = self.pits
        return (np.abs(obs[:, 0]) > lo) & (np.abs(obs[:, 0]) < hi) & (np.abs(obs[:, 1]) < y_max)

    def _moves(self, obs: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The step without its slip and noise ``(B, 2)``, and whether it jumps ``(B,)``."""
        a = np.clip(act, -1.0, 1.0)
        jump = a[:, 2] > 0
        return np.stack([obs[:, 0] + 0.5 * a[:, 0], obs[:, 1] + 0.5 * a[:, 1] + jump], 1), jump

    def kernel_moments(self, obs: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's mean and standard deviation ``(B, 2)`` each, for observations ``(B, 2)``
        and actions ``(B, 3)``, in closed form (the square's edge clip aside): what the best single
        Gaussian model of this env predicts."""
        mean, jump = self._moves(obs, act)
        std = np.stack([np.hypot(self.kappa * jump, self.sigma), np.zeros(len(obs))], 1)
        return mean, std

    def modes(self, obs: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's mode centres ``(B, 2, 2)`` (slipped left, right; the same point for a walk)
        and weights ``(B, 2)`` (the square's edge clip aside)."""
        mean, jump = self._moves(obs, act)
        shift = np.stack([self.kappa * jump, np.zeros(len(obs))], 1)
        return np.stack([mean - shift, mean + shift], 1), np.full((len(obs), 2), 0.5)

    def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        b = np.where(rng.random(len(s)) < 0.5, 1.0, -1.0)
        eps = rng.standard_normal(len(s))
        mean, jump = self._moves(s, a)
        s2 = np.clip(mean + np.stack([self.kappa * b * jump + self.sigma * eps, np.zeros(len(s))], 1), -5.0, 5.0)
        reward = 1.0 - np.linalg.norm(s2 - self.goal, axis=1) / 8.0 - self.pit_cost * self.in_pit(s2)
        return s2, reward
