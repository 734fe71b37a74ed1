"""PushedHalfCheetah: MuJoCo's HalfCheetah-v5 whose torso is randomly shoved forward or back."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from genrl.envs.base import StochasticEnv


class PushedHalfCheetah(StochasticEnv):
    """HalfCheetah-v5 (gymnasium's, default settings) plus random discrete pushes (needs ``genrl-gan[mujoco]``).

    State = observation = HalfCheetah-v5's 17 numbers (joint positions without the torso's x, then
    the 9 velocities, the first being the torso's forward velocity); action: its 6 torques in
    [-1, 1]. Before each step a push k ∈ {-P, 0, +P} is added to the torso's forward velocity with
    probabilities (p/2, 1-p, p/2); then MuJoCo steps the model as HalfCheetah-v5 does (5 physics
    steps of 0.01 s) and the reward is HalfCheetah-v5's: forward velocity over the step minus
    0.1·||a||². Defaults p = 0.2, P = 2 m/s, so the next state has three modes, moved jointly in
    every velocity the contact dynamics couple to the torso's; MuJoCo adds no other noise, so from
    one state and action each mode is a point mass. 1,000 steps per episode with
    ``gym.make("genrl/PushedHalfCheetah-v0")``; the start is HalfCheetah-v5's reset.

    The true kernel is sampled through MuJoCo itself: the simulator is reset, set to the state
    (the torso's x, which the dynamics do not depend on, set to 0), pushed and stepped; ``step``
    takes the same path, so ``sample_next`` draws exactly what ``step`` would.
    """

    def __init__(self, push_prob: float = 0.2, push: float = 2.0) -> None:
        super().__init__()
        from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv

        self.push_prob, self.push = push_prob, push
        self.sim = HalfCheetahEnv()
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(17,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(6,), dtype=np.float32)

    def _initial_state(self, rng: np.random.Generator) -> np.ndarray:
        obs, _ = self.sim.reset(seed=int(rng.integers(2**31)))
        return np.asarray(obs, dtype=np.float64)

    def _transition(self, s: np.ndarray, a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        import mujoco

        draw = rng.random(len(s))
        kick = np.where(draw < self.push_prob / 2, -self.push, np.where(draw < self.push_prob, self.push, 0.0))
        sim: Any = self.sim
        nxt, rewards = np.empty_like(s), np.empty(len(s))
        for i in range(len(s)):
            mujoco.mj_resetData(sim.model, sim.data)  # no solver warm start carried between draws
            qvel = s[i, 8:].copy()
            qvel[0] += kick[i]
            sim.set_state(np.concatenate([[0.0], s[i, :8]]), qvel)
            sim.do_simulation(a[i], sim.frame_skip)
            rewards[i] = sim._get_rew(float(sim.data.qpos[0]) / sim.dt, a[i])[0]
            nxt[i] = sim._get_obs()
        return nxt, rewards
