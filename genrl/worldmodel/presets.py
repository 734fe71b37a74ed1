"""Per-env Dyna/MBPO settings: one table, env id -> :class:`~genrl.worldmodel.dyna.DynaConfig` changes.

:func:`dyna_config` (and so ``genrl mbrl``) starts from ``DynaConfig()``'s defaults (chosen on
Pendulum-v1), applies the env's entry, then the caller's own changes: one merge rule, in that order.

The Hopper and HalfCheetah entries are MBPO's published settings (Janner et al. 2019; its ``examples/config``:
1000-step epochs, the model refitted every 250 real steps, 100k rollouts per refit = 400 per real
step, 5% real data in each SAC batch, one epoch of model rollouts kept), with the retention capped
at 400k transitions to fit this machine. Their return per wall-clock hour is measured in
``experiments/mbpo_mujoco.py``, not assumed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from genrl.worldmodel.dyna import DynaConfig
from genrl.worldmodel.models import WorldModel, world_model_for

_MBPO: dict[str, Any] = {"start_steps": 5000, "model_every": 250, "rollouts": 400, "real_ratio": 0.05,
                         "buffer_size": 400_000, "eval_every": 5000, "eval_episodes": 10}  # fmt: skip

DYNA_PRESETS: dict[str, dict[str, Any]] = {
    "Hopper-v5": {**_MBPO, "rollout_schedule": (20_000, 100_000, 1, 15), "updates_per_step": 20, "target_entropy": -1.0},
    "HalfCheetah-v5": {**_MBPO, "rollout_length": 1, "updates_per_step": 40, "target_entropy": -3.0},
    # genrl's choices in MBPO's style (rollouts of one step; fewer random steps for the short episodes at the start)
    "InvertedPendulum-v5": {**_MBPO, "start_steps": 500, "updates_per_step": 20, "target_entropy": -0.05, "eval_every": 500},
    "InvertedDoublePendulum-v5": {**_MBPO, "start_steps": 1000, "updates_per_step": 20, "target_entropy": -0.05},
}


DYNA_MODELS: dict[str, dict[str, Any]] = {"ensemble": {"members": 7, "elites": 5}}
"""World-model settings of the Dyna/MBPO loop by kind (MBPO's ensemble: 7 Gaussian nets, the 5 best
on the held-out split sampled)."""


def dyna_world_model(kind: str, env_id: str, seed: int = 0) -> WorldModel:
    """The Dyna/MBPO loop's world model of ``kind`` for ``env_id``, with its :data:`DYNA_MODELS` settings."""
    return world_model_for(kind, env_id, seed=seed, **DYNA_MODELS.get(kind, {}))


def dyna_config(env_id: str, **changes: Any) -> DynaConfig:
    """``DynaConfig()`` with the env's :data:`DYNA_PRESETS` entry, then ``changes``, applied."""
    return replace(DynaConfig(), **{**DYNA_PRESETS.get(env_id, {}), **changes})
