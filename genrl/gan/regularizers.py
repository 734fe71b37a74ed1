"""Regularisers and weight averages: gradient penalties, feature matching, entropy, energy score, historical averaging, EMA."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _grad_norm_sq(outputs: Tensor, inputs: Tensor) -> Tensor:
    (grad,) = torch.autograd.grad(outputs.sum(), inputs, create_graph=True)
    return grad.flatten(1).pow(2).sum(1)


def r1_penalty(critic: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): ``E ||∇_x D(x)||²`` on real data. Multiply by γ/2 yourself."""
    real = real.detach().requires_grad_(True)
    return _grad_norm_sq(critic(real), real).mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): ``E (||∇ D(x̂)|| - 1)²`` on random interpolates x̂."""
    shape = (real.shape[0], *([1] * (real.dim() - 1)))
    alpha = torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    return (_grad_norm_sq(critic(x_hat), x_hat).add(1e-12).sqrt() - 1.0).pow(2).mean()


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """``||E f(x) - E f(G(z))||²`` on an intermediate discriminator layer (Salimans et al. 2016)."""
    return (real_features.detach().float().mean(0) - fake_features.float().mean(0)).pow(2).sum()  # float: bf16 autocast


def binary_entropy(logits: Tensor) -> Tensor:
    """Entropy (nats) of the Bernoulli distributions with these logits, elementwise."""
    p = torch.sigmoid(logits)
    return -(p * F.logsigmoid(logits) + (1 - p) * F.logsigmoid(-logits))


def energy_score(samples: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean energy score ``E||X - y|| - ½ E||X - X'||`` of samples ``(B, n, d)``, n >= 2, against ``target (B, d)``.

    A strictly proper scoring rule (Gneiting & Raftery 2007): in expectation over y it is minimised
    only by the distribution y is drawn from, so as a generator loss it sharpens samples without
    pulling modes together, as an L2 loss would. Differentiable; lower is better.

    :param mask: boolean ``(B, d)``: score each row on these coordinates only (the norms leave the
        others out), averaged over the rows with at least one; ``None`` scores every coordinate.
    """
    n = samples.shape[1]
    if mask is not None:
        keep = mask[:, None].to(samples.dtype)
        samples, target = samples * keep, target * keep[:, 0]
    to_target = (samples - target[:, None]).norm(dim=-1).mean(1)
    spread = torch.cdist(samples, samples).sum((1, 2)) / (n * (n - 1))
    scores = to_target - 0.5 * spread
    if mask is None:
        return scores.mean()
    return scores.sum() / mask.any(1).sum().clamp_min(1)


class HistoricalAverage:
    """Historical averaging: penalise ``||θ - mean_t θ_t||²`` (Salimans et al. 2016).

    Keeps the running mean of the parameters on their device; call :meth:`update` after each step.
    """

    def __init__(self, params: Iterable[nn.Parameter]) -> None:
        self.params = list(params)
        self.averages = [p.detach().clone() for p in self.params]
        self.count = 1

    def penalty(self) -> Tensor:
        return torch.stack([(p - a).pow(2).sum() for p, a in zip(self.params, self.averages)]).sum()

    @torch.no_grad()
    def update(self) -> None:
        self.count += 1
        torch._foreach_lerp_(self.averages, [p.detach() for p in self.params], 1.0 / self.count)


class EMA:
    """Exponential moving average of a module's weights (sampling uses the average).

    :param decay: weight of the old average each update.
    :param warmup: use ``min(decay, (1 + t) / (10 + t))`` at the t-th update (TensorFlow's rule), so
        a short run's average is not dominated by the initial weights. ``count`` is t so far.
    """

    def __init__(self, module: nn.Module, decay: float = 0.999, warmup: bool = False) -> None:
        self.decay, self.warmup, self.count = decay, warmup, 0
        self.module = copy.deepcopy(module).eval().requires_grad_(False)
        self._src = module

    @torch.no_grad()
    def update(self) -> None:
        self.count += 1
        decay = min(self.decay, (1 + self.count) / (10 + self.count)) if self.warmup else self.decay
        src = list(self._src.parameters())
        dst: list[Tensor] = list(self.module.parameters())  # _foreach_lerp_ wants list[Tensor]; list is invariant
        torch._foreach_lerp_(dst, [p.detach() for p in src], 1.0 - decay)
        for b_dst, b_src in zip(self.module.buffers(), self._src.buffers()):
            b_dst.copy_(b_src)
