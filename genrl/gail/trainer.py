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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from genrl.errors import InputError
from genrl.gail.demos import check_demos
from genrl.gail.reward import RewardNet
from genrl.gan.losses import bce_d_loss
from genrl.gan.regularizers import gradient_penalty
from genrl.progress import ProgressLogger
from genrl.utils import resolve_device
from genrl.worldmodel.transitions import Transitions


class LearnedRewardVecEnv(VecEnvWrapper):
    """Replaces the env reward with the learned one and remembers recent (s, a) for the discriminator.

    True episode returns (from the inner ``Monitor``) are collected in ``episode_returns``.
    """

    def __init__(self, venv: VecEnv, reward_net: RewardNet, capacity: int, normalize: bool = True) -> None:
        super().__init__(venv)
        self.reward_net, self.capacity, self.normalize = reward_net, capacity, normalize
        self.rms = RunningMeanStd(shape=())
        self.obs_buf: list[np.ndarray] = []
        self.act_buf: list[np.ndarray] = []
        self.episode_returns: list[float] = []

    def reset(self) -> np.ndarray:
        self._obs = self.venv.reset()
        return self._obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions
        self.venv.step_async(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        obs, true_rew, dones, infos = self.venv.step_wait()
        reward = self.reward_net.reward(self._obs, self._actions).astype(np.float32)
        if self.normalize:  # scale only: a shift would change the survival incentive of the reward
            self.rms.update(reward)
            reward = reward / np.sqrt(self.rms.var + 1e-8)
        self.obs_buf.append(np.asarray(self._obs).reshape(self.num_envs, -1))
        self.act_buf.append(np.asarray(self._actions).reshape(self.num_envs, -1))
        if len(self.obs_buf) * self.num_envs > self.capacity:
            self.obs_buf.pop(0), self.act_buf.pop(0)
        for info, r in zip(infos, true_rew):
            info["true_reward"] = float(r)
            if "episode" in info:
                self.episode_returns.append(float(info["episode"]["r"]))
        self._obs = obs
        return obs, reward, dones, infos

    def recent(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.obs_buf), np.concatenate(self.act_buf)


class RelabelingReplayBuffer(ReplayBuffer):
    """An SB3 replay buffer whose sampled rewards come from ``reward_fn(obs, scaled_actions)`` at sample time."""

    def __init__(self, *args: Any, reward_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reward_fn = reward_fn

    def _get_samples(self, batch_inds: np.ndarray, env: Any = None) -> Any:
        samples = super()._get_samples(batch_inds, env)
        env_idx = np.zeros(len(batch_inds), dtype=int)
        rew = self.reward_fn(self.observations[batch_inds, env_idx], self.actions[batch_inds, env_idx])
        return samples._replace(rewards=self.to_torch(rew.reshape(-1, 1).astype(np.float32)))


class GAIL:
    """Generative adversarial imitation learning with an SB3 generator.

    :param env_id: gymnasium id; :param demos: expert transitions (checked against the env).
    :param algo: ``"ppo"`` (on-policy, vectorized) or ``"sac"`` (off-policy, relabelled replay).
    :param reward: ``"gail"`` (-log(1-D)), ``"log_d"`` or ``"airl"`` (the logit).
    :param disc_updates: discriminator steps per round; :param disc_batch: demo (and policy) rows per step.
    :param gradient_penalty: WGAN-GP weight on the discriminator; :param label_smoothing: one-sided.
    :param entropy_bonus: weight of the discriminator's mean binary entropy, subtracted from its cost.
    :param bc_epochs: behaviour-cloning epochs on the demos before adversarial training (PPO only).
    :param holdout: fraction of demos held out for the discriminator-accuracy progress signal.
    :param algo_kwargs: passed to the SB3 constructor (over genrl's defaults).
    """

    def __init__(
        self,
        env_id: str,
        demos: Transitions,
        *,
        algo: Literal["ppo", "sac"] = "ppo",
        n_envs: int = 8,
        reward: str = "gail",
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
        if algo not in ("ppo", "sac"):
            raise InputError(f"algo must be 'ppo' or 'sac', got {algo!r}")
        if bc_epochs and algo != "ppo":
            raise InputError("behaviour-cloning pretraining is implemented for algo='ppo' only")
        env = gym.make(env_id)
        check_demos(demos, env)
        self.discrete = isinstance(env.action_space, spaces.Discrete)
        if algo == "sac" and self.discrete:
            raise InputError("algo='sac' needs a continuous (Box) action space")
        self.env_id, self.algo, self.seed = env_id, algo, seed
        self.device = resolve_device(device)
        self.train_demos, self.heldout_demos = demos.split(holdout, seed=seed) if holdout else (demos, demos)
        obs_dim = demos.obs.shape[1]
        act_dim = int(env.action_space.n) if self.discrete else demos.act.shape[1]
        torch.manual_seed(seed)
        self.reward_net = RewardNet(obs_dim, act_dim, self.discrete, disc_hidden, reward,
                                    demos.obs.mean(0), demos.obs.std(0) + 1e-6).to(self.device)  # fmt: skip
        self.disc_opt = torch.optim.Adam(self.reward_net.parameters(), lr=disc_lr)
        self.disc_updates, self.disc_batch = disc_updates, disc_batch
        self.gp, self.smoothing, self.entropy_bonus = gradient_penalty, label_smoothing, entropy_bonus
        self.rng = np.random.default_rng(seed)
        n_envs = n_envs if algo == "ppo" else 1
        venv = make_vec_env(env_id, n_envs=n_envs, seed=seed)
        if algo == "ppo":  # one PPO rollout per round; zoo-style CartPole settings
            self.round_steps = round_steps or 32 * n_envs
            kwargs: dict[str, Any] = {"n_steps": max(1, self.round_steps // n_envs), "batch_size": 256, "gae_lambda": 0.8,
                                      "gamma": 0.98, "n_epochs": 20, "learning_rate": 1e-3}  # fmt: skip
        else:
            low, high = env.action_space.low, env.action_space.high
            fn = lambda o, a: self.reward_net.reward(o, low + (a + 1.0) * 0.5 * (high - low))  # noqa: E731
            kwargs = {"replay_buffer_class": RelabelingReplayBuffer, "replay_buffer_kwargs": {"reward_fn": fn},
                      "learning_rate": 1e-3, "learning_starts": 500}  # fmt: skip
            self.round_steps = round_steps or 1000
        kwargs.update(algo_kwargs or {})
        self.venv = LearnedRewardVecEnv(venv, self.reward_net, capacity=max(2 * self.round_steps, disc_batch),
                                        normalize=normalize_reward and algo == "ppo")  # fmt: skip
        learner = PPO if algo == "ppo" else SAC
        self.policy = learner("MlpPolicy", self.venv, seed=seed, device=self.device, verbose=0, **kwargs)
        self.history: list[dict[str, float]] = []
        if bc_epochs:
            self._behaviour_cloning(bc_epochs)

    # ------------------------------------------------------------------ pieces of a round
    def _behaviour_cloning(self, epochs: int) -> None:
        pol = self.policy.policy
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

    def _disc_step(self) -> tuple[float, float]:
        net = self.reward_net
        d = self.train_demos
        i = self.rng.integers(len(d), size=self.disc_batch)
        p_obs, p_act = self.venv.recent()
        j = self.rng.integers(len(p_obs), size=self.disc_batch)
        real, fake = net.inputs(d.obs[i], d.act[i]), net.inputs(p_obs[j], p_act[j])
        real_logits, fake_logits = net(real), net(fake)
        loss = bce_d_loss(real_logits, fake_logits, real_target=1.0 - self.smoothing)
        if self.gp:
            loss = loss + self.gp * gradient_penalty(net, real, fake)
        if self.entropy_bonus:
            logits = torch.cat([real_logits, fake_logits])
            p = torch.sigmoid(logits)
            entropy = -(p * torch.nn.functional.logsigmoid(logits) + (1 - p) * torch.nn.functional.logsigmoid(-logits))
            loss = loss - self.entropy_bonus * entropy.mean()
        self.disc_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.disc_opt.step()
        return loss.item(), float((real_logits > 0).float().mean() / 2 + (fake_logits < 0).float().mean() / 2)

    @torch.no_grad()
    def discriminator_accuracy(self) -> tuple[float, float]:
        """(fraction of held-out demos judged expert, fraction of recent policy (s, a) judged policy)."""
        net, h = self.reward_net, self.heldout_demos
        acc_demo = float((net(net.inputs(h.obs, h.act)) > 0).float().mean())
        p_obs, p_act = self.venv.recent()
        acc_policy = float((net(net.inputs(p_obs, p_act)) < 0).float().mean())
        return acc_demo, acc_policy

    # ------------------------------------------------------------------ training
    def learn(self, total_steps: int, progress: bool = False, callback: Callable[[dict[str, float]], None] | None = None,
              tensorboard_dir: str | Path | None = None) -> GAIL:  # fmt: skip
        """Train until the generator has taken ``total_steps`` env steps (continues across calls)."""
        logger = ProgressLogger(total=total_steps, initial=self.policy.num_timesteps, enabled=progress,
                                tensorboard_dir=tensorboard_dir, desc=f"GAIL-{self.algo}")  # fmt: skip
        t0 = time.perf_counter()
        try:
            while self.policy.num_timesteps < total_steps:
                before = self.policy.num_timesteps
                n_returns = len(self.venv.episode_returns)
                self.policy.learn(self.round_steps, reset_num_timesteps=False)
                losses = [self._disc_step() for _ in range(self.disc_updates)]
                acc_demo, acc_policy = self.discriminator_accuracy()
                returns = self.venv.episode_returns[n_returns:]
                row = {"env_steps": self.policy.num_timesteps, "seconds": time.perf_counter() - t0,
                       "disc_loss": float(np.mean([x[0] for x in losses])), "disc_acc_demo_heldout": acc_demo,
                       "disc_acc_policy": acc_policy,
                       "return_mean": float(np.mean(returns)) if returns else float("nan")}  # fmt: skip
                self.history.append(row)
                logger.log(row, advance=self.policy.num_timesteps - before, step_key="env_steps")
                if callback is not None:
                    callback(row)
        finally:
            logger.close()
        return self
