"""The adversarial update: the discriminator half and the generator half of the game.

Every adversarial trainer in genrl is a configuration of :class:`AdversarialUpdate`:

* :class:`~genrl.gan.trainer.GANTrainer`: the plain game, with auxiliary-classifier, feature-matching
  and historical-averaging costs, alternating or simultaneous;
* :class:`~genrl.ssl.SSLGANClassifier`: a K+1-class discriminator, the supervised cross-entropy as an
  extra discriminator cost, feature matching in place of the generator's adversarial cost;
* :class:`~genrl.worldmodel.models.GANWorldModel`: samples judged beside their (s, a) context, the
  energy score as an extra generator cost;
* :class:`~genrl.gail.trainer.GAIL`: the discriminator half alone (policy transitions are the fakes),
  with a gradient penalty and an entropy bonus.

The caller makes the samples (noise, conditioning inputs, packing are its business) and hands the
update what the discriminator should see; the update judges them, adds the costs, and steps the
player's optimiser with gradients averaged over processes (:func:`optimizer_step`). Each cost is
summed in a fixed order: the adversarial cost, the caller's per-step ``extra`` term, the gradient
penalties, then the cost hooks in the order given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genrl import distributed
from genrl.errors import InputError
from genrl.gan.losses import GANLoss
from genrl.gan.regularizers import HistoricalAverage, binary_entropy, feature_matching_loss, gradient_penalty, r1_penalty


class Generator(Protocol):
    """Noise ``(B, latent_dim)`` [and labels ``(B,)``] -> samples ``(B, *out_shape)``."""

    latent_dim: int

    def __call__(self, z: Tensor, y: Tensor | None = None) -> Tensor: ...

    def parameters(self, recurse: bool = True) -> Iterable[nn.Parameter]: ...


class Discriminator(Protocol):
    """Inputs ``(B, ...)`` -> features ``(B, F)`` -> real/fake logits ``(B,)`` [given labels ``(B,)``]."""

    def features(self, x: Tensor) -> Tensor: ...

    def head(self, h: Tensor, y: Tensor | None = None) -> Tensor: ...

    def parameters(self, recurse: bool = True) -> Iterable[nn.Parameter]: ...


class Classifier(Discriminator, Protocol):
    """A discriminator with a class head: features ``(B, F)`` -> class logits ``(B, K)``."""

    def classify(self, h: Tensor) -> Tensor: ...


@dataclass
class Judgement:
    """What the discriminator made of one batch: logits ``(B,)`` and features ``(B, F)``.

    In a generator half only the fake side is judged (features alone when the generator has no
    adversarial cost); ``real_features`` may still be given by the caller (feature matching).
    """

    fake_logits: Tensor | None
    fake_features: Tensor
    real_logits: Tensor | None = None
    real_features: Tensor | None = None
    labels: Tensor | None = None
    adversarial_cost: Tensor | None = None
    """The player's adversarial cost (J(D) or the generator's), unweighted."""


Cost = Callable[[Judgement], Tensor]
"""An extra cost term computed from a judgement (already weighted)."""


def optimizer_step(
    opt: torch.optim.Optimizer,
    loss: Tensor,
    *modules: nn.Module,
    inputs: list[Tensor] | None = None,
    max_grad_norm: float | None = None,
) -> Tensor | None:
    """Zero the gradients, backpropagate ``loss`` (into ``inputs`` only, if given), average the
    gradients of ``modules`` over processes (a no-op in one process), clip their global norm to
    ``max_grad_norm`` (if given) and step ``opt``. Returns the norm before clipping (None without
    a clip), as a tensor on the device."""
    opt.zero_grad(set_to_none=True)
    loss.backward(inputs=inputs)
    distributed.average_gradients(*modules)
    norm = None
    if max_grad_norm is not None:
        norm = nn.utils.clip_grad_norm_([p for m in modules for p in m.parameters()], max_grad_norm)
    opt.step()
    return norm


class AdversarialUpdate:
    """One discriminator and (optionally) one generator with their optimisers, and the game's costs.

    :param D: the discriminator (see :class:`Discriminator`); ``opt_d`` steps its parameters.
    :param loss: the game's costs (:class:`~genrl.gan.losses.GANLoss`).
    :param G: the generator, or ``None`` when the fakes come from elsewhere (GAIL); ``opt_g`` steps it.
    :param label_smoothing: one-sided: real targets become ``1 - label_smoothing``.
    :param gradient_penalty: WGAN-GP weight on interpolates of the real and fake inputs.
    :param r1: R1 weight γ (penalty ``γ/2 E||∇D(x)||²`` on the real inputs).
    :param adversarial_weight: weights of the adversarial cost in the discriminator's and the
        generator's objective; 0 drops it (e.g. a generator trained by feature matching alone).
    :param d_costs: cost hooks added to the discriminator's objective.
    :param g_costs: cost hooks added to the generator's objective.
    :param rng: the generator the gradient penalty draws its interpolation weights from.
    :param d_max_grad_norm: clip the discriminator's gradient to this global norm before it steps
        (None: no clipping). After a stretch where it wins outright its gradients shrink a thousandfold,
        so Adam's second moments shrink with them, and one ordinary gradient then moves every weight by
        about ``lr * (1 - β1) / sqrt(1 - β2)`` at once; the clip keeps that one step from feeding on itself.
    """

    def __init__(
        self,
        D: Discriminator,
        opt_d: torch.optim.Optimizer,
        loss: GANLoss,
        *,
        G: Generator | None = None,
        opt_g: torch.optim.Optimizer | None = None,
        label_smoothing: float = 0.0,
        gradient_penalty: float = 0.0,
        r1: float = 0.0,
        adversarial_weight: tuple[float, float] = (1.0, 1.0),
        d_costs: Sequence[Cost] = (),
        g_costs: Sequence[Cost] = (),
        rng: torch.Generator | None = None,
        d_max_grad_norm: float | None = None,
    ) -> None:
        self.D, self.opt_d, self.loss, self.G, self.opt_g = D, opt_d, loss, G, opt_g
        self.d_max_grad_norm = d_max_grad_norm
        self.d_grad_norm: Tensor | None = None
        """the discriminator's gradient norm before the last step's clip (None without a clip)"""
        self.label_smoothing, self.gp_weight, self.r1 = label_smoothing, gradient_penalty, r1
        self.adversarial_weight, self.d_costs, self.g_costs, self.rng = adversarial_weight, list(d_costs), list(g_costs), rng

    def judge(self, x: Tensor, labels: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Discriminator inputs -> (float32 logits, features)."""
        h = self.D.features(x)
        return self.D.head(h, labels).float(), h

    def critic(self, labels: Tensor | None = None) -> Callable[[Tensor], Tensor]:
        """Inputs -> logits under fixed labels, for the gradient penalties."""
        return lambda x: self.D.head(self.D.features(x), labels)

    # ------------------------------------------------------------------ costs
    def discriminator_loss(
        self, real: Tensor, fake: Tensor, labels: Tensor | None = None, extra: Tensor | Cost | None = None
    ) -> tuple[Tensor, Judgement]:
        """J(D) on discriminator inputs ``real`` and ``fake`` (detach ``fake`` yourself) plus costs.

        :param extra: this step's extra term (e.g. a supervised cross-entropy on another batch), or
            a cost hook for it, evaluated after the adversarial cost.
        """
        real_logits, h_real = self.judge(real, labels)
        fake_logits, h_fake = self.judge(fake, labels)
        cost = self.loss.d_loss(real_logits, fake_logits, **self._smoothing())
        j = Judgement(fake_logits, h_fake, real_logits, h_real, labels, cost)
        terms = self._terms(self.adversarial_weight[0], cost, extra, j)
        if self.gp_weight:
            terms.append(self.gp_weight * gradient_penalty(self.critic(labels), real, fake, self.rng))
        if self.r1:
            terms.append(0.5 * self.r1 * r1_penalty(self.critic(labels), real))
        return _total(terms, self.d_costs, j), j

    def entrywise_discriminator_loss(
        self, x: Tensor, real_entries: Tensor, judged: Tensor | None = None, extra: Tensor | Cost | None = None
    ) -> tuple[Tensor, Judgement]:
        """J(D) for a discriminator that judges each entry of one input (GAIN), plus costs.

        The discriminator's logits ``(B, d)`` score the entries where the boolean ``real_entries``
        ``(B, d)`` holds as the real side and the others as the fake side, each side weighted ½ as
        in J(D); only entries where ``judged`` ``(B, d)`` holds count (all when ``None``). A side
        with no entries in the batch adds nothing. Detach the generated entries of ``x`` yourself.
        """
        if self.gp_weight or self.r1:
            raise InputError("gradient penalties need separate real and fake inputs; an entry-wise discriminator has one")
        logits, h = self.judge(x)
        logits = logits.reshape(real_entries.shape)  # a one-entry head returns (B,)
        counted = real_entries if judged is None else real_entries & judged
        fake = ~real_entries if judged is None else ~real_entries & judged
        real_logits, fake_logits = logits[counted], logits[fake]
        if real_logits.numel() and fake_logits.numel():
            cost = self.loss.d_loss(real_logits, fake_logits, **self._smoothing())
        else:
            cost = logits.sum() * 0.0
        j = Judgement(fake_logits, h, real_logits, h, None, cost)
        return _total(self._terms(self.adversarial_weight[0], cost, extra, j), self.d_costs, j), j

    def generator_loss(
        self,
        fake: Tensor,
        labels: Tensor | None = None,
        real_features: Tensor | None = None,
        extra: Tensor | Cost | None = None,
        entries: Tensor | None = None,
    ) -> tuple[Tensor, Judgement]:
        """The generator's cost on discriminator inputs ``fake`` (not detached) plus costs.

        :param entries: for an entry-wise discriminator (logits ``(B, d)``): the boolean ``(B, d)``
            entries whose logits the cost scores (GAIN: the imputed ones); none in the batch adds nothing.
        """
        weight = self.adversarial_weight[1]
        if weight:
            fake_logits, h_fake = self.judge(fake, labels)
        else:  # no logits: the head may draw noise (a K+1 head does), which would shift every later draw
            fake_logits, h_fake = None, self.D.features(fake)
        cost = None
        if fake_logits is not None and entries is not None:
            scored = fake_logits.reshape(entries.shape)[entries]
            cost = self.loss.g_loss(scored) if scored.numel() else fake_logits.sum() * 0.0
        elif fake_logits is not None:
            cost = self.loss.g_loss(fake_logits)
        j = Judgement(fake_logits, h_fake, real_features=real_features, labels=labels, adversarial_cost=cost)
        terms = self._terms(weight, cost, extra, j)
        return _total(terms, self.g_costs, j), j

    def _smoothing(self) -> dict[str, float]:
        return {"real_target": 1.0 - self.label_smoothing} if self.label_smoothing else {}

    @staticmethod
    def _terms(weight: float, cost: Tensor | None, extra: Tensor | Cost | None, j: Judgement) -> list[Tensor]:
        """The weighted adversarial cost (if any), then this step's extra term."""
        terms = [] if cost is None else [cost if weight == 1.0 else weight * cost]
        if extra is not None:
            terms.append(extra(j) if callable(extra) else extra)
        return terms

    # ------------------------------------------------------------------ steps
    def step_discriminator(self, loss: Tensor) -> None:
        self.d_grad_norm = optimizer_step(self.opt_d, loss, self.D, max_grad_norm=self.d_max_grad_norm)  # type: ignore[arg-type]

    def step_generator(self, loss: Tensor) -> None:
        assert self.G is not None and self.opt_g is not None, "this update has no generator"
        optimizer_step(self.opt_g, loss, self.G, inputs=list(self.G.parameters()))  # type: ignore[arg-type]

    def step_both(self, d_loss: Tensor, g_loss: Tensor) -> None:
        """Simultaneous update: both gradients are taken before either player moves."""
        assert self.G is not None and self.opt_g is not None, "this update has no generator"
        self.opt_d.zero_grad(set_to_none=True)
        self.opt_g.zero_grad(set_to_none=True)
        d_loss.backward()
        g_loss.backward(inputs=list(self.G.parameters()))
        distributed.average_gradients(self.D, self.G)  # type: ignore[arg-type]
        if self.d_max_grad_norm is not None:
            self.d_grad_norm = nn.utils.clip_grad_norm_(self.D.parameters(), self.d_max_grad_norm)
        self.opt_d.step()
        self.opt_g.step()


