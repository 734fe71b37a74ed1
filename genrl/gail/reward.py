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
from genrl.io import load_checkpoint, save_checkpoint
from genrl.registry import Registry
from genrl.validation import as_float_tensor, as_label_tensor

REWARDS: Registry[Callable[[Tensor], Tensor]] = Registry("GAIL reward")
REWARDS.register("gail", F.softplus)
REWARDS.register("log_d", lambda logit: -F.softplus(-logit))
REWARDS.register("airl", lambda logit: logit)


class RewardNet(nn.Module):
    """D(s, a) -> logit ``(B,)``; ``reward(obs, act)`` applies the named reward to it.

    :param obs_dim: flat observation size; :param act_dim: action size, or the number of actions
        when ``discrete``; :param obs_mean, obs_std: input standardisation (from the demos).
    """

    def __init__(self, obs_dim: int, act_dim: int, discrete: bool, hidden: tuple[int, ...] = (64, 64),
                 reward: str = "gail", obs_mean: Any = None, obs_std: Any = None) -> None:  # fmt: skip
        super().__init__()
        REWARDS.get(reward)
        self.obs_dim, self.act_dim, self.discrete = obs_dim, act_dim, discrete
        self.hidden, self.reward_name = tuple(hidden), reward
        self.D = MLPDiscriminator(obs_dim + act_dim, self.hidden)
        mean = np.zeros(obs_dim) if obs_mean is None else obs_mean
        std = np.ones(obs_dim) if obs_std is None else obs_std
        self.register_buffer("obs_mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("obs_std", torch.as_tensor(std, dtype=torch.float32))

    def inputs(self, obs: Any, act: Any) -> Tensor:
        """(obs ``(B, d_obs)``, act ``(B, d_act)`` or ``(B,)``) -> discriminator inputs ``(B, d_obs + d_act)``."""
        dev = self.obs_mean.device
        obs = as_float_tensor(obs, "obs").to(dev)
        obs = obs.reshape(len(obs), -1)
        if obs.shape[1] != self.obs_dim:
            raise InputError(f"obs must have {self.obs_dim} features per row, got {obs.shape[1]}")
        act = as_float_tensor(act, "act").to(dev)
        if len(act) != len(obs):
            raise InputError(f"act has {len(act)} rows but obs has {len(obs)}")
        act = act.reshape(len(obs), -1)
        if self.discrete:
            act = F.one_hot(as_label_tensor(act.reshape(-1), "act", len(obs), self.act_dim).to(dev), self.act_dim).float()
        elif act.shape[1] != self.act_dim:
            raise InputError(f"actions must have {self.act_dim} dimensions, got {act.shape[1]}")
        return torch.cat([(obs - self.obs_mean) / self.obs_std, act.float()], 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.D(x)

    @torch.no_grad()
    def reward(self, obs: Any, act: Any) -> np.ndarray:
        """The learned reward ``(B,)`` for (s, a) pairs."""
        return REWARDS.get(self.reward_name)(self(self.inputs(obs, act))).cpu().numpy()

    def save(self, path: str | Path) -> Path:
        spec = {"obs_dim": self.obs_dim, "act_dim": self.act_dim, "discrete": self.discrete,
                "hidden": list(self.hidden), "reward": self.reward_name}  # fmt: skip
        return save_checkpoint(path, {"kind": "RewardNet", "spec": spec, "weights": self.state_dict()})

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> RewardNet:
        s = load_checkpoint(path, kind="RewardNet")
        net = cls(**s["spec"])
        net.load_state_dict(s["weights"])
        return net.to(device).eval()
