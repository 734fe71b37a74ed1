"""SB3 policies genrl's loops can choose instead of SB3's ``"MlpPolicy"``.

:class:`LayerNormSACPolicy` is SB3's SAC policy whose twin critics (and so their target copies)
put a LayerNorm after every hidden Linear, before the activation. Normalised features bound how
far a critic's value can move on states and actions its batches rarely hold, which is where
overestimation feeds on itself in a high update-to-data loop (Ball et al. 2023, RLPD; Dyna on
mostly imagined data is one: see ``experiments/dyna_stability.py``).

    SAC(LayerNormSACPolicy, "Pendulum-v1")
"""

from __future__ import annotations

from typing import Any, cast

from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, create_mlp
from stable_baselines3.sac.policies import SACPolicy
from torch import nn


class LayerNormCritic(ContinuousCritic):
    """SB3's ``ContinuousCritic`` (same arguments) with ``nn.LayerNorm`` after each hidden Linear:
    ``(obs features, action) -> n_critics`` values ``(B, 1)`` each."""

    def __init__(self, **kwargs: Any) -> None:  # SB3 builds critics from keyword arguments only
        super().__init__(**kwargs)
        in_dim = cast(nn.Linear, next(self.q_networks[0].children())).in_features  # features + action, as SB3 sized it
        activation = kwargs.get("activation_fn", nn.ReLU)
        self.q_networks = []
        for idx in range(self.n_critics):
            layers = create_mlp(in_dim, 1, kwargs["net_arch"], activation, post_linear_modules=[nn.LayerNorm])
            q_net = nn.Sequential(*layers)
            self.add_module(f"qf{idx}", q_net)  # replaces SB3's plain network under the same name
            self.q_networks.append(q_net)


class LayerNormSACPolicy(SACPolicy):
    """SB3's ``SACPolicy`` with :class:`LayerNormCritic` critics; the actor is unchanged."""

    def make_critic(self, features_extractor: BaseFeaturesExtractor | None = None) -> ContinuousCritic:
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return LayerNormCritic(**critic_kwargs).to(self.device)
