"""Reward and termination functions known in closed form, for imagining in a world model.

Each is a pure function ``fn(obs (B, d_obs), act (B, d_act), next_obs (B, d_obs)) -> (B,)`` of
tensors (the :data:`~genrl.worldmodel.model_env.TransitionFn` signature), passed as ``reward_fn`` /
``termination_fn`` to :class:`~genrl.worldmodel.model_env.BatchedModelEnv`, :func:`~genrl.worldmodel.dyna.dyna_sac`
or :func:`~genrl.worldmodel.pets.mpc_loop`. Envs missing from :data:`REWARD_FNS` use the model's learned reward.
"""

from __future__ import annotations

import torch

from genrl.worldmodel.model_env import TransitionFn


def pendulum_reward(obs: torch.Tensor, act: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
    """Pendulum-v1's reward as a pure function of (obs, act): -(θ² + 0.1 θ̇² + 0.001 u²)."""
    th = torch.atan2(obs[:, 1], obs[:, 0])
    return -(th**2 + 0.1 * obs[:, 2] ** 2 + 0.001 * act[:, 0] ** 2)


def fork_wall_crash(obs: torch.Tensor, act: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
    """ForkWall2D's termination: the next position is inside the wall |x| < 0.5, |y| < 0.25."""
    return (next_obs[:, 0].abs() < 0.5) & (next_obs[:, 1].abs() < 0.25)


def fork_wall_reward(obs: torch.Tensor, act: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
    """ForkWall2D's reward: 1 - ||(x', y') - (0, 4)|| / 8, or -10 if (x', y') is inside the wall."""
    goal = torch.tensor([0.0, 4.0], device=next_obs.device, dtype=next_obs.dtype)
    progress = 1.0 - torch.linalg.vector_norm(next_obs - goal, dim=1) / 8.0
    return torch.where(fork_wall_crash(obs, act, next_obs), torch.full_like(progress, -10.0), progress)


def jump_pits_reward(obs: torch.Tensor, act: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
    """JumpPits2D's reward: 1 - ||(x', y') - (0, 4)|| / 8, less 3 if (x', y') is in a pit
    (1.4 < |x'| < 2.6, |y'| < 3)."""
    goal = torch.tensor([0.0, 4.0], device=next_obs.device, dtype=next_obs.dtype)
    x, y = next_obs[:, 0].abs(), next_obs[:, 1].abs()
    pit = (x > 1.4) & (x < 2.6) & (y < 3.0)
    return 1.0 - torch.linalg.vector_norm(next_obs - goal, dim=1) / 8.0 - 3.0 * pit.to(next_obs.dtype)


def hopper_termination(obs: torch.Tensor, act: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
    """Hopper-v5's termination (``terminate_when_unhealthy``): the next torso height z' = s'[0] not
    above 0.7, its angle s'[1] outside (-0.2, 0.2), or any of s'[1:] outside (-100, 100). The env
    bounds its unclipped velocities; the observation clips them to 10, so that part never fires here."""
    z, angle = next_obs[:, 0], next_obs[:, 1]
    healthy = (z > 0.7) & (angle.abs() < 0.2) & (next_obs[:, 1:].abs() < 100).all(dim=1)
    return ~healthy


def inverted_pendulum_termination(obs: torch.Tensor, act: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
    """InvertedPendulum-v5's termination: the pole angle |s'[1]| above 0.2 rad, or a non-finite observation."""
    return ~torch.isfinite(next_obs).all(dim=1) | (next_obs[:, 1].abs() > 0.2)


def inverted_pendulum_reward(obs: torch.Tensor, act: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
    """InvertedPendulum-v5's reward: 1 for every step that does not terminate, else 0."""
    return (~inverted_pendulum_termination(obs, act, next_obs)).to(next_obs.dtype)


# Reward and termination functions by env id; elsewhere the model's learned ones are used.
REWARD_FNS = {"Pendulum-v1": pendulum_reward, "genrl/KickedPendulum-v0": pendulum_reward,
              "genrl/ForkWall2D-v0": fork_wall_reward, "genrl/JumpPits2D-v0": jump_pits_reward,
              "InvertedPendulum-v5": inverted_pendulum_reward}  # fmt: skip
TERMINATION_FNS = {"genrl/ForkWall2D-v0": fork_wall_crash, "Hopper-v5": hopper_termination,
                   "InvertedPendulum-v5": inverted_pendulum_termination}  # fmt: skip


_BY_NAME = {fn.__name__: fn for fn in (*REWARD_FNS.values(), *TERMINATION_FNS.values())}


def transition_fn_name(fn: object) -> str | None:
    """How a checkpoint names a reward or termination function: its name if it is one of this
    module's, ``"custom"`` for any other, ``None`` for none (the model's learned one)."""
    if fn is None:
        return None
    name = getattr(fn, "__name__", "")
    return name if _BY_NAME.get(name) is fn else "custom"


def transition_fn(name: str | None) -> TransitionFn | None:
    """Inverse of :func:`transition_fn_name` for this module's functions (and ``None``)."""
    return None if name is None else _BY_NAME[name]
