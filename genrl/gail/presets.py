"""Per-env GAIL settings, kept as rl-zoo3 keeps hyperparameters: one table, env id -> learner -> settings.

:func:`~genrl.gail.make_gail` (and so ``genrl gail``) starts from an env's entry for the chosen
learner; every argument passed explicitly wins over it, and ``algo_kwargs`` are merged over the
entry's. Envs without an entry get make_gail's own defaults (chosen on CartPole-v1 and Pendulum-v1).
How each entry was chosen and what it scores: ``experiments/gail_mujoco.py`` and the results page.

Keys of an entry: ``algo_kwargs`` (the SB3 constructor's), ``disc_hidden``, ``absorbing_scale``, ``round_steps``,
``n_envs`` (PPO), and any :class:`~genrl.gail.GAIL` option (``disc_lr``, ``disc_updates``,
``gradient_penalty``, ...).
"""

from __future__ import annotations

import copy
from typing import Any

_MUJOCO_OFF_POLICY: dict[str, Any] = {
    # rl-zoo3's SAC/TD3 MuJoCo settings for the learner; the discriminator as in DAC (Kostrikov et
    # al. 2019): a gradient penalty of 10, policy rows from the whole replay buffer. Trained on the
    # recent window instead, it judged Hopper's absorbing state (0.19) above the policy's own states
    # (0.10) by 130k steps, and SAC learned to fall at once (results page).
    "algo_kwargs": {"learning_rate": 3e-4, "learning_starts": 10_000, "batch_size": 256, "buffer_size": 1_000_000},
    "disc_hidden": (256, 256),
    "disc_lr": 3e-4,
    "gradient_penalty": 10.0,
    "round_steps": 1000,
    "disc_updates": 100,
    "disc_source": "replay",
    # Under the penalty, a flag of 1 left the absorbing state within a few logits of the demos
    # (Hopper: -0.2 against the policy's -3.6) and SAC fell on purpose; see RewardNet.
    "absorbing_scale": 10.0,
}
_MUJOCO_TD3: dict[str, Any] = {
    **_MUJOCO_OFF_POLICY,
    "algo_kwargs": {**_MUJOCO_OFF_POLICY["algo_kwargs"], "learning_rate": 1e-3, "policy_kwargs": {"net_arch": [400, 300]}},
}
_HOPPER_PPO: dict[str, Any] = {
    # imitation 1.0.1's tuned GAIL settings for seals Hopper (tuned_hps/gail_seals_hopper_best_hp_eval.json),
    # the learner the peer benchmark (experiments/peers/imitation_gail.py) runs, so both sides share
    # it; SB3's Tanh policy instead of ReLU and no observation normaliser.
    "n_envs": 8,
    "round_steps": 4096,
    "algo_kwargs": {"batch_size": 512, "n_epochs": 20, "learning_rate": 4.3984856e-5, "gamma": 0.995,
                    "gae_lambda": 0.98, "clip_range": 0.1, "ent_coef": 0.0012553, "vf_coef": 0.2031594,
                    "max_grad_norm": 0.9, "policy_kwargs": {"net_arch": {"pi": [64, 64], "vf": [64, 64]}}},
    "disc_updates": 8,
    "disc_batch": 128,
}  # fmt: skip
GAIL_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "Hopper-v5": {"sac": _MUJOCO_OFF_POLICY, "td3": _MUJOCO_TD3, "ppo": _HOPPER_PPO},
    "HalfCheetah-v5": {"sac": _MUJOCO_OFF_POLICY, "td3": _MUJOCO_TD3},
}
"""env id -> algo -> settings (see the module docstring)."""


def gail_preset(env_id: str, algo: str) -> dict[str, Any]:
    """A copy of the env's settings for ``algo`` (empty when the table has none)."""
    return copy.deepcopy(GAIL_PRESETS.get(env_id, {}).get(algo, {}))
