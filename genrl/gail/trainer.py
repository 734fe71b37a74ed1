"""GAIL on stable-baselines3: a discriminator reward from demonstrations drives any SB3 learner.

:class:`GAIL` takes built parts, as imitation's adversarial trainers do: demonstrations, the
envs (a VecEnv), the learner (any SB3 ``BaseAlgorithm``) and the reward net.
:func:`make_gail` builds them from an env id and a few names (PPO, SAC or TD3 with genrl's settings).

Each round, top to bottom (:meth:`GAIL.train_step`):

1. the learner collects ``round_steps`` env steps in envs whose reward is the learned one
   (:class:`~genrl.gail.wrappers.RewardVecEnvWrapper`) and trains on them; the true env reward is
   kept for logging only, and the round's transitions are remembered
   (:class:`~genrl.gail.wrappers.TransitionWindow`);
2. the discriminator takes ``disc_updates`` steps of the core's adversarial update
   (:class:`~genrl.gan.update.AdversarialUpdate`: J(D) with optional one-sided label smoothing,
   gradient penalty and an entropy bonus) on demonstration (real) vs. policy (fake) rows: the
   recent ones, or (``disc_source="replay"``, DAC's way) the off-policy learner's whole replay buffer;
3. a progress row is logged: discriminator accuracy on *held-out* demonstrations and on recent
   policy transitions — a signal that needs no true reward (both near 50% when the policy is
   indistinguishable from the expert) — and the mean true return of the last 10 episodes.

An off-policy learner whose replay buffer is a :class:`~genrl.gail.sb3.RelabelingReplayBuffer`
(``make_gail(algo="sac")`` and ``"td3"`` build one) gets its rewards from the current discriminator at sample
time, so old transitions never carry stale rewards; with any other buffer the rewards are those
given at collection time.

Episodes that end by *termination* are handled with DAC's absorbing state (``absorbing=True``,
see :class:`~genrl.gail.reward.RewardNet`): demos and policy data both gain one absorbing row per
termination, repeated gamma / (1 - gamma) times (the discounted time spent there) when the
discriminator learns from the recent window, once when it learns from the replay buffer, so the
discriminator learns what ending an episode is worth. An off-policy learner stores the absorbing
transitions in its replay buffer, as terminations whose relabelled rewards carry the absorbing
state's value in closed form, ``r(absorbing) / (1 - gamma)`` (:mod:`genrl.gail.absorbing`; with
``absorbing_backup="td"``, the learned V below instead); an on-policy one gets ``gamma * V`` in
the reward of a terminal step, where V, the absorbing state's value, starts at 0 and takes one TD
backup through the absorbing self-loop per round (``V <- r(absorbing) + gamma * V``), as a critic
would learn it — not the instant
``r(absorbing) / (1 - gamma)``, which multiplied the untrained discriminator's opinion by 49 and
made PPO end CartPole episodes on purpose. Time-limit truncations are not terminations and get no
absorbing row.

``save``/``load`` checkpoint everything a run needs to continue (reward net and its optimizer,
SB3 policy and optimizers, SAC's replay buffer and entropy coefficient, reward normalisation,
RNG states, demos, history) in one safetensors file; nothing is unpickled. A resumed run starts
fresh episodes (env internals are not saved) but keeps its step count and learning curve.
"""

from __future__ import annotations

import copy
import json
from functools import partial
from pathlib import Path
from typing import Any, Literal, cast

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from genrl.errors import InputError
from genrl.gail.absorbing import AbsorbingFlag, AbsorbingReplayBuffer, add_flag, stored_rows
from genrl.gail.demos import check_demos
from genrl.gail.presets import gail_preset
from genrl.gail.reward import RewardNet
from genrl.gail.sb3 import (
    RelabelingReplayBuffer,
    deterministic_action,
    learner_state,
    replay_buffer,
    replay_rows,
    restore_learner,
)
from genrl.gail.wrappers import WINDOW_FIELDS, RewardFn, RewardVecEnvWrapper, ScaledReward, TransitionWindow
from genrl.gan.losses import get_loss
from genrl.gan.update import AdversarialUpdate
from genrl.gan.update import entropy_bonus as entropy_bonus_cost
from genrl.io import load_checkpoint, restoring, save_checkpoint
from genrl.rollout import make_env
from genrl.training import Callback, Row, capture_rng, restore_rng, run
from genrl.transitions import FIELDS, Transitions
from genrl.utils import resolve_device
from genrl.validation import check_count


