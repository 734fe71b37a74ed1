"""Helpers for gymnasium spaces: what genrl's nets and files need to know about them."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium import spaces

from genrl.errors import InputError


def space_signature(space: gym.Space) -> dict[str, Any]:
    """A JSON description of a Box or Discrete space (kind, shape, n), stored with demonstrations."""
    if isinstance(space, spaces.Discrete):
        return {"kind": "Discrete", "n": int(space.n)}
    if isinstance(space, spaces.Box):
        return {"kind": "Box", "shape": list(space.shape)}
    raise InputError(f"only Box and Discrete spaces are supported, got {type(space).__name__}")


def flat_dims(env: gym.Env | str) -> tuple[int, int, bool]:
    """``(obs_dim, act_dim, discrete)`` of ``env`` (an env or its id) for nets over flat vectors:
    flat Box observations, and Box actions or Discrete ones (``act_dim`` = the number of actions,
    one-hot encoded by the nets)."""
    env = gym.make(env) if isinstance(env, str) else env
    obs_space, act_space = env.observation_space, env.action_space
    if not isinstance(obs_space, spaces.Box) or len(obs_space.shape) != 1:
        raise InputError(f"flat Box observations are needed, got {obs_space}")
    if isinstance(act_space, spaces.Discrete):
        return obs_space.shape[0], int(act_space.n), True
    if not isinstance(act_space, spaces.Box) or len(act_space.shape) != 1:
        raise InputError(f"flat Box or Discrete actions are needed, got {act_space}")
    return obs_space.shape[0], act_space.shape[0], False
