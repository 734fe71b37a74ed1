"""DAC's absorbing state for an off-policy learner (Kostrikov et al., ICLR 2019).

An episode that *terminates* (not one cut by a time limit) does not end in "nothing": its last
transition leads to an absorbing state, and the absorbing state leads to itself forever. Both
transitions go into the learner's replay buffer, and the discriminator, which sees the absorbing
rows beside real ones, sets the reward there — positive where the expert's episodes end there too
(termination as the goal), small where only the learner's do (termination as failure).

The absorbing state's reward does not depend on the action, so its whole discounted value is
r(absorbing) / (1 - γ) under the current discriminator. The step into it is stored as a
termination and relabelled at sample time with γ times that value added, instead of leaving the
critic to bootstrap it as DAC does: the critic saw the self-loop in about 1% of its rows, and only
at action 0, and on Hopper-v5 its estimate there stayed near the values of real states (Q 26
against 32) while the discriminator's reward put it at 0.5; ending an episode looked nearly as
good as living, and SAC's deterministic policy fell at once. The self-loop rows stay in the buffer
for the discriminator, and the learner's batches leave them out.

The absorbing rows live in the learner's replay buffer, where the discriminator draws them from
(``disc_source="replay"``), so the learner's observations get one more feature, an "absorbing"
flag: 0 in every real observation (:class:`AbsorbingFlag`), 1 in the absorbing state, whose other
features are 0. The reward net reads the same flag
(:class:`~genrl.gail.reward.RewardNet` with ``absorbing=True`` takes observations with or
without it). A policy trained this way acts on observations with the trailing 0:
:meth:`GAIL.predict <genrl.gail.trainer.GAIL.predict>` appends it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from genrl.errors import InputError
from genrl.gail.sb3 import RelabelingReplayBuffer


def add_flag(obs: Any, flag: float = 0.0) -> np.ndarray:
    """Observations ``(..., d)`` -> ``(..., d + 1)`` with the absorbing flag appended."""
    obs = np.asarray(obs, dtype=np.float32)
    return np.concatenate([obs, np.full((*obs.shape[:-1], 1), flag, dtype=np.float32)], -1)


def absorbing_state(dim: int) -> np.ndarray:
    """The absorbing state in a flagged observation space of ``dim`` features: zeros, flag 1."""
    state = np.zeros(dim, dtype=np.float32)
    state[-1] = 1.0
    return state


def stored_rows(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray,
                absorbing: bool) -> dict[str, np.ndarray]:  # fmt: skip
    """Transitions ``(N, ...)`` as a relabelling replay buffer hands them to the learner: ``obs``,
    ``actions``, ``next_obs``, ``dones`` (terminations). With ``absorbing``, as
    :class:`AbsorbingReplayBuffer` does: flagged observations, each terminated step leading into the
    absorbing state (whose self-loop the learner never samples)."""
    term = np.asarray(terminated, dtype=bool).reshape(-1)
    if not absorbing:
        return {"obs": obs, "actions": actions, "next_obs": next_obs, "dones": term.astype(np.float32)}
    state = absorbing_state(obs.shape[1] + 1)
    return {"obs": add_flag(obs), "actions": actions, "next_obs": np.where(term[:, None], state, add_flag(next_obs)),
            "dones": term.astype(np.float32)}  # fmt: skip


class AbsorbingFlag(VecEnvWrapper):
    """Appends the absorbing flag (0) to every observation of a flat Box-observation VecEnv,
    including the ``terminal_observation`` of finished episodes."""

    def __init__(self, venv: VecEnv) -> None:
        space = venv.observation_space
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise InputError(f"absorbing states with an off-policy learner need flat Box observations, got {space}")
        flagged = spaces.Box(np.append(space.low, 0.0).astype(np.float32), np.append(space.high, 1.0).astype(np.float32))
        super().__init__(venv, observation_space=flagged)

    def reset(self) -> np.ndarray:
        return add_flag(self.venv.reset())

    def step_wait(self) -> Any:
        obs, rew, dones, infos = self.venv.step_wait()
        for info in infos:
            if "terminal_observation" in info:
                info["terminal_observation"] = add_flag(info["terminal_observation"])
        return add_flag(obs), rew, dones, infos


class AbsorbingReplayBuffer(RelabelingReplayBuffer):
    """A relabelling replay buffer that stores DAC's absorbing transitions.

    A terminated transition ``(s, a, s_T)`` is stored as ``(s, a, absorbing)``, followed by the
    self-loop ``(absorbing, 0, absorbing)``, both done; the step into it is relabelled with the
    absorbing state's discounted value added (see the module docstring); a time-limit truncation
    is stored as it is. The self-loops are the discriminator's (it draws its policy rows from this
    buffer); the learner's batches never contain one. Observations carry the flag
    (:class:`AbsorbingFlag`); rewards come from the discriminator at sample time, as in
    :class:`~genrl.gail.sb3.RelabelingReplayBuffer`.
    One env per learner (SAC's and TD3's usual set-up).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.absorbing = absorbing_state(self.obs_shape[0])

    def add(self, obs: np.ndarray, next_obs: np.ndarray, action: np.ndarray, reward: np.ndarray, done: np.ndarray,
            infos: list[dict[str, Any]]) -> None:  # fmt: skip
        terminated = bool(done[0]) and not infos[0].get("TimeLimit.truncated", False)
        if not terminated:
            super().add(obs, next_obs, action, reward, done, infos)
            return
        absorbing, ended = self.absorbing.reshape(next_obs.shape), np.ones_like(done)
        super().add(obs, absorbing, action, reward, ended, infos)
        super().add(absorbing, absorbing, np.zeros_like(action), np.zeros_like(reward), ended, [{}])

    def _learner_rows(self, batch_inds: np.ndarray) -> np.ndarray:
        """Drawn rows with every absorbing self-loop redrawn (uniformly, until none is left): the
        self-loops are there for the discriminator. The learner has no use for them, since the
        value of the absorbing state is in the reward of the step into it, and they would put states
        no episode visits into its actor and entropy updates (DAC masks them out of its actor's loss
        too): on Hopper-v5 they were 3% of SAC's rows, where its actions saturated and its
        log-probability was 6 against 2 elsewhere, pulling the entropy coefficient up."""
        upper = self.buffer_size if self.full else self.pos
        loops = self.observations[batch_inds, 0, -1] > 0
        while loops.any():  # every self-loop follows the real step into it, so real rows exist
            batch_inds[loops] = np.random.randint(0, upper, size=int(loops.sum()))  # SB3's own RNG for its rows
            loops = self.observations[batch_inds, 0, -1] > 0
        return batch_inds

    def end_absorbing_rows(self) -> None:
        """Mark every stored row into the absorbing state as a termination (no time-out), as
        :meth:`add` stores them; buffers saved before it did held them as not done."""
        into = self.next_observations[..., -1] > 0
        self.dones[into], self.timeouts[into] = 1.0, 0.0
