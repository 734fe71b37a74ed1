"""GAN costs as pure functions of discriminator logits, plus one registry of named pairs.

All functions take raw logits ``l = σ⁻¹(D(x))`` of shape ``(B,)`` and return a scalar. They use
``softplus`` identities (``-log σ(l) = softplus(-l)``, ``-log(1-σ(l)) = softplus(l)``) so they stay
finite for any logit; nothing here applies a sigmoid and then a log.

The three generator costs of Goodfellow's tutorial share the discriminator cost
``J(D) = -½ E log D(x) - ½ E log(1 - D(G(z)))``:

* ``minimax``: ``J(G) = -J(D)``. The real-data term does not depend on the generator and is
  dropped, leaving ``½ E log(1 - D(G(z)))``. It saturates when D rejects samples confidently.
* ``non_saturating``: ``J(G) = -½ E log D(G(z))``; strong gradients exactly where minimax has none.
* ``maximum_likelihood``: ``J(G) = -½ E exp(σ⁻¹(D(G(z))))``; at the optimal D its gradient equals
  that of the KL divergence ``KL(p_data || p_g)``. ``exp`` of a logit is unbounded, so it has high
  variance by design.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from genrl.registry import Registry

DLoss = Callable[..., Tensor]
GLoss = Callable[[Tensor], Tensor]


def bce_d_loss(real_logits: Tensor, fake_logits: Tensor, real_target: float = 1.0) -> Tensor:
    """J(D) = -½ E[t log D(x) + (1-t) log(1-D(x))] - ½ E log(1 - D(G(z))).

    ``real_target`` t < 1 is one-sided label smoothing: only the real targets move, fake stay 0.
    """
    real = real_target * F.softplus(-real_logits) + (1.0 - real_target) * F.softplus(real_logits)
    return 0.5 * real.mean() + 0.5 * F.softplus(fake_logits).mean()


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    """J(G) = ½ E log(1 - D(G(z))) = -½ E softplus(l)."""
    return -0.5 * F.softplus(fake_logits).mean()


def non_saturating_g_loss(fake_logits: Tensor) -> Tensor:
    """J(G) = -½ E log D(G(z)) = ½ E softplus(-l)."""
    return 0.5 * F.softplus(-fake_logits).mean()


def maximum_likelihood_g_loss(fake_logits: Tensor) -> Tensor:
    """J(G) = -½ E exp(σ⁻¹(D(G(z)))) = -½ E exp(l)."""
    return -0.5 * torch.exp(fake_logits).mean()


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E relu(1 - l_real) + E relu(1 + l_fake)."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def linear_g_loss(fake_logits: Tensor) -> Tensor:
    """-E l_fake: the generator cost of the hinge and Wasserstein games."""
    return -fake_logits.mean()


def wasserstein_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E l_fake - E l_real (the critic's cost; pair it with a gradient penalty)."""
    return fake_logits.mean() - real_logits.mean()


def least_squares_d_loss(real_logits: Tensor, fake_logits: Tensor, real_target: float = 1.0) -> Tensor:
    """½ E (l_real - t)² + ½ E l_fake² (LSGAN with a=0, b=t, c=1)."""
    return 0.5 * (real_logits - real_target).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()


def least_squares_g_loss(fake_logits: Tensor) -> Tensor:
    """½ E (l_fake - 1)²."""
    return 0.5 * (fake_logits - 1.0).pow(2).mean()


@dataclass(frozen=True)
class GANLoss:
    """A named pair of costs.

    :param d_loss: ``(real_logits, fake_logits[, real_target]) -> scalar``.
    :param g_loss: ``fake_logits -> scalar``.
    :param smoothing: whether ``d_loss`` accepts ``real_target`` (one-sided label smoothing).
    :param gradient_penalty: default weight of the interpolate gradient penalty (WGAN-GP).
    """

    d_loss: DLoss
    g_loss: GLoss
    smoothing: bool = True
    gradient_penalty: float = 0.0


LOSSES: Registry[GANLoss] = Registry("GAN loss")
LOSSES.register("minimax", GANLoss(bce_d_loss, minimax_g_loss))
LOSSES.register("non_saturating", GANLoss(bce_d_loss, non_saturating_g_loss))
LOSSES.register("maximum_likelihood", GANLoss(bce_d_loss, maximum_likelihood_g_loss))
LOSSES.register("hinge", GANLoss(hinge_d_loss, linear_g_loss, smoothing=False))
LOSSES.register("wasserstein", GANLoss(wasserstein_d_loss, linear_g_loss, smoothing=False, gradient_penalty=10.0))
LOSSES.register("least_squares", GANLoss(least_squares_d_loss, least_squares_g_loss))


def get_loss(name: str) -> GANLoss:
    """Look a loss pair up by name; raises :class:`~genrl.errors.InputError` naming the choices."""
    return LOSSES.get(name)
