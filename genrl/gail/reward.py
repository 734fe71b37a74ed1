"""The learned reward: a discriminator D(s, a) from the GAN core, turned into a reward by name.

``RewardNet`` scores (s, a) pairs with the core's :class:`~genrl.gan.nets.MLPDiscriminator` on
standardised observations (statistics of the demonstrations, fixed) and actions (one-hot when
discrete). The policy never sees D itself, only the reward computed from its logit l:

* ``"gail"``: ``-log(1 - D) = softplus(l)`` (always positive; Ho & Ermon's choice),
* ``"log_d"``: ``log D = -softplus(-l)`` (always negative),
* ``"airl"``: ``l`` (the logit, as AIRL's reward).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genrl.errors import InputError
from genrl.gan.nets import MLPDiscriminator
from genrl.io import load_checkpoint, restoring, save_checkpoint
from genrl.registry import Registry
from genrl.validation import as_float_tensor, as_label_tensor

REWARDS: Registry[Callable[[Tensor], Tensor]] = Registry("GAIL reward")
REWARDS.register("gail", F.softplus)
REWARDS.register("log_d", lambda logit: -F.softplus(-logit))
REWARDS.register("airl", lambda logit: logit)


class RewardNet(nn.Module):
    """D(s, a) — or D(s, a, s') — -> logit ``(B,)``; ``reward(...)`` applies the named reward to it.

    :param obs_dim: flat observation size; :param act_dim: action size, or the number of actions
        when ``discrete``; :param obs_mean, obs_std: input standardisation (from the demos).
    :param use_next_obs: judge (s, a, s') rather than (s, a).
    :param absorbing: DAC's absorbing state (Kostrikov et al. 2019): every observation gets an
        "absorbing" flag feature; an episode that *terminates* moves into the absorbing state
        (standardised features 0, flag ``absorbing_scale``) and stays there under a zero action. The discriminator
        sees these absorbing rows beside ordinary ones and so learns what ending an episode is
        worth, instead of every terminal step implicitly scoring 0 forever (which biases a
        positive reward towards survival and a negative one towards ending early). Observations
        may then carry the absorbing flag as one more, last feature (an off-policy learner's
        replay buffer stores them so: :mod:`genrl.gail.absorbing`).
    :param absorbing_scale: the flag's value in the discriminator's input. A gradient penalty
        keeps D's logit from changing faster than about 1 per unit of input, so with a flag of 1
        the absorbing state (all other features 0, the demos' mean) stays within a few logits of
        the demos and cannot be judged as fake as the policy's own states; on Hopper-v5 with a
        penalty of 10 it scored logit -0.2 against -3.6 for policy states, and the learner fell
        on purpose. 10 gives -4.9 there.
    """

    obs_mean: Tensor
    obs_std: Tensor

    def __init__(self, obs_dim: int, act_dim: int, discrete: bool, hidden: tuple[int, ...] = (64, 64),
                 reward: str = "gail", obs_mean: Any = None, obs_std: Any = None, use_next_obs: bool = False,
                 absorbing: bool = False, absorbing_scale: float = 1.0) -> None:  # fmt: skip
        super().__init__()
        REWARDS.get(reward)
        self.obs_dim, self.act_dim, self.discrete = obs_dim, act_dim, discrete
        self.hidden, self.reward_name = tuple(hidden), reward
        number = isinstance(absorbing_scale, (int, float)) and not isinstance(absorbing_scale, bool)
        if not (number and np.isfinite(absorbing_scale) and absorbing_scale > 0):
            raise InputError(f"absorbing_scale must be a positive number, got {absorbing_scale}")
        self.use_next_obs, self.absorbing, self.absorbing_scale = use_next_obs, absorbing, float(absorbing_scale)
        self.state_dim = obs_dim + int(absorbing)
        self.D = MLPDiscriminator(self.state_dim * (1 + int(use_next_obs)) + act_dim, self.hidden)
        mean = np.zeros(obs_dim) if obs_mean is None else obs_mean
        std = np.ones(obs_dim) if obs_std is None else obs_std
        self.register_buffer("obs_mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("obs_std", torch.as_tensor(std, dtype=torch.float32))

    def _states(self, obs: Any, absorbing: Tensor | None = None, name: str = "obs") -> Tensor:
        """Observations ``(B, d_obs)`` — or, with ``absorbing``, ``(B, d_obs + 1)`` ending in the
        absorbing flag (:mod:`genrl.gail.absorbing`) — -> standardised state features ``(B, state_dim)``."""
        dev = self.obs_mean.device
        obs = as_float_tensor(obs, name).to(dev)
        obs = obs.reshape(len(obs), -1)
        flagged = self.absorbing and obs.shape[1] == self.state_dim
        if obs.shape[1] != self.obs_dim and not flagged:
            raise InputError(f"{name} must have {self.obs_dim} features per row, got {obs.shape[1]}")
        x = (obs[:, : self.obs_dim] - self.obs_mean) / self.obs_std
        if not self.absorbing:
            return x
        flag = torch.zeros(len(x), 1, device=dev) if absorbing is None else absorbing.float().reshape(-1, 1)
        if flagged:
            flag = torch.maximum(flag, obs[:, -1:])
        return torch.cat([x * (1 - flag), flag * self.absorbing_scale], 1)

    def inputs(self, obs: Any, act: Any, next_obs: Any = None, terminated: Any = None) -> Tensor:
        """Discriminator inputs ``(B, in_dim)`` for transitions.

        :param obs: ``(B, d_obs)``; :param act: ``(B, d_act)`` or ``(B,)`` (indices when discrete).
        :param next_obs: ``(B, d_obs)``, needed when ``use_next_obs``.
        :param terminated: ``(B,)`` bool; with ``absorbing``, those rows' next state is the absorbing one.
        """
        x = self._states(obs)
        act = as_float_tensor(act, "act").to(x.device)
        if len(act) != len(x):
            raise InputError(f"act has {len(act)} rows but obs has {len(x)}")
        act = act.reshape(len(x), -1)
        if self.discrete:
            act = F.one_hot(as_label_tensor(act.reshape(-1), "act", len(x), self.act_dim).to(x.device), self.act_dim).float()
        elif act.shape[1] != self.act_dim:
            raise InputError(f"actions must have {self.act_dim} dimensions, got {act.shape[1]}")
        if self.absorbing:  # the absorbing state's reward does not depend on the action taken there
            act = act * (x[:, -1:] == 0)
        parts = [x, act.float()]
        if self.use_next_obs:
            if next_obs is None:
                raise InputError("this reward net judges (s, a, s'): pass next_obs")
            term = None if terminated is None else torch.as_tensor(np.asarray(terminated), device=x.device).bool()
            parts.append(self._states(next_obs, term if self.absorbing else None, "next_obs"))
        return torch.cat(parts, 1)

    def absorbing_inputs(self, n: int) -> Tensor:
        """``n`` rows of the absorbing transition (absorbing state, zero action[, absorbing state])."""
        if not self.absorbing:
            raise InputError("this reward net was built without absorbing states")
        state = torch.zeros(n, self.state_dim, device=self.obs_mean.device)
        state[:, -1] = self.absorbing_scale
        parts = [state, torch.zeros(n, self.act_dim, device=state.device)] + [state] * int(self.use_next_obs)
        return torch.cat(parts, 1)

    def transition_inputs(self, obs: Any, act: Any, next_obs: Any = None, terminated: Any = None,
                          repeats: int = 1) -> Tensor:  # fmt: skip
        """:meth:`inputs` plus, with ``absorbing``, ``repeats`` absorbing rows per terminated transition
        (DAC's buffer holds one; :class:`~genrl.gail.trainer.GAIL` weights them by the time spent there)."""
        x = self.inputs(obs, act, next_obs, terminated)
        n_term = 0 if terminated is None or not self.absorbing else int(np.asarray(terminated).sum())
        return torch.cat([x, self.absorbing_inputs(n_term * repeats)]) if n_term else x

    def absorbing_reward(self) -> float:
        """The named reward of the absorbing transition (needs ``absorbing``)."""
        with torch.no_grad():
            return float(REWARDS.get(self.reward_name)(self(self.absorbing_inputs(1)))[0])

    def forward(self, x: Tensor) -> Tensor:
        return self.D(x)

    @torch.no_grad()
    def reward(self, obs: Any, act: Any, next_obs: Any = None, terminated: Any = None, gamma: float = 0.99,
               absorbing_value: float | None = None) -> np.ndarray:  # fmt: skip
        """The learned reward ``(B,)`` of transitions.

        With ``absorbing``, a terminated transition also earns ``gamma`` times the value of the
        absorbing state it moves into, so a learner that treats termination as "no future reward"
        still sees what ending there is worth: ``absorbing_value`` when given (GAIL learns it, see
        :class:`~genrl.gail.trainer.GAIL`), else staying there forever, ``r(absorbing) / (1 - gamma)``.
        """
        fn = REWARDS.get(self.reward_name)
        r = fn(self(self.inputs(obs, act, next_obs, terminated)))
        if self.absorbing and terminated is not None:
            term = torch.as_tensor(np.asarray(terminated), device=r.device).reshape(-1).float()
            value = self.absorbing_reward() / (1.0 - gamma) if absorbing_value is None else absorbing_value
            r = r + term * gamma * value
        return r.cpu().numpy()

    def spec(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this net (the standardisation is in its buffers)."""
        return {"obs_dim": self.obs_dim, "act_dim": self.act_dim, "discrete": self.discrete, "hidden": list(self.hidden),
                "reward": self.reward_name, "use_next_obs": self.use_next_obs, "absorbing": self.absorbing,
                "absorbing_scale": self.absorbing_scale}  # fmt: skip

    def save(self, path: str | Path) -> Path:
        return save_checkpoint(path, {"kind": "RewardNet", "spec": self.spec(), "weights": self.state_dict()})

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> RewardNet:
        s = load_checkpoint(path, kind="RewardNet")
        with restoring(path):
            net = cls(**s["spec"])
            net.load_state_dict(s["weights"])
        return net.to(device).eval()
