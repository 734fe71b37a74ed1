"""SB3 policies genrl's loops can choose instead of SB3's ``"MlpPolicy"``.

:class:`LayerNormSACPolicy` is SB3's SAC policy whose twin critics (and so their target copies)
put a LayerNorm after every hidden Linear, before the activation. Normalised features bound how
far a critic's value can move on states and actions its batches rarely hold, which is where
overestimation feeds on itself in a high update-to-data loop (Ball et al. 2023, RLPD; Dyna on
mostly imagined data is one: see ``experiments/dyna_stability.py``).

    SAC(LayerNormSACPolicy, "Pendulum-v1")
"""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, create_mlp
from stable_baselines3.sac.policies import SACPolicy
from torch import nn


class LayerNormCritic(ContinuousCritic):
    """SB3's ``ContinuousCritic`` (same arguments) with ``nn.LayerNorm`` after each hidden Linear:
    ``(obs features, action) -> n_critics`` values ``(B, 1)`` each."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        first = list(self.q_networks[0].children())
        linears = [m for m in first if isinstance(m, nn.Linear)]
        activation = type(first[1]) if len(linears) > 1 else nn.ReLU
        net_arch = [m.out_features for m in linears[:-1]]
        self.q_networks = []
        for idx in range(self.n_critics):
            layers = create_mlp(linears[0].in_features, 1, net_arch, activation, post_linear_modules=[nn.LayerNorm])
            q_net = nn.Sequential(*layers)
            self.add_module(f"qf{idx}", q_net)  # replaces SB3's plain network under the same name
            self.q_networks.append(q_net)


class LayerNormSACPolicy(SACPolicy):
    """SB3's ``SACPolicy`` with :class:`LayerNormCritic` critics; the actor is unchanged."""

    def make_critic(self, features_extractor: BaseFeaturesExtractor | None = None) -> ContinuousCritic:
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return LayerNormCritic(**critic_kwargs).to(self.device)