class GAIL:
    """Generative adversarial imitation learning with any SB3 learner.

    :param demos: expert transitions (checked against the envs' spaces).
    :param venv: the envs the learner acts in; GAIL wraps them (learned reward, transition window)
        and hands the wrapped envs to ``learner`` (``set_env``).
    :param learner: any SB3 algorithm built for envs with ``venv``'s spaces.
    :param reward_net: the discriminator, and the reward computed from its logit.
    :param disc_lr: the discriminator's Adam learning rate.
    :param disc_updates: discriminator steps per round; :param disc_batch: demo (and policy) rows per step.
    :param gradient_penalty: WGAN-GP weight on the discriminator; :param label_smoothing: one-sided.
    :param entropy_bonus: weight of the discriminator's mean binary entropy, subtracted from its cost.
    :param normalize_reward: divide the learned reward by its running std (on-policy learners; a
        relabelling replay buffer recomputes rewards at sample time, unscaled).
    :param round_steps: env steps per round (default: one rollout, ``n_steps * n_envs``, for an
        on-policy learner; 1000 otherwise).
    :param holdout: fraction of demos held out for the discriminator-accuracy progress signal.
    :param disc_source: where the discriminator's policy rows come from: ``"recent"``, the last
        ``max(2 * round_steps, disc_batch)`` transitions; ``"replay"`` (off-policy learners), the
        learner's replay buffer, as DAC trains it — rows of old policies too, and the absorbing
        transitions of every termination still in it, once each (demos' absorbing rows once each as well).
    :param demo_fraction: off-policy learners with a relabelling replay buffer: the fraction of
        each of the learner's minibatches drawn from the (training) demonstrations, relabelled by
        the discriminator like the learner's own rows, so the critic learns what the expert's
        actions are worth where the expert takes them (as SQIL and DQfD mix them in); 0 (default): none.
    :param absorbing_backup: how rewards relabelled at sample time (off-policy learners) value the
        absorbing state a termination leads into: ``"closed_form"`` (default), ``r(absorbing) / (1 - gamma)``
        under the current discriminator; ``"td"``, the value learned one backup per round from 0,
        as the on-policy path always does (an early discriminator's opinion then weighs little).
    :param seed: seeds the demo split and the discriminator's minibatches.
    """

    def __init__(
        self,
        demos: Transitions,
        venv: VecEnv,
        learner: BaseAlgorithm,
        reward_net: RewardNet,
        *,
        disc_lr: float = 3e-4,
        disc_updates: int = 4,
        disc_batch: int = 256,
        gradient_penalty: float = 0.0,
        label_smoothing: float = 0.0,
        entropy_bonus: float = 0.0,
        normalize_reward: bool = True,
        round_steps: int | None = None,
        holdout: float = 0.2,
        disc_source: Literal["recent", "replay"] = "recent",
        demo_fraction: float = 0.0,
        absorbing_backup: Literal["closed_form", "td"] = "closed_form",
        seed: int = 0,
    ) -> None:
        self.config = {k: v for k, v in locals().items() if k not in ("self", "demos", "venv", "learner", "reward_net")}
        self.factory: dict[str, Any] | None = None  # make_gail's arguments, when it built this run
        self.flagged = isinstance(venv, AbsorbingFlag)  # the learner's observations end in the absorbing flag
        check_demos(demos, cast(AbsorbingFlag, venv).venv if self.flagged else venv)
        if isinstance(replay_buffer(learner), AbsorbingReplayBuffer) and not (self.flagged and reward_net.absorbing):
            raise InputError("an AbsorbingReplayBuffer needs a reward net with absorbing=True and the venv wrapped in "
                             "AbsorbingFlag (the learner built on the wrapped venv)")  # fmt: skip
        if disc_source not in ("recent", "replay"):
            raise InputError(f"disc_source must be 'recent' or 'replay', got {disc_source!r}")
        if disc_source == "replay" and replay_buffer(learner) is None:
            raise InputError(f"disc_source='replay' needs an off-policy learner, got {type(learner).__name__}")
        self.disc_source = disc_source
        if absorbing_backup not in ("closed_form", "td"):
            raise InputError(f"absorbing_backup must be 'closed_form' or 'td', got {absorbing_backup!r}")
        self.absorbing_backup = absorbing_backup
        self.demos, self.seed, self.reward_net, self.learner = demos, seed, reward_net, learner
        self.device = reward_net.obs_mean.device
        self.train_demos, self.heldout_demos = demos.split(holdout, seed=seed) if holdout else (demos, demos)
        self.disc_opt = torch.optim.Adam(reward_net.parameters(), lr=disc_lr)
        self.disc_updates, self.disc_batch = disc_updates, disc_batch
        # The discriminator half of the core's game: demos are real, policy transitions fake.
        self.update = AdversarialUpdate(reward_net.D, self.disc_opt, get_loss("non_saturating"),
                                        label_smoothing=label_smoothing, gradient_penalty=gradient_penalty,
                                        d_costs=[entropy_bonus_cost(entropy_bonus)] if entropy_bonus else [])  # fmt: skip
        self._learner_callback: MaybeCallback = None
        self.rng = np.random.default_rng(seed)
        on_policy = isinstance(learner, OnPolicyAlgorithm)
        rollout = cast(OnPolicyAlgorithm, learner).n_steps * venv.num_envs if on_policy else 1000
        self.round_steps = round_steps or rollout
        self.window = TransitionWindow(venv, capacity=max(2 * self.round_steps, disc_batch))
        reward: RewardFn = partial(self._reward, scale_actions=False)
        self.scaled = ScaledReward(reward) if normalize_reward and on_policy else None
        self.venv = RewardVecEnvWrapper(self.window, self.scaled or reward)
        learner.set_env(self.venv)
        buffer = replay_buffer(learner)
        if isinstance(buffer, RelabelingReplayBuffer):
            buffer.reward_fn = partial(self._reward, scale_actions=True, relabelled=True)
        if not 0.0 <= demo_fraction < 1.0:
            raise InputError(f"demo_fraction must be in [0, 1), got {demo_fraction}")
        if demo_fraction:
            if not isinstance(buffer, RelabelingReplayBuffer):
                raise InputError("demo_fraction needs an off-policy learner with a relabelling replay buffer "
                                 "(make_gail's SAC and TD3 have one)")  # fmt: skip
            d = self.train_demos
            scaled = cast(Any, learner.policy).scale_action(d.act.astype(np.float32))
            buffer.demo_rows = stored_rows(d.obs.astype(np.float32), scaled, d.next_obs.astype(np.float32),
                                           d.terminated, absorbing=isinstance(buffer, AbsorbingReplayBuffer))  # fmt: skip
            buffer.demo_fraction = demo_fraction
        # A termination's absorbing state stands for the gamma / (1 - gamma) discounted steps spent
        # there, so the discriminator sees it that often in the recent window; one row per
        # termination there left it valuing the absorbing state like the demos' mean state, and
        # learners ended episodes on purpose. A replay buffer keeps every termination's row for
        # long, so it holds each once, as DAC's does (with a gradient penalty, the flag then needs
        # a larger absorbing_scale: see RewardNet).
        gamma = float(learner.gamma)  # type: ignore[attr-defined]
        repeat = reward_net.absorbing and disc_source == "recent"
        self.absorbing_repeats = max(1, round(gamma / (1.0 - gamma))) if repeat else 1
        self.absorbing_value = 0.0  # learned by TD through the absorbing self-loop, one backup per round
        # Demo inputs are fixed (the standardisation is the demos' own), so build them once.
        self.demo_x = self._transition_inputs(self.train_demos, self.absorbing_repeats)
        self.heldout_x = self._transition_inputs(self.heldout_demos)
        self.history: list[Row] = []

    def _reward(self, obs: np.ndarray, act: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray,
                scale_actions: bool, relabelled: bool = False) -> np.ndarray:  # fmt: skip
        """The learned reward at the learner's discount; a replay buffer stores Box actions scaled to [-1, 1].

        Rewards relabelled at sample time use the absorbing state's value in closed form,
        ``r(absorbing) / (1 - gamma)`` (with ``absorbing_backup="closed_form"``): always the current
        discriminator's, so no stale opinion of it is baked into a rollout (the reason the on-policy
        path learns V slowly instead)."""
        if scale_actions:
            act = self._unscale(act)
        gamma = self.learner.gamma  # type: ignore[attr-defined]
        value = None if relabelled and self.absorbing_backup == "closed_form" else self.absorbing_value
        return self.reward_net.reward(obs, act, next_obs, terminated, gamma, absorbing_value=value)

    def _unscale(self, act: np.ndarray) -> np.ndarray:
        """Box actions as a replay buffer stores them, in [-1, 1] -> the env's range."""
        if not isinstance(self.learner.action_space, spaces.Box):
            return act
        low, high = self.learner.action_space.low, self.learner.action_space.high
        return low + (act + 1.0) * 0.5 * (high - low)

    def _policy_inputs(self) -> torch.Tensor:
        """The discriminator's fake rows for this round (see ``disc_source``)."""
        if self.disc_source == "recent":
            return self.reward_net.transition_inputs(*self.window.recent(), repeats=self.absorbing_repeats)
        buffer = cast(RelabelingReplayBuffer, replay_buffer(self.learner))
        obs, act, next_obs, terminated = replay_rows(buffer, self.disc_updates * self.disc_batch, self.rng)
        # DAC's buffer holds its absorbing rows already: its terminations are those rows themselves.
        explicit = isinstance(buffer, AbsorbingReplayBuffer)
        return self.reward_net.transition_inputs(obs, self._unscale(act), next_obs, None if explicit else terminated)

    def _transition_inputs(self, d: Transitions, repeats: int = 1) -> torch.Tensor:
        return self.reward_net.transition_inputs(d.obs, d.act, d.next_obs, d.terminated, repeats)

    # ------------------------------------------------------------------ pieces of a round
    def _disc_step(self, policy_x: torch.Tensor) -> torch.Tensor:
        """One discriminator update on demo (real) vs policy (fake) rows; returns its detached cost."""
        real = self.demo_x[torch.as_tensor(self.rng.integers(len(self.demo_x), size=self.disc_batch))]
        fake = policy_x[torch.as_tensor(self.rng.integers(len(policy_x), size=self.disc_batch))]
        loss, _ = self.update.discriminator_loss(real, fake)
        self.update.step_discriminator(loss)
        return loss.detach()

    @torch.no_grad()
    def discriminator_accuracy(self) -> tuple[float, float]:
        """(fraction of held-out demos judged expert, fraction of recent policy transitions judged policy)."""
        net = self.reward_net
        acc_demo = float((net(self.heldout_x) > 0).float().mean())
        acc_policy = float((net(net.transition_inputs(*self.window.recent())) < 0).float().mean())
        return acc_demo, acc_policy

    def predict(self, obs: Any, state: Any = None, episode_start: Any = None, deterministic: bool = False) -> Any:
        """The learner's ``predict`` on the env's own observations (the absorbing flag, when the
        learner's observations carry one, is appended here), so ``rollout(gail, env)`` works."""
        if self.flagged:
            obs = add_flag(obs)
        return self.learner.predict(obs, state, episode_start, deterministic)

    # ------------------------------------------------------------------ training
    @property
    def step_count(self) -> int:
        """Env steps taken by the learner (the run loop's step count)."""
        return self.learner.num_timesteps

    def train_step(self) -> dict[str, torch.Tensor]:
        """One round: the learner collects and trains on ``round_steps`` env steps under the learned
        reward, then the discriminator takes ``disc_updates`` steps on demos against policy rows
        (``disc_source``: the recent window or the learner's replay buffer)."""
        self.learner.learn(self.round_steps, reset_num_timesteps=False, callback=self._learner_callback)
        policy_x = self._policy_inputs()
        loss = torch.stack([self._disc_step(policy_x) for _ in range(self.disc_updates)]).mean()
        if self.reward_net.absorbing:
            gamma = self.learner.gamma  # type: ignore[attr-defined]
            self.absorbing_value = self.reward_net.absorbing_reward() + gamma * self.absorbing_value
        return {"disc_loss": loss}

    def summary(self) -> dict[str, float]:
        """Logged with each round: held-out discriminator accuracy (the progress signal that needs no
        true reward), the mean learned reward of the recent policy steps (``reward_policy``) and,
        with absorbing states, of the absorbing state (``reward_absorbing``: ending an episode is
        worth it forever), and the mean true return of the last 10 episodes (NaN before the first ends)."""
        acc_demo, acc_policy = self.discriminator_accuracy()
        obs, act, next_obs, _ = self.window.recent()
        row = {"disc_acc_demo_heldout": acc_demo, "disc_acc_policy": acc_policy,
               "reward_policy": float(self.reward_net.reward(obs, act, next_obs).mean())}  # fmt: skip
        if self.reward_net.absorbing:
            row["reward_absorbing"] = self.reward_net.absorbing_reward()
        returns = self.window.episode_returns[-10:]
        return {**row, "return_mean": float(np.mean(returns)) if returns else float("nan")}

    def learn(self, total_steps: int, progress: bool = False, callback: Callback | None = None,
              tensorboard_dir: str | Path | None = None, checkpoint_path: str | Path | None = None,
              checkpoint_every: int = 0, learner_callback: MaybeCallback = None) -> GAIL:  # fmt: skip
        """Train until the learner has taken ``total_steps`` env steps (continues across calls and
        after :meth:`load`).

        The loop is :func:`genrl.training.run`, one row per round (``step`` counts env steps):
        checkpoints every ``checkpoint_every`` env steps (at round ends) and at the end,
        ``callback(gail, row)`` after each round (``False`` stops), and a non-finite discriminator
        loss stops the run with :class:`~genrl.errors.DivergenceError`, the last checkpoint untouched.

        :param learner_callback: SB3 callback(s) for the learner's own ``learn`` calls, e.g.
            ``EvalCallback`` or ``CheckpointCallback`` (they count the learner's steps across rounds).
        """
        self._learner_callback = learner_callback
        run(self, check_count(total_steps, "total_steps", minimum=0), log_every=1, progress=progress,
            desc=f"GAIL-{type(self.learner).__name__}", tensorboard_dir=tensorboard_dir, checkpoint_path=checkpoint_path,
            checkpoint_every=checkpoint_every, callback=callback, what="GAIL")  # fmt: skip
        return self

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        """Everything needed to continue the run (see the module docstring)."""
        d = self.demos
        window = dict(zip(WINDOW_FIELDS, self.window.recent())) if len(self.window) else {}  # empty before a round
        return {
            "kind": "GAIL",
            "config": self.config,
            "factory": self.factory,
            "reward_net_spec": self.reward_net.spec(),
            "demos": {k: torch.from_numpy(np.ascontiguousarray(getattr(d, k))) for k in FIELDS},
            "demos_meta": json.dumps(d.meta),
            "reward_net": self.reward_net.state_dict(),
            "disc_opt": self.disc_opt.state_dict(),
            "learner": learner_state(self.learner),
            "reward_rms": None if self.scaled is None else [float(v) for v in (self.scaled.rms.mean, self.scaled.rms.var,
                                                                                self.scaled.rms.count)],
            "window": {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in window.items()},
            "episode_returns": self.window.episode_returns,
            "absorbing_value": self.absorbing_value,
            "history": self.history,
            "rng": capture_rng(np_generator=self.rng),  # SB3 draws minibatch order and replay samples from NumPy's
        }  # fmt: skip

    def save(self, path: str | Path) -> Path:
        """Write the run to one atomic safetensors checkpoint (see :func:`genrl.io.save_checkpoint`)."""
        return save_checkpoint(path, self.state())

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", venv: VecEnv | None = None,
             learner: BaseAlgorithm | None = None) -> GAIL:  # fmt: skip
        """Rebuild a run saved by :meth:`save`; ``learn(total)`` then continues it to ``total`` env steps.

        A run from :func:`make_gail` is rebuilt from its arguments; for one built from your own
        parts, pass ``venv`` and ``learner`` built the same way (their weights and buffers are restored).
        """
        s = load_checkpoint(path, kind="GAIL")
        with restoring(path):
            demos = Transitions(**{k: v.numpy() for k, v in s["demos"].items()}, meta=json.loads(s["demos_meta"]))
            if s["factory"] is not None:
                gail = make_gail(demos=demos, device=device, **dict(s["factory"], bc_epochs=0))
            elif venv is None or learner is None:
                raise InputError(f"{str(path)!r} holds a GAIL run built from its own venv and learner; pass them to load")
            else:
                reward_net = RewardNet(**s["reward_net_spec"]).to(resolve_device(device))
                gail = cls(demos, venv, learner, reward_net, **s["config"])
            gail.reward_net.load_state_dict(s["reward_net"])
            gail.disc_opt.load_state_dict(s["disc_opt"])
            restore_learner(gail.learner, s["learner"], gail.device)
            buffer = replay_buffer(gail.learner)
            if isinstance(buffer, AbsorbingReplayBuffer):
                buffer.end_absorbing_rows()  # checkpoints from before they were terminations
            if gail.scaled is not None and s["reward_rms"] is not None:
                rms = gail.scaled.rms
                rms.mean, rms.var, rms.count = (np.float64(v) for v in s["reward_rms"])
            n_envs = gail.window.num_envs
            rows = {k: v.numpy() for k, v in s["window"].items()}
            for i in range(0, len(rows.get("obs", ())), n_envs):  # one vectorised step at a time, as the window keeps them
                gail.window.add({k: v[i : i + n_envs] for k, v in rows.items()})
            gail.window.episode_returns = list(s["episode_returns"])
            gail.absorbing_value = float(s["absorbing_value"])
            gail.history = list(s["history"])
            restore_rng(s["rng"], np_generator=gail.rng)
            gail.venv.seed(gail.seed + gail.learner.num_timesteps)  # new episodes, not a replay of the run's first ones
        return gail


