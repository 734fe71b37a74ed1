"""GAIL on stable-baselines3: a discriminator reward from demonstrations drives any SB3 learner.

Each round, top to bottom:

1. the generator (PPO by default, or SAC) collects ``round_steps`` env steps in vectorized envs
   whose reward is replaced by the learned reward (:class:`LearnedRewardVecEnv`) and trains on
   them; the true env reward is kept for logging only;
2. the discriminator takes ``disc_updates`` steps of the core's J(D) (with optional one-sided
   label smoothing, gradient penalty and an entropy bonus) on demonstration (real) vs. recent
   policy (fake) pairs;
3. a progress row is logged: discriminator accuracy on *held-out* demonstrations and on fresh
   policy transitions — a signal that needs no true reward (both near 50% when the policy is
   indistinguishable from the expert) — and the mean true return of the round's episodes.

With SAC, the replay buffer relabels rewards with the current discriminator at sample time
(:class:`RelabelingReplayBuffer`), so old transitions never carry stale rewards.

Episodes that end by *termination* are handled with DAC's absorbing state (``absorbing=True``,
see :class:`~genrl.gail.reward.RewardNet`): demos and policy data both gain one absorbing row per
termination, and the learner's reward for a terminal step includes the value of the absorbing
state, so variable-length episodes are neither refused nor silently biased. Time-limit
truncations are not terminations and get no absorbing row.

``save``/``load`` checkpoint everything a run needs to continue (reward net and its optimizer,
SB3 policy and optimizers, SAC's replay buffer and entropy coefficient, reward normalisation,
RNG states, demos, history) in one safetensors file; nothing is unpickled. A resumed run starts
fresh episodes (env internals are not saved) but keeps its step count and learning curve.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Literal, cast

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecEnvWrapper

from genrl.errors import InputError
from genrl.gail.demos import check_demos
from genrl.gail.reward import RewardNet
from genrl.gan.losses import get_loss
from genrl.gan.update import AdversarialUpdate
from genrl.gan.update import entropy_bonus as entropy_bonus_cost
from genrl.io import load_checkpoint, restoring, save_checkpoint
from genrl.rollout import make_env
from genrl.training import Callback, Row, capture_rng, restore_rng, run
from genrl.transitions import FIELDS, Transitions
from genrl.utils import resolve_device
from genrl.validation import check_count

_REPLAY_ARRAYS = ("observations", "actions", "next_observations", "rewards", "dones", "timeouts")


class LearnedRewardVecEnv(VecEnvWrapper):
    """Replaces the env reward with the learned one and remembers recent transitions for the discriminator.

    True episode returns (from the inner ``Monitor``) are collected in ``episode_returns``.
    ``gamma`` is the learner's discount (for the absorbing-state value of terminal steps).
    """

    def __init__(self, venv: VecEnv, reward_net: RewardNet, capacity: int, normalize: bool = True,
                 gamma: float = 0.99) -> None:  # fmt: skip
        super().__init__(venv)
        self.reward_net, self.capacity, self.normalize, self.gamma = reward_net, capacity, normalize, gamma
        self.rms = RunningMeanStd(shape=())
        self.buf: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "act", "next_obs", "terminated")}
        self.episode_returns: list[float] = []

    def reset(self) -> np.ndarray:
        self._obs = cast(np.ndarray, self.venv.reset())  # flat (Box) observations: one array
        return self._obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions
        self.venv.step_async(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        obs, true_rew, dones, infos = self.venv.step_wait()
        obs = cast(np.ndarray, obs)  # flat (Box) observations: one array
        next_obs = np.array(obs, copy=True)
        truncated = np.array([info.get("TimeLimit.truncated", False) for info in infos])
        for i in np.flatnonzero(dones):
            next_obs[i] = infos[i]["terminal_observation"]  # the VecEnv already reset this copy
        terminated = dones & ~truncated
        reward: np.ndarray  # float32 here, float64 once normalised
        reward = self.reward_net.reward(self._obs, self._actions, next_obs, terminated, self.gamma).astype(np.float32)
        if self.normalize:  # scale only: a shift would change the survival incentive of the reward
            self.rms.update(reward)
            reward = reward / np.sqrt(self.rms.var + 1e-8)
        rows = (self._obs, self._actions, next_obs, terminated)
        for key, value in zip(self.buf, rows):
            self.buf[key].append(np.asarray(value).reshape(self.num_envs, -1))
        if len(self.buf["obs"]) * self.num_envs > self.capacity:
            for rows_of_key in self.buf.values():
                rows_of_key.pop(0)
        for info, r in zip(infos, true_rew):
            info["true_reward"] = float(r)
            if "episode" in info:
                self.episode_returns.append(float(info["episode"]["r"]))
        self._obs = obs
        return obs, reward, dones, infos

    def recent(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The remembered (obs, act, next_obs, terminated) of the most recent steps, oldest first."""
        obs, act, next_obs, term = (np.concatenate(v) for v in self.buf.values())
        return obs, act, next_obs, term[:, 0]


