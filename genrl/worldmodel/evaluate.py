"""Scoring world models against the true transition kernel or against logged data.

* :func:`one_step_energy_distance`: at many probe (s, a) pairs, the energy distance between model
  samples and true samples of the next observation (from a :class:`~genrl.envs.StochasticEnv`'s
  ``sample_next``), in units standardised per dimension, averaged over probes — reported beside
  its noise floor, the same statistic between two independent sets of true samples.
* :func:`mode_weight_error`: on envs that give their kernel's modes in closed form (``modes(obs,
  act) -> (centres (B, K, d), weights (B, K))``), the total variation between the weights of the
  modes the model's samples fall nearest to and the true weights, at probes whose modes are apart.
* :func:`model_energy_score`: ``E||X - y|| - ½ E||X - X'||`` of model samples X against single logged
  next observations y (a proper scoring rule; needs no simulator, lower is better).
* :func:`rollout_error`: open-loop multi-step error of the model's mean-free sample path against
  the real env replaying the same actions from the same start.
"""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch

from genrl.errors import InputError
from genrl.gan import regularizers
from genrl.metrics.distances import energy_distance
from genrl.transitions import Transitions
from genrl.worldmodel.models import WorldModel


def one_step_energy_distance(
    model: WorldModel, env: Any, probes: Transitions, n_samples: int = 256, seed: int = 0
) -> dict[str, float]:
    """Mean energy distance model-vs-truth over the probes' (obs, act), with its truth-vs-truth floor."""
    rng = np.random.default_rng(seed)
    scale = probes.next_obs.std(0) + 1e-8
    pred = model.sample(probes.obs, probes.act, n_samples).next_obs.cpu().numpy()
    model_ed, floor = [], []
    for i in range(len(probes)):
        truth_a, _ = env.sample_next(probes.obs[i], probes.act[i], n_samples, rng)
        truth_b, _ = env.sample_next(probes.obs[i], probes.act[i], n_samples, rng)
        model_ed.append(energy_distance(pred[i] / scale, truth_a / scale))
        floor.append(energy_distance(truth_b / scale, truth_a / scale))
    return {"energy_distance": float(np.mean(model_ed)), "energy_distance_floor": float(np.mean(floor)),
            "probes": len(probes)}  # fmt: skip


def modes_apart(env: Any, probes: Transitions, min_gap: float = 8.0) -> np.ndarray:
    """``(B,)`` bool: the probes whose kernel modes (``env.modes``) are pairwise at least
    ``min_gap`` σ apart (``env.sigma``): where a model has distinct modes to get right."""
    if not hasattr(env, "modes"):
        raise InputError(f"{type(env).__name__} gives no modes in closed form")
    centres, _ = env.modes(probes.obs.astype(np.float64), probes.act.astype(np.float64))
    gaps = np.linalg.norm(centres[:, :, None] - centres[:, None], axis=-1)
    gaps[:, np.arange(centres.shape[1]), np.arange(centres.shape[1])] = np.inf
    return gaps.min((1, 2)) >= min_gap * env.sigma