def _total(terms: list[Tensor], costs: Sequence[Cost], j: Judgement) -> Tensor:
    """Sum the terms, then the cost hooks, left to right (a fixed order keeps runs bit-for-bit repeatable)."""
    total = terms[0] if terms else None
    for t in [*terms[1:], *(cost(j) for cost in costs)]:
        total = t if total is None else total + t
    assert total is not None, "an objective needs an adversarial cost, an extra term or a cost hook"
    return total


# ---------------------------------------------------------------------- cost hooks
def feature_matching(weight: float) -> Cost:
    """Generator cost: ``weight * ||E f(x) - E f(G(z))||²`` on the discriminator's features."""

    def cost(j: Judgement) -> Tensor:
        assert j.real_features is not None, "feature matching needs the real batch's features"
        return weight * feature_matching_loss(j.real_features, j.fake_features)

    return cost


def historical_averaging(average: HistoricalAverage, weight: float) -> Cost:
    """Either player's cost: ``weight * ||θ - mean_t θ_t||²``."""
    return lambda j: weight * average.penalty()


def auxiliary_classifier(D: Classifier, weight: float, on_real: bool) -> Cost:
    """AC-GAN: ``weight *`` the cross-entropy of the class head on the fakes' labels (and the reals' too
    when ``on_real``: the discriminator's side)."""

    def cost(j: Judgement) -> Tensor:
        labels = cast(Tensor, j.labels)  # an AC-GAN judgement always carries its labels
        if not on_real:
            return weight * F.cross_entropy(D.classify(j.fake_features), labels)
        assert j.real_features is not None
        return weight * (
            F.cross_entropy(D.classify(j.real_features), labels) + F.cross_entropy(D.classify(j.fake_features), labels)
        )

    return cost


def entropy_bonus(weight: float) -> Cost:
    """Discriminator cost ``-weight *`` the mean binary entropy of its judgements (keeps it unsure)."""

    def cost(j: Judgement) -> Tensor:
        assert j.real_logits is not None and j.fake_logits is not None
        return -weight * binary_entropy(torch.cat([j.real_logits, j.fake_logits])).mean()

    return cost
