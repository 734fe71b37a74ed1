"""Helpers for gymnasium spaces: what genrl's nets and files need to know about them."""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from genrl.errors import InputError


def space_signature(space: gym.Space) -> dict[str, Any]:
    """A JSON description of a Box, Discrete or Dict-of-Box space (kind, shape, n, sub-spaces),
    stored with demonstrations."""
    if isinstance(space, spaces.Discrete):
        return {"kind": "Discrete", "n": int(space.n)}
    if isinstance(space, spaces.Box):
        return {"kind": "Box", "shape": list(space.shape)}
    if isinstance(space, spaces.Dict):
        _check_dict(space)
        return {"kind": "Dict", "spaces": {k: space_signature(s) for k, s in space.spaces.items()}}
    raise InputError(f"only Box, Discrete and Dict spaces are supported, got {type(space).__name__}")


def _check_dict(space: spaces.Dict) -> None:
    bad = [k for k, s in space.spaces.items() if not isinstance(s, spaces.Box)]
    if bad:
        raise InputError(f"Dict observation spaces need Box entries; {bad[0]!r} is {space.spaces[bad[0]]}")


def check_observations(space: gym.Space, env_id: str) -> None:
    """Refuse, in one line, observations genrl's demonstrations and nets cannot hold (Box, or a Dict of Boxes)."""
    if isinstance(space, spaces.Dict):
        _check_dict(space)
    elif not isinstance(space, spaces.Box):
        raise InputError(f"{env_id} has {space} observations; genrl takes Box observations (or a Dict of Boxes)")


def flat_obs_dim(space: gym.Space) -> int:
    """Features of a flattened observation: a Box's size, or the sum over a Dict's Box entries."""
    if isinstance(space, spaces.Dict):
        _check_dict(space)
        return sum(int(np.prod(cast("tuple[int, ...]", s.shape))) for s in space.spaces.values())
    return int(np.prod(cast("tuple[int, ...]", space.shape)))


def flatten_obs(space: gym.Space, obs: Any, batched: bool = False) -> np.ndarray:
    """Observations as flat float rows: ``(d,)``, or ``(B, d)`` when ``batched``. A Dict observation's
    entries are concatenated in the space's key order (as ``gymnasium.spaces.flatten`` does)."""
    if isinstance(space, spaces.Dict):
        parts = [np.asarray(obs[k], dtype=np.float32) for k in space.spaces]
        if batched:
            return np.concatenate([p.reshape(len(p), -1) for p in parts], 1)
        return np.concatenate([p.reshape(-1) for p in parts])
    x = np.asarray(obs, dtype=np.float32)
    return x.reshape(len(x), -1) if batched else x.reshape(-1)


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
