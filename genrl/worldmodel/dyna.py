"""Dyna / MBPO: alternate real collection, world-model fitting and SAC updates on short model rollouts.

The loop, top to bottom (Janner et al. 2019, with any genrl world model):

1. act in the real env (random for the first ``start_steps``, then the SAC policy) and keep every
   real transition;
2. every ``model_every`` real steps, fit the world model on all real transitions;
3. every real step, branch ``rollouts`` imagined rollouts of ``rollout_length`` steps from real
   states with the current policy, add them to SAC's replay buffer of model transitions (the last
   ``buffer_size`` of them), and take ``updates_per_step`` SAC gradient steps on batches drawing a
   fraction ``real_ratio`` from the real transitions and the rest from the model's (MBPO's mix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.logger import configure
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from genrl.policies import LayerNormSACPolicy
from genrl.rollout import rollout
from genrl.transitions import FIELDS, Transitions
from genrl.worldmodel.evaluate import model_energy_score
from genrl.worldmodel.model_env import BatchedModelEnv, TransitionFn
from genrl.worldmodel.models import WorldModel


@dataclass
class DynaConfig:
    """Budget of :func:`dyna_sac`; steps are real env steps. ``eval_every`` real steps, the
    deterministic policy is scored on ``eval_episodes`` real episodes."""

    total_steps: int = 1000
    start_steps: int = 200
    model_every: int = 250
    model_fit_steps: int = 2000
    rollouts: int = 400
    rollout_length: int = 1
    updates_per_step: int = 10
    batch_size: int = 256
    buffer_size: int = 200_000
    """model transitions kept (MBPO keeps about one epoch's rollouts)"""
    real_ratio: float = 0.1
    """fraction of each SAC batch drawn from the real transitions (MBPO's mix; the Pendulum
    measurements behind the default used 0.1, results page)"""
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


class MixedReplayBuffer(ReplayBuffer):
    """SAC's buffer of model transitions; each sampled batch takes ``real_ratio`` of its rows from
    ``real`` (a buffer of real env transitions) once that holds any."""

    def __init__(self, *args: Any, real: ReplayBuffer, real_ratio: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.real, self.real_ratio = real, real_ratio

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
        n_real = round(batch_size * self.real_ratio) if self.real.size() else 0
        model = super().sample(batch_size - n_real, env)
        if not n_real:
            return model
        real = self.real.sample(n_real, env)
        parts = [m if m is None or r is None else torch.cat([m, r]) for m, r in zip(model, real)]
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


def model_free_sac(env_id: str, steps: int, eval_every: int, seed: int = 0, device: str = "auto") -> list[dict[str, float]]:
    """The model-free baseline on Dyna's evaluation grid: SB3 SAC (200 random steps first, as
    Dyna's ``start_steps``) scored like :func:`dyna_sac` every ``eval_every`` real steps."""
    agent = SAC("MlpPolicy", env_id, seed=seed, verbose=0, device=device, learning_starts=200)
    curve = []
    while agent.num_timesteps < steps:
        agent.learn(eval_every, reset_num_timesteps=False)
        curve.append({"env_steps": agent.num_timesteps, "return_mean": evaluate(agent, env_id, 3, seed)})
    return curve


def dyna_sac(
    env_id: str,
    model: WorldModel,
    config: DynaConfig | None = None,
    reward_fn: TransitionFn | None = None,
    termination_fn: TransitionFn | None = None,
    seed: int = 0,
    callback: Callable[[dict[str, float]], None] | None = None,
    device: str = "auto",
) -> tuple[SAC, list[dict[str, float]]]:
    """Train SAC on model rollouts; return the agent and its curve of (real env steps, return, and
    ``model_energy_score_unseen``: a learned model's energy score on the real transitions gathered
    between its last two fits, scored before it trained on them; absent before the second fit)."""
    c = config or DynaConfig()
    env = gym.make(env_id)
    agent = SAC(LayerNormSACPolicy if c.critic_layer_norm else "MlpPolicy", env, seed=seed, learning_starts=0,
                buffer_size=c.buffer_size, verbose=0, device=device, tau=c.tau,
                target_entropy="auto" if c.target_entropy is None else c.target_entropy)  # fmt: skip
    agent.set_logger(configure(None, []))
    real_buffer = ReplayBuffer(c.total_steps, env.observation_space, env.action_space, device=agent.device, n_envs=1)
    agent.replay_buffer = MixedReplayBuffer(c.buffer_size, env.observation_space, env.action_space, device=agent.device,
                                            n_envs=1, real=real_buffer, real_ratio=c.real_ratio)  # fmt: skip
    sim = BatchedModelEnv(model, reward_fn, termination_fn)
    env.action_space.seed(seed)
    rng = np.random.default_rng(seed)
    real: dict[str, list] = {k: [] for k in FIELDS}
    curve: list[dict[str, float]] = []
    obs, _ = env.reset(seed=seed)
    fitted_upto = 0
    unseen_score: float | None = None
    for t in range(1, c.total_steps + 1):
        act = env.action_space.sample() if t <= c.start_steps else agent.predict(obs, deterministic=False)[0]
        nxt, r, term, trunc, _ = env.step(act)
        for k, v in zip(real, (obs, act, nxt, r, term, trunc)):
            real[k].append(v)
        real_buffer.add(obs[None], nxt[None], agent.policy.scale_action(act[None]), np.array([r]), np.array([term or trunc]),
                        [{"TimeLimit.truncated": trunc and not term}])  # fmt: skip
        obs = env.reset()[0] if term or trunc else nxt
        if t >= c.start_steps:
            if (t - c.start_steps) % c.model_every == 0:
                if fitted_upto and isinstance(model, WorldModel):  # not a true kernel: its draws have their own stream
                    unseen_score = _unseen_score(model, real, fitted_upto)
                model.fit(Transitions.from_steps(real), steps=c.model_fit_steps, device=device)
                fitted_upto = t
            _imagine(agent, sim, np.array(real["obs"])[rng.integers(len(real["obs"]), size=c.rollouts)], c.rollout_length)
            agent.train(gradient_steps=c.updates_per_step, batch_size=c.batch_size)
        if t % c.eval_every == 0 or t == c.total_steps:
            row = {"env_steps": t, "return_mean": evaluate(agent, env_id, c.eval_episodes, seed), **_sac_state(agent, real)}
            if unseen_score is not None:
                row["model_energy_score_unseen"] = unseen_score
            curve.append(row)
            if callback is not None:
                callback(row)
    env.close()
    return agent, curve


@torch.no_grad()
def _sac_state(agent: SAC, real: dict[str, list], n: int = 256) -> dict[str, float]:
    """SAC's entropy coefficient and, on the last ``n`` real states, its policy's mean action
    spread (std of the squashed Gaussian's pre-tanh actions) and the critics' mean value of the
    deterministic action: what a collapse of the loop changes, read without drawing randomness."""
    obs = torch.as_tensor(np.array(real["obs"][-n:]), dtype=torch.float32, device=agent.device)
    _, log_std, _ = agent.actor.get_action_dist_params(obs)
    q = torch.cat(agent.critic(obs, agent.actor(obs, deterministic=True)), dim=1).min(dim=1).values
    ent_coef = torch.exp(agent.log_ent_coef).item() if agent.log_ent_coef is not None else float(agent.ent_coef)
    return {"ent_coef": ent_coef, "policy_std": log_std.exp().mean().item(), "q_mean": q.mean().item()}


def _unseen_score(model: WorldModel, real: dict[str, list], since: int) -> float:
    """The model's energy score on the real transitions collected since its last fit (the policy's
    newest states, not yet trained on), drawn without moving torch's global random stream."""
    with torch.random.fork_rng():
        return model_energy_score(model, Transitions.from_steps({k: v[since:] for k, v in real.items()}))


def _imagine(agent: SAC, sim: BatchedModelEnv, start: np.ndarray, length: int) -> None:
    """Branch rollouts of ``length`` model steps from real states into the agent's replay buffer."""
    for _ in range(length):
        a = agent.predict(start, deterministic=False)[0]
        sim.reset(start)
        s2, rew, done = (x.cpu().numpy() for x in sim.step(a))
        _extend(cast(ReplayBuffer, agent.replay_buffer), start, s2, agent.policy.scale_action(a), rew, done)
        start = s2[~done]
        if not len(start):
            return