class RelabelingReplayBuffer(ReplayBuffer):
    """An SB3 replay buffer whose sampled rewards come from the current discriminator at sample time.

    ``reward_fn(obs, scaled_actions, next_obs, terminated)`` gets the stored rows; a stored
    ``done`` counts as a termination unless it was a time-limit timeout. It is attached after the
    learner is built, not passed through ``replay_buffer_kwargs``: SB3 pickles those kwargs into
    every saved model, and a closure over the discriminator cannot be pickled.
    """

    reward_fn: Callable[..., np.ndarray] | None = None

    def _get_samples(self, batch_inds: np.ndarray, env: Any = None) -> Any:
        if self.reward_fn is None:
            raise InputError("this relabelling replay buffer has no reward function; GAIL attaches one when it builds SAC")
        samples = super()._get_samples(batch_inds, env)
        env_idx = np.zeros(len(batch_inds), dtype=int)
        terminated = self.dones[batch_inds, env_idx] * (1 - self.timeouts[batch_inds, env_idx]) > 0
        rew = self.reward_fn(self.observations[batch_inds, env_idx], self.actions[batch_inds, env_idx],
                             self.next_observations[batch_inds, env_idx], terminated)  # fmt: skip
        return samples._replace(rewards=self.to_torch(rew.reshape(-1, 1).astype(np.float32)))


