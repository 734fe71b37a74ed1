"""Dyna / MBPO: alternate real collection, world-model fitting and SAC updates on short model rollouts.

One real step of :class:`Dyna` (Janner et al. 2019, with any genrl world model), top to bottom:

1. act in the real env (random for the first ``start_steps``, then the SAC policy) and keep the
   transition (:class:`~genrl.transitions.TransitionBuffer`: the model's data, the rollouts' start
   states and the real share of SAC's batches, in one place);
2. every ``model_every`` real steps from ``start_steps`` on, fit the world model on all real transitions;
3. branch ``rollouts`` imagined rollouts from real states with the current policy, of the length
   the schedule gives (``rollout_length``, or MBPO's linear ``rollout_schedule``), into SAC's
   replay buffer of model transitions (the last ``buffer_size`` of them), and take
   ``updates_per_step`` SAC gradient steps on batches drawing a fraction ``real_ratio`` from the real
   transitions and the rest from the model's (MBPO's mix).

With ``model=None`` the same loop is model-free SAC (every batch real, no rollouts): the baseline
on the same evaluation grid.

The loop is :func:`genrl.training.run` (one step = one real env step): the progress bar, TensorBoard,
the non-finite check and checkpoints. Every ``eval_every`` real steps (and at the end) a row of
:attr:`Dyna.history` scores the deterministic policy on ``eval_episodes`` real episodes.

**Resume is exact.** A checkpoint holds SAC (networks, optimisers, entropy coefficient, counters,
the buffer of model transitions), the world model, every real transition, every random stream, and
the real env's place: the env's random state before the current episode's reset and that episode's
actions so far, replayed on load (gymnasium envs are deterministic given both). ``Dyna.load(path)``
then ``learn(total)`` ends where an uninterrupted run would, on the same device.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.logger import configure
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from genrl.errors import CheckpointError, InputError
from genrl.gail.sb3 import learner_state, restore_learner
from genrl.io import load_checkpoint, restoring, save_checkpoint
from genrl.policies import LayerNormSACPolicy
from genrl.rollout import rollout
from genrl.schedules import linear_int_schedule
from genrl.training import Callback, Row, capture_rng, restore_rng, run
from genrl.transitions import FIELDS, TransitionBuffer, Transitions
from genrl.validation import check_count
from genrl.worldmodel.evaluate import model_energy_score
from genrl.worldmodel.model_env import BatchedModelEnv, TransitionFn
from genrl.worldmodel.models import WorldModel
from genrl.worldmodel.rewards import transition_fn, transition_fn_name

_LOSSES = ("critic_loss", "actor_loss")
SAC_BASELINE: dict[str, Any] = {"updates_per_step": 1, "critic_layer_norm": False, "target_entropy": None}
"""The changes that make a :class:`DynaConfig` model-free SAC with SB3's own settings (one update per
real step, SB3's critics and entropy target), on that config's start and evaluation grid."""


@dataclass
class DynaConfig:
    """Settings of :class:`Dyna`; steps are real env steps."""

    start_steps: int = 200
    """random real steps before the policy acts, and before the first fit and SAC update"""
    model_every: int = 250
    model_fit_steps: int = 2000
    """the most steps of each refit"""
    model_early_stopping: bool = True
    """end each refit once its held-out score stops improving, on its best weights
    (:class:`~genrl.worldmodel.fitting.EarlyStopping`'s defaults, as MBPO trains its model)"""
    rollouts: int = 400
    """imagined rollouts branched per real step"""
    rollout_length: int = 1
    rollout_schedule: tuple[int, int, int, int] | None = None
    """``(first step, last step, shortest, longest)``: the rollout length grows linearly from shortest
    to longest between those real steps (MBPO's Hopper: 20k, 100k, 1, 15); None: ``rollout_length``"""
    updates_per_step: int = 10
    batch_size: int = 256
    buffer_size: int = 200_000
    """model transitions kept (MBPO keeps about one epoch's rollouts)"""
    real_ratio: float = 0.1
    """fraction of each SAC batch drawn from the real transitions (MBPO's mix; the Pendulum
    measurements behind the default used 0.1, results page); 1 without a model"""
    target_entropy: float | None = None
    """SAC's entropy target (None: SB3's -dim(A); MBPO sets -0.05 for one-dimensional actions)"""
    tau: float = 0.005
    """SAC's target-network rate (SB3's default)"""
    critic_layer_norm: bool = True
    """LayerNorm in SAC's critics (:class:`~genrl.policies.LayerNormSACPolicy`); with it (and
    ``real_ratio`` 0.1) the Pendulum loop held its swing-up in 8 of 9 runs (true kernel, ensemble,
    GAN; 3 seeds each; results page)"""
    eval_every: int = 200
    eval_episodes: int = 3

    def rollout_length_at(self, step: int) -> int:
        """The imagined rollouts' length at real step ``step``."""
        if self.rollout_schedule is None:
            return self.rollout_length
        return linear_int_schedule(step, *self.rollout_schedule)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DynaConfig:
        """Inverse of ``asdict`` after a JSON round trip (which turns tuples into lists)."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known}
        return cls(**values)


class MixedReplayBuffer(ReplayBuffer):
    """SAC's buffer of model transitions; each sampled batch takes ``real_ratio`` of its rows from
    ``real`` (every real transition) once that holds any. Real rows are drawn, as SB3 draws its
    own, from NumPy's global random stream."""

    def __init__(self, *args: Any, real: TransitionBuffer, real_ratio: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.real, self.real_ratio = real, real_ratio
        box = cast(spaces.Box, self.action_space)
        self._low, self._high = box.low, box.high

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
        n_real = round(batch_size * self.real_ratio) if len(self.real) else 0
        model = super().sample(batch_size - n_real, env) if batch_size > n_real else None
        if not n_real:
            assert model is not None
            return model
        idx = np.random.randint(len(self.real), size=n_real)
        r = self.real
        act = 2.0 * (r.field("act")[idx] - self._low) / (self._high - self._low) - 1.0  # SB3's scale_action
        arrays = (
            r.field("obs")[idx],
            act,
            r.field("next_obs")[idx],
            r.field("terminated")[idx, None],
            r.field("rew")[idx, None],
        )
        real = ReplayBufferSamples(*(self.to_torch(a.astype(np.float32)) for a in arrays))
        if model is None:
            return real
        parts = [m if m is None or x is None else torch.cat([m, x]) for m, x in zip(model, real)]
        return ReplayBufferSamples(*parts)  # type: ignore[arg-type]  # discounts may be None


def _extend(
    buffer: ReplayBuffer, obs: np.ndarray, nxt: np.ndarray, act: np.ndarray, rew: np.ndarray, done: np.ndarray
) -> None:
    """Append a batch to an SB3 replay buffer (n_envs=1) without a Python loop per row."""
    n = len(obs)
    idx = (buffer.pos + np.arange(n)) % buffer.buffer_size
    buffer.observations[idx, 0] = obs
    buffer.next_observations[idx, 0] = nxt
    buffer.actions[idx, 0] = act
    buffer.rewards[idx, 0] = rew
    buffer.dones[idx, 0] = done
    buffer.timeouts[idx, 0] = False
    buffer.full = buffer.full or buffer.pos + n >= buffer.buffer_size
    buffer.pos = int((buffer.pos + n) % buffer.buffer_size)


def evaluate(agent: SAC, env_id: str, episodes: int, seed: int) -> float:
    """Mean return of the deterministic policy over ``episodes`` real episodes (reset seeds ``seed + 10_000 + ep``)."""
    return rollout(agent, env_id, episodes, seed=seed + 10_000).mean_return


class Dyna:
    """Dyna/MBPO with SAC (see the module docstring); a :class:`~genrl.training.Trainable`.

    :param env_id: a gymnasium id with flat Box observations and a Box action space.
    :param model: a :class:`~genrl.worldmodel.models.WorldModel`, a
        :class:`~genrl.worldmodel.oracle.TrueKernel`, or ``None`` for model-free SAC.
    :param reward_fn, termination_fn: closed-form functions for imagining (see
        :mod:`genrl.worldmodel.rewards`); ``None``: the model's learned ones.
    """

    def __init__(
        self,
        env_id: str,
        model: Any,
        config: DynaConfig | None = None,
        reward_fn: TransitionFn | None = None,
        termination_fn: TransitionFn | None = None,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        c = self.config = config or DynaConfig()
        self.env_id, self.seed, self.model = env_id, seed, model
        self.reward_fn, self.termination_fn = reward_fn, termination_fn
        env = self.env = gym.make(env_id)
        if not isinstance(env.action_space, spaces.Box):
            raise InputError(f"Dyna/MBPO trains SAC, which needs a continuous (Box) action space; {env_id} has "
                             f"{env.action_space}")  # fmt: skip
        if not isinstance(env.observation_space, spaces.Box) or len(env.observation_space.shape) != 1:
            raise InputError(f"Dyna/MBPO needs flat Box observations; {env_id} has {env.observation_space}")
        self.agent = SAC(LayerNormSACPolicy if c.critic_layer_norm else "MlpPolicy", env, seed=seed, learning_starts=0,
                         buffer_size=c.buffer_size, verbose=0, device=device, tau=c.tau,
                         target_entropy="auto" if c.target_entropy is None else c.target_entropy)  # fmt: skip
        self.agent.set_logger(configure(None, []))  # SAC records its losses there; genrl's run loop reads them
        obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
        self.real = TransitionBuffer(obs_dim, act_dim)
        self.agent.replay_buffer = MixedReplayBuffer(
            c.buffer_size if model is not None else 1, env.observation_space, env.action_space, device=self.agent.device,
            n_envs=1, real=self.real, real_ratio=c.real_ratio if model is not None else 1.0)  # fmt: skip
        if isinstance(model, WorldModel):
            model.to(self.agent.device)
        self.sim = None if model is None else BatchedModelEnv(model, reward_fn, termination_fn)
        env.action_space.seed(seed)
        self.rng = np.random.default_rng(seed)
        self.history: list[Row] = []
        self.episode_returns: list[float] = []
        self.fitted_upto = 0
        self.unseen_score: float | None = None
        self.phase_seconds = {"fit_s": 0.0, "imagine_s": 0.0, "sac_s": 0.0}
        """where the training time went, in all (logged with each row)"""
        self._episode: dict[str, Any] = {}
        self._new_episode(reset_seed=seed)

    # ------------------------------------------------------------------ the real env
    def _new_episode(self, reset_seed: int | None = None) -> None:
        """Reset the real env, remembering what replays the episode on resume: its first real
        step and the env's random state before this reset."""
        before = None if reset_seed is not None else json.dumps(self.env.unwrapped.np_random.bit_generator.state)
        self._episode = {"start": len(self.real), "reset_seed": reset_seed, "np_random": before, "return": 0.0}
        self.obs = self.env.reset(seed=reset_seed)[0]

    def _replay_episode(self, episode: dict[str, Any], obs: np.ndarray) -> None:
        """Put the real env back where a checkpoint left it: reset as that episode was, then its actions."""
        if episode["np_random"] is not None:
            self.env.unwrapped.np_random.bit_generator.state = json.loads(episode["np_random"])
        self._episode = dict(episode)
        self.obs = self.env.reset(seed=episode["reset_seed"])[0]
        for act in self.real.field("act")[episode["start"] :]:
            self.obs = self.env.step(act)[0]
        if not np.array_equal(np.asarray(self.obs, dtype=np.float32), obs):
            raise CheckpointError(f"{self.env_id} did not replay to the checkpoint's state from its seed and actions "
                                  "(a non-deterministic env cannot be resumed exactly)")  # fmt: skip

    # ------------------------------------------------------------------ training
    @property
    def step_count(self) -> int:
        """Real env steps taken (the run loop's step count)."""
        return len(self.real)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One real step, then (from ``start_steps`` on) the due model fit, the imagined rollouts and
        the SAC updates. Returns SAC's losses from this step's updates (0 before the first)."""
        c, agent, t = self.config, self.agent, len(self.real) + 1
        act = self.env.action_space.sample() if t <= c.start_steps else agent.predict(self.obs, deterministic=False)[0]
        nxt, r, term, trunc, _ = self.env.step(act)
        self.real.add(self.obs, act, nxt, float(r), term, trunc)
        self._episode["return"] += float(r)
        if term or trunc:
            self.episode_returns.append(self._episode["return"])
            self._new_episode()
        else:
            self.obs = nxt
        agent.num_timesteps = t
        if t < c.start_steps:
            return {k: torch.zeros(()) for k in _LOSSES}
        clock = time.perf_counter()
        if self.sim is not None:
            if (t - c.start_steps) % c.model_every == 0:
                self._fit_model(t)
            clock = self._lap("fit_s", clock)
            start = self.real.field("obs")[self.rng.integers(t, size=c.rollouts)]
            self._imagine(start, c.rollout_length_at(t))
            clock = self._lap("imagine_s", clock)
        agent.train(gradient_steps=c.updates_per_step, batch_size=c.batch_size)
        self._lap("sac_s", clock)
        logged = agent.logger.name_to_value
        return {k: torch.tensor(float(logged[f"train/{k}"])) for k in _LOSSES}

    def _lap(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phase_seconds[phase] += now - since
        return now

    def _fit_model(self, t: int) -> None:
        model = self.model
        if self.fitted_upto and isinstance(model, WorldModel):  # not a true kernel: its draws have their own stream
            with torch.random.fork_rng():  # scored without moving torch's global stream
                self.unseen_score = model_energy_score(model, self.real.transitions(self.fitted_upto))
        c = self.config
        model.fit(self.real.transitions(), steps=c.model_fit_steps, device=str(self.agent.device),
                  early_stopping=c.model_early_stopping)  # fmt: skip
        self.fitted_upto = t

    def _imagine(self, start: np.ndarray, length: int) -> None:
        """Branch rollouts of ``length`` model steps from real states into the agent's replay buffer."""
        assert self.sim is not None
        agent = self.agent
        for _ in range(length):
            a = agent.predict(start, deterministic=False)[0]
            self.sim.reset(start)
            s2, rew, done = (x.cpu().numpy() for x in self.sim.step(a))
            _extend(cast(ReplayBuffer, agent.replay_buffer), start, s2, agent.policy.scale_action(a), rew, done)
            start = s2[~done]
            if not len(start):
                return

    def summary(self) -> dict[str, float]:
        """Logged with each row: the deterministic policy's mean return on ``eval_episodes`` real
        episodes (``return_mean``), the mean of the last 10 training episodes' returns, SAC's state
        (:func:`sac_state`), the seconds spent so far fitting the model, imagining and updating SAC
        (``fit_s``, ``imagine_s``, ``sac_s``), the last refit's steps and held-out score (``last_fit_steps``,
        ``last_fit_holdout_energy_score``) and, from the second fit on, ``model_energy_score_unseen``: the model's
        energy score on the real transitions gathered between its last two fits, before it trained on them."""
        c = self.config
        row = {"return_mean": evaluate(self.agent, self.env_id, c.eval_episodes, self.seed),
               **sac_state(self.agent, self.real.field("obs")[-256:])}  # fmt: skip
        row.update(self.phase_seconds)
        if self.episode_returns:
            row["train_return"] = float(np.mean(self.episode_returns[-10:]))
        if self.unseen_score is not None:
            row["model_energy_score_unseen"] = self.unseen_score
        if isinstance(self.model, WorldModel) and self.model.history:
            last = self.model.history[-1]
            row["last_fit_steps"] = float(self.model.step_count)
            if "holdout_energy_score" in last:
                row["last_fit_holdout_energy_score"] = last["holdout_energy_score"]
        return row

    def learn(self, total_steps: int, progress: bool = False, callback: Callback | None = None,
              tensorboard_dir: str | Path | None = None, checkpoint_path: str | Path | None = None,
              checkpoint_every: int = 0) -> Dyna:  # fmt: skip
        """Train until ``total_steps`` real steps in all (continues across calls and after :meth:`load`);
        a row every ``eval_every`` real steps; checkpoints every ``checkpoint_every`` real steps and at the end."""
        name = "SAC" if self.model is None else f"Dyna-SAC ({getattr(self.model, 'kind', type(self.model).__name__)})"
        run(self, check_count(total_steps, "total_steps", minimum=0), log_every=self.config.eval_every, progress=progress,
            desc=name, tensorboard_dir=tensorboard_dir, checkpoint_path=checkpoint_path, checkpoint_every=checkpoint_every,
            callback=callback, what=name)  # fmt: skip
        return self

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        """Everything needed to continue the run exactly (see the module docstring)."""
        space = self.env.action_space
        return {
            "kind": "Dyna",
            "env_id": self.env_id,
            "seed": self.seed,
            "config": asdict(self.config),
            "model_kind": "none" if self.model is None else "world_model" if isinstance(self.model, WorldModel) else "own",
            "model": self.model._state() if isinstance(self.model, WorldModel) else None,
            "reward_fn": transition_fn_name(self.reward_fn),
            "termination_fn": transition_fn_name(self.termination_fn),
            "agent": learner_state(self.agent),
            "real": {k: torch.from_numpy(self.real.field(k).copy()) for k in FIELDS},
            "episode": self._episode,
            "obs": torch.from_numpy(np.asarray(self.obs, dtype=np.float32)),
            "action_space_rng": json.dumps(space.np_random.bit_generator.state),
            "episode_returns": self.episode_returns,
            "fitted_upto": self.fitted_upto,
            "phase_seconds": self.phase_seconds,
            "unseen_score": self.unseen_score,
            "history": self.history,
            "rng": capture_rng(np_generator=self.rng),
        }

    def save(self, path: str | Path) -> Path:
        """Write the run to one atomic safetensors checkpoint (see :func:`genrl.io.save_checkpoint`)."""
        return save_checkpoint(path, self.state())

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", model: Any = None, reward_fn: TransitionFn | None = None,
             termination_fn: TransitionFn | None = None) -> Dyna:  # fmt: skip
        """Rebuild a run saved by :meth:`save`; ``learn(total)`` then continues it to ``total`` real steps.

        The world model, and reward/termination functions from :mod:`genrl.worldmodel.rewards`, are
        restored from the file; a run on a model of your own (e.g. a ``TrueKernel``) or with your own
        functions needs them passed again.
        """
        s = load_checkpoint(path, kind="Dyna")
        with restoring(path):
            if s["model_kind"] == "world_model":
                model = WorldModel.from_state(s["model"])
            elif s["model_kind"] == "own" and model is None:
                raise InputError(f"{str(path)!r} holds a Dyna run on a model of its own; pass it to load as model=")
            fns = []
            for key, given in (("reward_fn", reward_fn), ("termination_fn", termination_fn)):
                if given is None and s[key] == "custom":
                    raise InputError(f"{str(path)!r} holds a Dyna run with its own {key}; pass it to load")
                fns.append(given if given is not None else transition_fn(s[key]))
            dyna = cls(s["env_id"], None if s["model_kind"] == "none" else model, DynaConfig.from_dict(s["config"]),
                       fns[0], fns[1], seed=s["seed"], device=device)  # fmt: skip
            restore_learner(dyna.agent, s["agent"], dyna.agent.device)
            dyna.real.extend(Transitions(**{k: v.numpy() for k, v in s["real"].items()}))
            dyna._replay_episode(s["episode"], s["obs"].numpy())
            dyna.env.action_space.np_random.bit_generator.state = json.loads(s["action_space_rng"])
            dyna.episode_returns = list(s["episode_returns"])
            dyna.fitted_upto, dyna.unseen_score = s["fitted_upto"], s["unseen_score"]
            dyna.phase_seconds = dict(s.get("phase_seconds", dyna.phase_seconds))  # absent before session 20's timers
            dyna.history = list(s["history"])
            restore_rng(s["rng"], np_generator=dyna.rng)
        return dyna


@torch.no_grad()
def sac_state(agent: SAC, obs: np.ndarray) -> dict[str, float]:
    """SAC's entropy coefficient and, on states ``obs (B, d_obs)``, its policy's mean action spread
    (std of the squashed Gaussian's pre-tanh actions) and the critics' mean value of the
    deterministic action: what a collapse of the loop changes, read without drawing randomness."""
    x = torch.as_tensor(obs, dtype=torch.float32, device=agent.device)
    _, log_std, _ = agent.actor.get_action_dist_params(x)
    q = torch.cat(agent.critic(x, agent.actor(x, deterministic=True)), dim=1).min(dim=1).values
    ent_coef = torch.exp(agent.log_ent_coef).item() if agent.log_ent_coef is not None else float(agent.ent_coef)
    return {"ent_coef": ent_coef, "policy_std": log_std.exp().mean().item(), "q_mean": q.mean().item()}


def dyna_sac(
    env_id: str,
    model: Any,
    steps: int,
    config: DynaConfig | None = None,
    reward_fn: TransitionFn | None = None,
    termination_fn: TransitionFn | None = None,
    seed: int = 0,
    device: str = "auto",
    callback: Callable[[Dyna, Row], bool | None] | None = None,
) -> tuple[SAC, list[Row]]:
    """:class:`Dyna` trained for ``steps`` real steps: the agent and its rows (``step``: real steps)."""
    dyna = Dyna(env_id, model, config, reward_fn, termination_fn, seed=seed, device=device).learn(steps, callback=callback)
    return dyna.agent, dyna.history


def model_free_sac(env_id: str, steps: int, eval_every: int, seed: int = 0, device: str = "auto") -> list[Row]:
    """The model-free baseline in the same loop: SB3 SAC with its own settings (one update per real
    step, SB3's critics, 200 random steps first), scored like :class:`Dyna` every ``eval_every`` real steps."""
    config = replace(DynaConfig(eval_every=eval_every), **SAC_BASELINE)
    return dyna_sac(env_id, None, steps, config, seed=seed, device=device)[1]
