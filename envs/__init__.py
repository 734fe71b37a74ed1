"""Stochastic gymnasium environments whose true next-state distribution can be sampled.

Installed as ``genrl.envs`` and registered as ``genrl/<Name>-v0`` on ``import genrl``. Each env has
``sample_next(obs, action, n, seed)`` returning n draws of (next observation, reward) for one
(observation, action) pair from the same code path as ``step``, so a learned world model can be
scored against the true transition kernel at any probe.
"""

from __future__ import annotations

import gymnasium as gym

from genrl.envs.base import StochasticEnv
from genrl.envs.fork2d import Fork2D
from genrl.envs.fork_wall import ForkWall2D
from genrl.envs.gusty_cart import GustyCart
from genrl.envs.jump_pits import JumpPits2D
from genrl.envs.kicked_pendulum import KickedPendulum
from genrl.envs.pushed_cheetah import PushedHalfCheetah
from genrl.envs.ring_kick import RingKick2D
from genrl.envs.uneven_fork import UnevenFork2D

ENVS = {"Fork2D": (Fork2D, 50), "ForkWall2D": (ForkWall2D, 30), "KickedPendulum": (KickedPendulum, 200),
        "GustyCart": (GustyCart, 100), "PushedHalfCheetah": (PushedHalfCheetah, 1000), "UnevenFork2D": (UnevenFork2D, 50),
        "RingKick2D": (RingKick2D, 50), "JumpPits2D": (JumpPits2D, 20)}  # fmt: skip
NEEDS_MUJOCO = {"PushedHalfCheetah"}
"""Envs that need ``pip install "genrl-gan[mujoco]"``."""


def register_envs() -> None:
    """Register every env as ``genrl/<Name>-v0`` (idempotent)."""
    for name, (cls, horizon) in ENVS.items():
        env_id = f"genrl/{name}-v0"
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=f"{cls.__module__}:{cls.__name__}", max_episode_steps=horizon)


__all__ = ["ENVS", "NEEDS_MUJOCO", "Fork2D", "ForkWall2D", "GustyCart", "JumpPits2D", "KickedPendulum", "PushedHalfCheetah",
           "RingKick2D", "StochasticEnv", "UnevenFork2D", "register_envs"]  # fmt: skip
