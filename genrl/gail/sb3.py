"""stable-baselines3 glue: a progress callback, and everything genrl does with SB3's private fields.

SB3 has no public API for a few things a resumable, relabelling GAIL needs: its update and
episode counters, the replay buffer's arrays and cursor, SAC's learned entropy coefficient, and
the hook where a replay buffer builds a sampled batch. When SB3 changes one of these, this module
is the only one to mend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from genrl.errors import InputError
from genrl.progress import ProgressLogger

_REPLAY_ARRAYS = ("observations", "actions", "next_observations", "rewards", "dones", "timeouts")


class RelabelingReplayBuffer(ReplayBuffer):
    """An SB3 replay buffer whose sampled rewards come from the current discriminator at sample time.

    ``reward_fn(obs, scaled_actions, next_obs, terminated)`` gets the stored rows; a stored
    ``done`` counts as a termination unless it was a time-limit timeout. One env (SB3 does not say
    which env each sampled row came from). The reward function is attached after the
    learner is built, not passed through ``replay_buffer_kwargs``: SB3 pickles those kwargs into
    every saved model, and a closure over the discriminator cannot be pickled.
    """

    reward_fn: Callable[..., np.ndarray] | None = None
    demo_rows: dict[str, np.ndarray] | None = None
    """Demonstration transitions stored as this buffer stores its own (``obs``, ``actions`` scaled
    to [-1, 1], ``next_obs``, ``dones``: terminations), mixed into every sampled batch at
    ``demo_fraction``; attached by GAIL like ``reward_fn``."""
    demo_fraction: float = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.n_envs != 1:  # SB3 draws each sampled row's env at random and does not say which
            raise InputError(f"a relabelling replay buffer takes one env, got {self.n_envs}")

    def sample(self, batch_size: int, env: Any = None) -> Any:
        """``batch_size`` rows, ``round(demo_fraction * batch_size)`` of them demonstrations (as in
        SQIL or DQfD: the critic learns the value of the expert's own actions), all relabelled."""
        n_demo = round(self.demo_fraction * batch_size) if self.demo_rows is not None else 0
        samples = super().sample(batch_size - n_demo, env)
        if not n_demo:
            return samples
        d = self.demo_rows
        assert d is not None and self.reward_fn is not None
        idx = np.random.randint(len(d["obs"]), size=n_demo)  # SB3 draws its own rows from NumPy's global RNG too
        obs, act, next_obs, dones = d["obs"][idx], d["actions"][idx], d["next_obs"][idx], d["dones"][idx]
        rew = self.reward_fn(obs, act, next_obs, dones > 0)
        demo = (obs, act, next_obs, dones.reshape(-1, 1), rew.reshape(-1, 1))
        mixed = [torch.cat([cast(torch.Tensor, a), self.to_torch(b.astype(np.float32))]) for a, b in zip(samples, demo)]
        return samples._replace(**dict(zip(samples._fields, mixed)))

    def _learner_rows(self, batch_inds: np.ndarray) -> np.ndarray:
        """The stored rows ``(B,)`` the learner's batch is built from: the drawn ones, here; a subclass
        may swap out rows the learner has no use for."""
        return batch_inds

    def _get_samples(self, batch_inds: np.ndarray, env: Any = None) -> Any:
        if self.reward_fn is None:
            raise InputError("this relabelling replay buffer has no reward function; GAIL attaches one when it starts")
        batch_inds = self._learner_rows(batch_inds)
        samples = super()._get_samples(batch_inds, env)
        env_idx = np.zeros(len(batch_inds), dtype=int)
        terminated = _terminated(self, batch_inds)
        rew = self.reward_fn(self.observations[batch_inds, env_idx], self.actions[batch_inds, env_idx],
                             self.next_observations[batch_inds, env_idx], terminated)  # fmt: skip
        return samples._replace(rewards=self.to_torch(rew.reshape(-1, 1).astype(np.float32)))


def replay_rows(buffer: ReplayBuffer, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """``n`` stored transitions drawn uniformly: ``(obs, actions scaled to [-1, 1], next_obs, terminated)``,
    the first env's columns (GAIL's off-policy learners run one env)."""
    size = buffer.buffer_size if buffer.full else buffer.pos
    if size == 0:
        raise InputError("the learner's replay buffer is empty: no policy transitions to sample")
    idx = rng.integers(size, size=n)
    return buffer.observations[idx, 0], buffer.actions[idx, 0], buffer.next_observations[idx, 0], _terminated(buffer, idx)


def _terminated(buffer: ReplayBuffer, idx: np.ndarray) -> np.ndarray:
    """Which stored rows ``idx`` (env 0) ended their episode by termination, not a time limit."""
    return buffer.dones[idx, 0] * (1 - buffer.timeouts[idx, 0]) > 0


def deterministic_action(learner: BaseAlgorithm, obs: torch.Tensor) -> torch.Tensor:
    """An off-policy learner's actor output in SB3's [-1, 1] scale: SAC's squashed mean, TD3's action."""
    actor: Any = cast(Any, learner).actor
    return actor(obs, deterministic=True) if isinstance(learner, SAC) else actor(obs)


def replay_buffer(learner: BaseAlgorithm) -> ReplayBuffer | None:
    """The learner's replay buffer, or ``None`` for an on-policy learner."""
    return cast(OffPolicyAlgorithm, learner).replay_buffer if isinstance(learner, OffPolicyAlgorithm) else None


def learner_state(learner: BaseAlgorithm) -> dict[str, Any]:
    """What :meth:`BaseAlgorithm.get_parameters` leaves out and a continued run needs: the step,
    update and episode counters, SAC's entropy coefficient and the replay buffer's contents."""
    state: dict[str, Any] = {
        "parameters": learner.get_parameters(),
        "counters": {
            "num_timesteps": learner.num_timesteps,
            "n_updates": learner._n_updates,
            "episode_num": learner._episode_num,
        },
    }
    log_ent_coef = getattr(learner, "log_ent_coef", None)  # SAC with a learned coefficient
    state["log_ent_coef"] = None if log_ent_coef is None else log_ent_coef.detach()
    rb = replay_buffer(learner)
    if rb is not None:
        n = rb.buffer_size if rb.full else rb.pos
        arrays = {k: torch.from_numpy(getattr(rb, k)[:n].copy()) for k in _REPLAY_ARRAYS}
        state["replay"] = {"pos": rb.pos, "full": rb.full, **arrays}
    return state


def restore_learner(learner: BaseAlgorithm, state: dict[str, Any], device: torch.device | str) -> None:
    """Put :func:`learner_state` back into a learner built the same way."""
    learner.set_parameters(state["parameters"], exact_match=True, device=device)
    c = state["counters"]
    learner.num_timesteps, learner._n_updates, learner._episode_num = c["num_timesteps"], c["n_updates"], c["episode_num"]
    if state["log_ent_coef"] is not None:
        cast(torch.Tensor, learner.log_ent_coef).data.copy_(state["log_ent_coef"])  # type: ignore[attr-defined]
    rb, saved = replay_buffer(learner), state.get("replay")
    if rb is not None and saved is not None:
        for k in _REPLAY_ARRAYS:
            getattr(rb, k)[: len(saved[k])] = saved[k].numpy()
        rb.pos, rb.full = saved["pos"], saved["full"]


class EpisodeReturns(BaseCallback):
    """Records the true returns of the episodes an SB3 ``learn`` finishes (from ``Monitor``'s
    ``info["episode"]``): ``returns``, and ``rows`` of ``{"step", "return_mean"}`` (the last 10
    episodes' mean), about ``points`` of them over ``total`` env steps."""

    def __init__(self, total: int, points: int = 100) -> None:
        super().__init__()
        self.every = max(total // points, 1)
        self.returns: list[float] = []
        self.rows: list[dict[str, float]] = []
        self._logged = 0

    def _on_step(self) -> bool:
        self.returns += [float(i["episode"]["r"]) for i in self.locals.get("infos", []) if "episode" in i]
        if self.returns and self.num_timesteps - self._logged >= self.every:
            self.rows.append({"step": float(self.num_timesteps), "return_mean": float(np.mean(self.returns[-10:]))})
            self._logged = self.num_timesteps
        return True


class ProgressCallback(EpisodeReturns):
    """genrl's progress bar (tqdm, stderr) over an SB3 ``learn``, showing the recent mean true return."""

    def __init__(self, total: int, desc: str = "") -> None:
        super().__init__(total)
        self.total, self.desc = total, desc

    def _on_training_start(self) -> None:
        self.bar = ProgressLogger(total=self.total, initial=min(self.num_timesteps, self.total), desc=self.desc)

    def _on_step(self) -> bool:
        rows = len(self.rows)
        super()._on_step()
        step = min(self.num_timesteps, self.total)
        if len(self.rows) > rows:
            self.bar.log(self.rows[-1], advance=step - self.bar.bar.n)
        else:
            self.bar.advance(step - self.bar.bar.n)
        return True

    def _on_training_end(self) -> None:
        self.bar.close()
