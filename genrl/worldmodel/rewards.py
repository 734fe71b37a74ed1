"""Reward and termination functions known in closed form, for imagining in a world model.

Each is a pure function ``fn(obs (B, d_obs), act (B, d_act), next_obs (B, d_obs)) -> (B,)`` of
tensors (the :data:`~genrl.worldmodel.model_env.TransitionFn` signature), passed as ``reward_fn`` /
``termination_fn`` to :class:`~genrl.worldmodel.model_env.BatchedModelEnv`, :func:`~genrl.worldmodel.dyna.dyna_sac`
or :func:`~genrl.worldmodel.pets.mpc_loop`. Envs missing from :data:`REWARD_FNS` use the model's learned reward.
"""

from __future__ import annotations

import torch


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


# Reward and termination functions by env id; elsewhere the model's learned ones are used.
REWARD_FNS = {"Pendulum-v1": pendulum_reward, "genrl/KickedPendulum-v0": pendulum_reward,
              "genrl/ForkWall2D-v0": fork_wall_reward, "genrl/JumpPits2D-v0": jump_pits_reward}  # fmt: skip
TERMINATION_FNS = {"genrl/ForkWall2D-v0": fork_wall_crash}