def mode_weight_error(
    model: WorldModel, env: Any, probes: Transitions, n_samples: int = 256, min_gap: float = 8.0, seed: int = 0
) -> dict[str, float]:
    """Mean total variation ``½ (Σ_k |p̂_k - p_k| + p̂_off)`` between the model's mode weights and the kernel's.

    A sample counts for its nearest mode centre if it lies within 4σ of it (``env.sigma``, the
    kernel's noise; true samples fall outside once in 3,000), else for no mode (``p̂_off``, mass
    between or beyond the modes, which the truth does not have). Only probes whose closest two
    centres are at least ``min_gap`` σ apart count (8σ: the 4σ balls do not overlap); the same
    statistic on true samples (its sampling floor) is reported beside it.
    """
    apart = modes_apart(env, probes, min_gap)
    centres, weights = env.modes(probes.obs.astype(np.float64), probes.act.astype(np.float64))
    if not apart.any():
        return {"mode_tv": float("nan"), "mode_tv_floor": float("nan"), "mode_probes": 0}
    pred = model.sample(probes.obs[apart], probes.act[apart], n_samples).next_obs.cpu().numpy()
    rng = np.random.default_rng(seed)

    def tv(samples: np.ndarray, c: np.ndarray, w: np.ndarray) -> float:
        dist = np.linalg.norm(samples[:, None] - c[None], axis=-1)
        nearest = np.where(dist.min(1) <= 4 * env.sigma, dist.argmin(1), len(w))  # len(w): off every mode
        p = np.bincount(nearest, minlength=len(w) + 1) / len(samples)
        return 0.5 * float(np.abs(p[:-1] - w).sum() + p[-1])

    idx = np.flatnonzero(apart)
    model_tv = [tv(pred[j], centres[i], weights[i]) for j, i in enumerate(idx)]
    floor = [tv(env.sample_next(probes.obs[i], probes.act[i], n_samples, rng)[0], centres[i], weights[i]) for i in idx]
    return {"mode_tv": float(np.mean(model_tv)), "mode_tv_floor": float(np.mean(floor)), "mode_probes": int(apart.sum())}


def model_energy_score(model: WorldModel, data: Transitions, n_samples: int = 64) -> float:
    """Mean energy score of the model's next-observation samples against logged next observations."""
    if n_samples < 2:
        raise InputError("model_energy_score needs n_samples >= 2")
    scale = torch.as_tensor(data.next_obs.std(0) + 1e-8)
    x = model.sample(data.obs, data.act, n_samples).next_obs.cpu() / scale  # (B, n, d)
    return float(regularizers.energy_score(x, torch.as_tensor(data.next_obs) / scale))


def termination_accuracy(model: WorldModel, data: Transitions, n_samples: int = 16) -> float:
    """Balanced accuracy of the model's sampled terminations against logged ones: the mean of the
    fraction of draws that end where the episode ended and that go on where it went on (0.5 is
    chance; a model that never predicts an ending scores 0.5). ``data`` needs both kinds of rows."""
    ended = np.asarray(data.terminated, dtype=bool)
    if ended.all() or not ended.any():
        raise InputError("termination_accuracy needs transitions that terminated and ones that did not")
    predicted = model.sample(data.obs, data.act, n_samples).terminated.float().mean(1).cpu().numpy()
    return float(0.5 * (predicted[ended].mean() + (1.0 - predicted[~ended]).mean()))


def open_loop_rollouts(
    model: WorldModel, env_id: str, horizon: int = 20, episodes: int = 10, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``episodes`` pairs of observations ``(T, d_obs)``: the real env's under random actions, and the
    model's open-loop rollout of the same actions from the same start (one draw per step)."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    pairs = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        sim = obs[None].astype(np.float32)
        real_path, sim_path = [], []
        for _ in range(horizon):
            act = env.action_space.sample()
            obs, _, term, trunc, _ = env.step(act)
            a = np.asarray(act, dtype=np.float32).reshape(1, -1)
            sim = model.sample(sim, a, 1).next_obs[:, 0].cpu().numpy()
            real_path.append(obs)
            sim_path.append(sim[0])
            if term or trunc:
                break
        pairs.append((np.array(real_path), np.array(sim_path)))
    env.close()
    return pairs


def rollout_error(model: WorldModel, env_id: str, horizon: int = 20, episodes: int = 10, seed: int = 0) -> float:
    """Mean over steps and episodes of ||ŝ_t - s_t|| (standardised) for open-loop random actions."""
    std = cast(torch.Tensor, model.ctx_norm.std)[: model.obs_dim].cpu().numpy()
    pairs = open_loop_rollouts(model, env_id, horizon, episodes, seed)
    return float(np.mean([np.linalg.norm((real - sim) / std, axis=1).mean() for real, sim in pairs]))
