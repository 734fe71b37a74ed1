"""PETS-style model-based control: plan with MPC through a world model refitted after every episode.

The loop, top to bottom (Chua et al. 2018, with any genrl world model):

1. act randomly for ``init_steps`` real steps and keep every real transition;
2. fit the world model on all real transitions so far;
3. run one real episode choosing every action with :class:`~genrl.worldmodel.planner.MPCPlanner`
   (receding horizon through the model), log its return against real env steps so far;
4. go to 2 until ``episodes`` planned episodes are done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

import gymnasium as gym

from genrl.rollout import collect, rollout
from genrl.worldmodel.model_env import BatchedModelEnv, TransitionFn
from genrl.worldmodel.models import WorldModel
from genrl.worldmodel.oracle import TrueKernel
from genrl.worldmodel.planner import MPCPlanner


@dataclass
class PETSConfig:
    """Budget of :func:`mpc_loop` (steps are real env steps) and the planner's search settings."""

    episodes: int = 4
    init_steps: int = 200
    fit_steps: int = 2000
    horizon: int = 15
    population: int = 400
    elites: int = 40
    iterations: int = 5
    particles: int = 4
    method: Literal["cem", "mppi"] = "cem"


def mpc_loop(
    env_id: str,
    model: WorldModel | TrueKernel,
    config: PETSConfig | None = None,
    reward_fn: TransitionFn | None = None,
    termination_fn: TransitionFn | None = None,
    seed: int = 0,
    callback: Callable[[dict[str, float]], None] | None = None,
    device: str = "auto",
) -> list[dict[str, Any]]:
    """Run the loop; return one row per planned episode: ``env_steps`` (real, cumulative), ``return``."""
    c = config or PETSConfig()
    data = collect(env_id, c.init_steps, n_envs=1, seed=seed)
    env = gym.make(env_id)
    space = cast(gym.spaces.Box, env.action_space)  # MPC plans continuous actions
    low, high = space.low, space.high
    curve: list[dict[str, Any]] = []
    for ep in range(c.episodes):
        model.fit(data, steps=c.fit_steps, device=device)
        planner = MPCPlanner(BatchedModelEnv(model, reward_fn, termination_fn), low, high, c.horizon, c.population,
                             c.elites, c.iterations, c.particles, c.method, seed=seed + ep)  # fmt: skip
        played = rollout(planner.act, env, 1, seed=seed + 1000 + ep, keep_transitions=True)
        assert played.transitions is not None
        data = data.concat(played.transitions)
        total = 0.0
        for r in played.rewards[0]:
            total += float(r)
        row = {"env_steps": len(data), "return": total, "episode": ep + 1}
        curve.append(row)
        if callback is not None:
            callback(row)
    env.close()
    return curve