def make_gail(
    env_id: str,
    demos: Transitions,
    *,
    algo: Literal["ppo", "sac", "td3"] = "ppo",
    n_envs: int | None = None,
    subproc: bool = False,
    reward: str = "gail",
    use_next_obs: bool = False,
    absorbing: bool | Literal["auto"] = "auto",
    absorbing_scale: float | None = None,
    disc_hidden: tuple[int, ...] | None = None,
    round_steps: int | None = None,
    bc_epochs: int = 0,
    algo_kwargs: dict[str, Any] | None = None,
    preset: bool = True,
    seed: int = 0,
    device: str = "auto",
    **gail_kwargs: Any,
) -> GAIL:
    """A :class:`GAIL` run on ``env_id`` with genrl's defaults, built from names.

    :param algo: ``"ppo"`` (on-policy, vectorized; zoo-style CartPole settings), ``"sac"`` or
        ``"td3"`` (off-policy, with a relabelling replay buffer; TD3 with Gaussian action noise
        σ = 0.1). Dict observation spaces (of Box entries) work with PPO: the learner gets SB3's
        ``MultiInputPolicy``, the discriminator the flattened observation (:func:`genrl.spaces.flatten_obs`).
    :param n_envs: env copies for PPO (default 8; SAC and TD3 use 1); :param subproc: step them in worker processes
        (SB3 ``SubprocVecEnv``; pays off for envs slower than the inter-process round trip).
    :param reward: a name in :data:`genrl.gail.reward.REWARDS`: ``"gail"`` (-log(1-D)),
        ``"log_d"`` or ``"airl"`` (the logit).
    :param use_next_obs: the discriminator judges (s, a, s') instead of (s, a).
    :param absorbing: DAC absorbing states for terminated episodes (see the module docstring);
        ``"auto"`` (default): on exactly when the demonstrations contain a termination, i.e. when
        ending an episode is part of what the expert does. SAC and TD3 store the absorbing
        transitions in their replay buffer (:class:`~genrl.gail.absorbing.AbsorbingReplayBuffer`,
        the learner's observations carrying the flag); PPO gets the absorbing state's TD-learned
        value in the reward of a terminal step. Measured in ``experiments/gail_absorbing.py``
        (results page), on envs whose episodes end in failure and at a goal.
    :param absorbing_scale: the absorbing flag's value in the discriminator's input (default 1;
        see :class:`~genrl.gail.reward.RewardNet`; the MuJoCo presets, whose discriminators have a
        gradient penalty, use 10).
    :param disc_hidden: the discriminator's hidden widths (default 64, 64).
    :param round_steps: env steps per round (PPO: its rollout length times ``n_envs``; default 32
        per env; SAC: 1000).
    :param bc_epochs: behaviour-cloning epochs on the demos before adversarial training
        (:func:`behaviour_cloning`); with SAC or TD3, lower ``learning_starts`` in ``algo_kwargs``
        so that the cloned policy, not uniform random actions, collects the first steps.
    :param algo_kwargs: passed to the SB3 constructor (over genrl's defaults); JSON values only
        if the run is to be checkpointed.
    :param preset: start from the env's entry in :data:`genrl.gail.presets.GAIL_PRESETS` for
        ``algo`` (Hopper-v5 and HalfCheetah-v5 have one); arguments passed here win over it.
    :param gail_kwargs: the remaining :class:`GAIL` options (``disc_lr``, ``disc_updates``, ...).
    """
    entry = gail_preset(env_id, algo) if preset else {}
    algo_kwargs = {**entry.pop("algo_kwargs", {}), **(algo_kwargs or {})}
    n_envs = _first(n_envs, entry.pop("n_envs", None), 8)
    disc_hidden = tuple(_first(disc_hidden, entry.pop("disc_hidden", None), (64, 64)))
    absorbing_scale = _first(absorbing_scale, entry.pop("absorbing_scale", None), 1.0)
    round_steps = _first(round_steps, entry.pop("round_steps", None))
    gail_kwargs = {**entry, **gail_kwargs}
    # The resolved settings, so that a checkpoint rebuilds this run even if the table changes.
    factory = {k: v for k, v in locals().items() if k not in ("demos", "device", "gail_kwargs", "entry")}
    factory.update(gail_kwargs, disc_hidden=list(disc_hidden), preset=False)
    if algo not in ("ppo", "sac", "td3"):
        raise InputError(f"algo must be 'ppo', 'sac' or 'td3', got {algo!r}")
    env = gym.make(env_id)
    check_demos(demos, env)
    if absorbing == "auto":
        absorbing = bool(demos.terminated.any())
    discrete = isinstance(env.action_space, spaces.Discrete)
    if algo != "ppo" and discrete:
        raise InputError(f"algo={algo!r} needs a continuous (Box) action space")
    nested = isinstance(env.observation_space, spaces.Dict)  # the learner gets MultiInputPolicy
    if nested and (algo != "ppo" or bc_epochs):
        raise InputError("Dict observations are supported with algo='ppo' and no behaviour cloning")
    dev = resolve_device(device)
    act_dim = int(cast(spaces.Discrete, env.action_space).n) if discrete else demos.act.shape[1]
    torch.manual_seed(seed)
    reward_net = RewardNet(demos.obs.shape[1], act_dim, discrete, disc_hidden, reward, demos.obs.mean(0),
                           demos.obs.std(0) + 1e-6, use_next_obs, absorbing, absorbing_scale).to(dev)  # fmt: skip
    n_envs = n_envs if algo == "ppo" else 1
    venv = make_vec_env(partial(make_env, env_id), n_envs=n_envs, seed=seed,
                        vec_env_cls=SubprocVecEnv if subproc else DummyVecEnv)  # fmt: skip
    if algo == "ppo":  # one PPO rollout per round; zoo-style CartPole settings
        round_steps = round_steps or 32 * n_envs
        kwargs: dict[str, Any] = {"n_steps": max(1, round_steps // n_envs), "batch_size": 256, "gae_lambda": 0.8,
                                  "gamma": 0.98, "n_epochs": 20, "learning_rate": 1e-3}  # fmt: skip
    else:
        buffer = AbsorbingReplayBuffer if absorbing else RelabelingReplayBuffer
        kwargs = {"replay_buffer_class": buffer, "learning_rate": 1e-3, "learning_starts": 500}
        round_steps = round_steps or 1000
        if absorbing:  # with 4 steps per 1000-step round the discriminator never learned that the
            # absorbing state is the learner's alone, and SAC ended InvertedPendulum episodes at once;
            # without absorbing states that many steps overpower it (Pendulum-v1: 0.15 at 50k, not 0.97)
            gail_kwargs.setdefault("disc_updates", max(4, round_steps // 10))
        if algo == "td3":  # rl-zoo3's exploration noise for TD3 on MuJoCo
            n = demos.act.shape[1]
            kwargs["action_noise"] = NormalActionNoise(np.zeros(n), 0.1 * np.ones(n))
    algo_kwargs = copy.deepcopy(algo_kwargs)  # SB3 writes into policy_kwargs; the caller's dict stays as given
    if algo_kwargs.get("optimize_memory_usage"):
        raise InputError("optimize_memory_usage is not supported: relabelling needs the stored next observations")
    kwargs.update(algo_kwargs)
    if kwargs.get("replay_buffer_class") is AbsorbingReplayBuffer:  # the learner sees the absorbing flag
        if not absorbing:
            raise InputError("an AbsorbingReplayBuffer needs absorbing=True")
        venv = AbsorbingFlag(venv)
    learner_cls = {"ppo": PPO, "sac": SAC, "td3": TD3}[algo]
    policy = "MultiInputPolicy" if nested else "MlpPolicy"
    learner = learner_cls(policy, venv, seed=seed, device=dev, verbose=0, **kwargs)
    gail = GAIL(demos, venv, learner, reward_net, round_steps=round_steps, seed=seed, **gail_kwargs)
    gail.factory = factory
    if bc_epochs:
        behaviour_cloning(learner, gail.train_demos, bc_epochs)
    return gail


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def behaviour_cloning(learner: BaseAlgorithm, demos: Transitions, epochs: int, batch_size: int = 64) -> None:
    """Fit the learner's policy to the demos' actions (a warm start).

    PPO (any on-policy learner): maximum likelihood. SAC and TD3: mean squared error between the
    actor's deterministic action and the demo action, both in SB3's [-1, 1] scale (SAC's noise scale
    is left to its entropy target; TD3's target actor is set to the result). A learner whose
    observations carry the absorbing flag (:class:`~genrl.gail.absorbing.AbsorbingFlag`) is fed
    the demos' observations with the flag 0 appended.
    """
    pol, dev = learner.policy, learner.device
    obs_np = demos.obs.astype(np.float32)
    space = learner.observation_space
    if isinstance(space, spaces.Box) and space.shape[-1] == obs_np.shape[-1] + 1:  # the flag is the one extra feature
        obs_np = add_flag(obs_np)
    obs = torch.as_tensor(obs_np, device=dev)
    on_policy = isinstance(learner, OnPolicyAlgorithm)
    act_np = demos.act if on_policy else cast(Any, pol).scale_action(demos.act.astype(np.float32))
    act = torch.as_tensor(act_np, device=dev)
    act = act[:, 0].long() if isinstance(learner.action_space, spaces.Discrete) else act
    actor = pol if on_policy else cast(Any, learner).actor
    opt = torch.optim.Adam(actor.parameters(), lr=1e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(obs), device=dev).split(batch_size):
            if on_policy:
                loss = -cast(Any, pol).evaluate_actions(obs[idx], act[idx])[1].mean()
            else:
                loss = ((deterministic_action(learner, obs[idx]) - act[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    if isinstance(learner, TD3):
        learner.actor_target.load_state_dict(learner.actor.state_dict())