class GAIL:
    """Generative adversarial imitation learning with an SB3 generator.

    :param env_id: gymnasium id; :param demos: expert transitions (checked against the env).
    :param algo: ``"ppo"`` (on-policy, vectorized) or ``"sac"`` (off-policy, relabelled replay).
    :param n_envs: env copies for PPO (SAC uses 1); :param subproc: step them in worker processes
        (SB3 ``SubprocVecEnv``; pays off for envs slower than the inter-process round trip).
    :param reward: ``"gail"`` (-log(1-D)), ``"log_d"`` or ``"airl"`` (the logit).
    :param use_next_obs: the discriminator judges (s, a, s') instead of (s, a).
    :param absorbing: DAC absorbing states for terminated episodes (see the module docstring). Off
        by default: with PPO on CartPole-v1 (expert never terminates) it made the learner end
        episodes early in every reward variant tried, because the discriminator is slow to learn
        that the absorbing state (standardised features 0, i.e. the demos' mean) is policy-only
        while the terminal bonus multiplies its error by gamma / (1 - gamma).
    :param disc_updates: discriminator steps per round; :param disc_batch: demo (and policy) rows per step.
    :param gradient_penalty: WGAN-GP weight on the discriminator; :param label_smoothing: one-sided.
    :param entropy_bonus: weight of the discriminator's mean binary entropy, subtracted from its cost.
    :param bc_epochs: behaviour-cloning epochs on the demos before adversarial training (PPO only).
    :param holdout: fraction of demos held out for the discriminator-accuracy progress signal.
    :param algo_kwargs: passed to the SB3 constructor (over genrl's defaults); JSON values only
        if the run is to be checkpointed.
    """

    def __init__(
        self,
        env_id: str,
        demos: Transitions,
        *,
        algo: Literal["ppo", "sac"] = "ppo",
        n_envs: int = 8,
        subproc: bool = False,
        reward: str = "gail",
        use_next_obs: bool = False,
        absorbing: bool = False,
        disc_hidden: tuple[int, ...] = (64, 64),
        disc_lr: float = 3e-4,
        disc_updates: int = 4,
        disc_batch: int = 256,
        gradient_penalty: float = 0.0,
        label_smoothing: float = 0.0,
        entropy_bonus: float = 0.0,
        normalize_reward: bool = True,
        round_steps: int | None = None,
        bc_epochs: int = 0,
        holdout: float = 0.2,
        algo_kwargs: dict[str, Any] | None = None,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        self.config = {k: v for k, v in locals().items() if k not in ("self", "demos", "device", "__class__")}
        self.config["disc_hidden"] = list(disc_hidden)
        if algo not in ("ppo", "sac"):
            raise InputError(f"algo must be 'ppo' or 'sac', got {algo!r}")
        if bc_epochs and algo != "ppo":
            raise InputError("behaviour-cloning pretraining is implemented for algo='ppo' only")
        env = gym.make(env_id)
        check_demos(demos, env)
        self.discrete = isinstance(env.action_space, spaces.Discrete)
        if algo == "sac" and self.discrete:
            raise InputError("algo='sac' needs a continuous (Box) action space")
        self.env_id, self.algo, self.seed, self.demos = env_id, algo, seed, demos
        self.device = resolve_device(device)
        self.train_demos, self.heldout_demos = demos.split(holdout, seed=seed) if holdout else (demos, demos)
        obs_dim = demos.obs.shape[1]
        act_dim = int(cast(spaces.Discrete, env.action_space).n) if self.discrete else demos.act.shape[1]
        torch.manual_seed(seed)
        self.reward_net = RewardNet(obs_dim, act_dim, self.discrete, disc_hidden, reward, demos.obs.mean(0),
                                    demos.obs.std(0) + 1e-6, use_next_obs, absorbing).to(self.device)  # fmt: skip
        self.disc_opt = torch.optim.Adam(self.reward_net.parameters(), lr=disc_lr)
        self.disc_updates, self.disc_batch = disc_updates, disc_batch
        # The discriminator half of the core's game: demos are real, policy transitions fake.
        self.update = AdversarialUpdate(self.reward_net.D, self.disc_opt, get_loss("non_saturating"),
                                        label_smoothing=label_smoothing, gradient_penalty=gradient_penalty,
                                        d_costs=[entropy_bonus_cost(entropy_bonus)] if entropy_bonus else [])  # fmt: skip
        self._sb3_callback: MaybeCallback = None
        self.rng = np.random.default_rng(seed)
        n_envs = n_envs if algo == "ppo" else 1
        venv = make_vec_env(partial(make_env, env_id), n_envs=n_envs, seed=seed,
                            vec_env_cls=SubprocVecEnv if subproc else DummyVecEnv)  # fmt: skip
        if algo == "ppo":  # one PPO rollout per round; zoo-style CartPole settings
            self.round_steps = round_steps or 32 * n_envs
            kwargs: dict[str, Any] = {"n_steps": max(1, self.round_steps // n_envs), "batch_size": 256, "gae_lambda": 0.8,
                                      "gamma": 0.98, "n_epochs": 20, "learning_rate": 1e-3}  # fmt: skip
        else:
            kwargs = {"replay_buffer_class": RelabelingReplayBuffer, "learning_rate": 1e-3, "learning_starts": 500}
            self.round_steps = round_steps or 1000
        algo_kwargs = dict(algo_kwargs or {})
        if algo_kwargs.get("optimize_memory_usage"):
            raise InputError("optimize_memory_usage is not supported: relabelling needs the stored next observations")
        kwargs.update(algo_kwargs)
        self.venv = LearnedRewardVecEnv(venv, self.reward_net, capacity=max(2 * self.round_steps, disc_batch),
                                        normalize=normalize_reward and algo == "ppo")  # fmt: skip
        learner = PPO if algo == "ppo" else SAC
        self.policy = learner("MlpPolicy", self.venv, seed=seed, device=self.device, verbose=0, **kwargs)
        self.venv.gamma = self.policy.gamma
        if algo == "sac":
            box = cast(spaces.Box, env.action_space)
            buffer = cast(RelabelingReplayBuffer, cast(SAC, self.policy).replay_buffer)
            low, high = box.low, box.high
            buffer.reward_fn = lambda o, a, o2, t: self.reward_net.reward(
                o, low + (a + 1.0) * 0.5 * (high - low), o2, t, self.policy.gamma)  # fmt: skip
        # Demo inputs are fixed (the standardisation is the demos' own), so build them once.
        self.demo_x = self._transition_inputs(self.train_demos)
        self.heldout_x = self._transition_inputs(self.heldout_demos)
        self.history: list[Row] = []
        if bc_epochs:
            self._behaviour_cloning(bc_epochs)

    def _transition_inputs(self, d: Transitions) -> torch.Tensor:
        return self.reward_net.transition_inputs(d.obs, d.act, d.next_obs, d.terminated)

    # ------------------------------------------------------------------ pieces of a round
    def _behaviour_cloning(self, epochs: int) -> None:
        pol = cast(PPO, self.policy).policy  # behaviour cloning is PPO only
        opt = torch.optim.Adam(pol.parameters(), lr=1e-3)
        obs = torch.as_tensor(self.train_demos.obs, device=self.device)
        act = torch.as_tensor(self.train_demos.act, device=self.device)
        act = act[:, 0].long() if self.discrete else act
        for _ in range(epochs):
            for idx in torch.randperm(len(obs), device=self.device).split(64):
                _, log_prob, _ = pol.evaluate_actions(obs[idx], act[idx])
                loss = -log_prob.mean()
                opt.zero_grad()
                loss.backward()
                opt.step()

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
        acc_policy = float((net(net.transition_inputs(*self.venv.recent())) < 0).float().mean())
        return acc_demo, acc_policy

    # ------------------------------------------------------------------ training
    @property
    def step_count(self) -> int:
        """Env steps taken by the learner (the run loop's step count)."""
        return self.policy.num_timesteps

    def train_step(self) -> dict[str, torch.Tensor]:
        """One round: the learner collects and trains on ``round_steps`` env steps under the learned
        reward, then the discriminator takes ``disc_updates`` steps on the round's transitions."""
        self.policy.learn(self.round_steps, reset_num_timesteps=False, callback=self._sb3_callback)
        policy_x = self.reward_net.transition_inputs(*self.venv.recent())
        return {"disc_loss": torch.stack([self._disc_step(policy_x) for _ in range(self.disc_updates)]).mean()}

    def summary(self) -> dict[str, float]:
        """Logged with each round: held-out discriminator accuracy (the progress signal that needs no
        true reward) and the mean true return of the last 10 episodes (NaN before the first ends)."""
        acc_demo, acc_policy = self.discriminator_accuracy()
        returns = self.venv.episode_returns[-10:]
        return {"disc_acc_demo_heldout": acc_demo, "disc_acc_policy": acc_policy,
                "return_mean": float(np.mean(returns)) if returns else float("nan")}  # fmt: skip

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
        self._sb3_callback = learner_callback
        run(self, check_count(total_steps, "total_steps"), log_every=1, progress=progress, desc=f"GAIL-{self.algo}",
            tensorboard_dir=tensorboard_dir, checkpoint_path=checkpoint_path, checkpoint_every=checkpoint_every,
            callback=callback, what="GAIL")  # fmt: skip
        return self

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        """Everything needed to continue the run (see the module docstring)."""
        pol = self.policy
        d = self.demos
        state: dict[str, Any] = {
            "kind": "GAIL",
            "config": self.config,
            "demos": {k: torch.from_numpy(np.ascontiguousarray(getattr(d, k)))
                      for k in FIELDS},
            "demos_meta": json.dumps(d.meta),
            "reward_net": self.reward_net.state_dict(),
            "disc_opt": self.disc_opt.state_dict(),
            "sb3": pol.get_parameters(),
            "counters": {"num_timesteps": pol.num_timesteps, "n_updates": pol._n_updates, "episode_num": pol._episode_num},
            "reward_rms": [float(self.venv.rms.mean), float(self.venv.rms.var), float(self.venv.rms.count)],
            "policy_buffer": {k: torch.from_numpy(np.concatenate(v)) for k, v in self.venv.buf.items() if v},
            "episode_returns": self.venv.episode_returns,
            "history": self.history,
            "rng": capture_rng(np_generator=self.rng),  # SB3 draws minibatch order and replay samples from NumPy's
        }  # fmt: skip
        if self.algo == "sac":
            rb = cast(ReplayBuffer, cast(SAC, pol).replay_buffer)
            n = rb.buffer_size if rb.full else rb.pos
            log_ent_coef = getattr(pol, "log_ent_coef", None)  # absent when ent_coef is fixed
            state["log_ent_coef"] = None if log_ent_coef is None else log_ent_coef.detach()
            arrays = {k: torch.from_numpy(getattr(rb, k)[:n].copy()) for k in _REPLAY_ARRAYS}
            state["replay"] = {"pos": rb.pos, "full": rb.full, **arrays}
        return state

    def save(self, path: str | Path) -> Path:
        """Write the run to one atomic safetensors checkpoint (see :func:`genrl.io.save_checkpoint`)."""
        return save_checkpoint(path, self.state())

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> GAIL:
        """Rebuild a run saved by :meth:`save`; ``learn`` then continues from its step count."""
        s = load_checkpoint(path, kind="GAIL")
        with restoring(path):
            demos = Transitions(**{k: v.numpy() for k, v in s["demos"].items()}, meta=json.loads(s["demos_meta"]))
            cfg = dict(s["config"], disc_hidden=tuple(s["config"]["disc_hidden"]), bc_epochs=0)
            gail = cls(cfg.pop("env_id"), demos, device=device, **cfg)
            gail.reward_net.load_state_dict(s["reward_net"])
            gail.disc_opt.load_state_dict(s["disc_opt"])
            pol = gail.policy
            pol.set_parameters(s["sb3"], exact_match=True, device=gail.device)
            pol.num_timesteps, pol._n_updates, pol._episode_num = (s["counters"][k] for k in ("num_timesteps", "n_updates",
                                                                                             "episode_num"))  # fmt: skip
            gail.venv.rms.mean, gail.venv.rms.var, gail.venv.rms.count = (np.float64(v) for v in s["reward_rms"])
            for k, v in s["policy_buffer"].items():  # one chunk per vectorized step, as step_wait keeps them
                gail.venv.buf[k] = list(np.split(v.numpy(), len(v) // gail.venv.num_envs))
            gail.venv.episode_returns = list(s["episode_returns"])
            gail.history = list(s["history"])
            restore_rng(s["rng"], np_generator=gail.rng)
            gail.venv.seed(gail.seed + pol.num_timesteps)  # new episodes, not a replay of the run's first ones
            if gail.algo == "sac":
                sac = cast(SAC, pol)
                if s["log_ent_coef"] is not None:
                    cast(torch.Tensor, sac.log_ent_coef).data.copy_(s["log_ent_coef"])
                rb, saved = cast(ReplayBuffer, sac.replay_buffer), s["replay"]
                for k in _REPLAY_ARRAYS:
                    getattr(rb, k)[: len(saved[k])] = saved[k].numpy()
                rb.pos, rb.full = saved["pos"], saved["full"]
        return gail
