"""One world-model fit as a :class:`~genrl.training.Trainable`, with held-out early stopping.

The fit holds out a share of the transitions (as MBPO and mbrl-lib do), scores the model on them
every ``EarlyStopping.every`` steps with the energy score of its draws (a strictly proper scoring
rule, so the GAN, the Gaussian ensemble and the MLP are judged by one criterion), keeps the best
weights, stops when ``patience`` scores in a row fail to improve on the best by ``threshold``
(relative), and ends on the best weights. An ensemble's members are then ranked on the same rows
and its elites kept for sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor

from genrl import distributed
from genrl.errors import InputError
from genrl.gan.regularizers import energy_score
from genrl.gan.update import optimizer_step
from genrl.schedules import linear_lr_scale
from genrl.stopping import BestWeights
from genrl.training import Row, capture_rng, resume_streams, split_streams
from genrl.transitions import Transitions

if TYPE_CHECKING:
    from genrl.worldmodel.models import WorldModel


@dataclass(frozen=True)
class EarlyStopping:
    """Held-out early stopping of a world-model fit (MBPO's recipe; defaults as mbrl-lib's).

    :param holdout: share of the transitions held out (at most ``max_holdout`` rows); fits on fewer
        than ``min_rows`` transitions hold none out and run every step.
    :param every: fit steps between held-out scores.
    :param patience: scores in a row without a ``threshold`` relative improvement before stopping.
    :param threshold: 0 (any new best resets the patience): with mbrl-lib's 1% the GAN stopped at
        2,750-3,500 steps on UnevenFork2D/RingKick2D with a worse energy distance than a fixed
        5,000-step fit (results page, world models: early stopping).
    :param draws: model draws per held-out row in each score.
    """

    holdout: float = 0.2
    max_holdout: int = 5000
    min_rows: int = 50
    every: int = 250
    patience: int = 5
    threshold: float = 0.0
    draws: int = 8

    def __post_init__(self) -> None:
        if not 0 < self.holdout < 1:
            raise InputError(f"early stopping: holdout must be in (0, 1), got {self.holdout}")
        for name in ("max_holdout", "min_rows", "every", "patience", "draws"):
            if getattr(self, name) < (2 if name == "draws" else 1):
                raise InputError(f"early stopping: {name} must be at least {2 if name == 'draws' else 1}")
        if self.threshold < 0:
            raise InputError(f"early stopping: threshold must be >= 0, got {self.threshold}")

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> EarlyStopping | None:
        return None if d is None else cls(**d)


class Fit:
    """The standardised data on the device, the fit's optimisers (the model's and the termination
    head's), its lr schedule, RNG and early-stopping state."""

    def __init__(self, model: WorldModel, data: Transitions, total: int, batch_size: int, lr: float,
                 resume: dict[str, Any] | None, stopping: EarlyStopping | None) -> None:  # fmt: skip
        self.model, self.total, self.batch_size, self.stopping = model, total, batch_size, stopping
        train, held = data, None
        if stopping is not None and len(data) >= stopping.min_rows:
            fraction = min(stopping.holdout, stopping.max_holdout / len(data))
            train, held = data.split(fraction, seed=model.seed)
        c, y, nxt = self._targets(train)
        if resume is None:
            model.step_count, model.history = 0, []  # a resumed run keeps the statistics its weights were trained with
            model.ctx_norm.fit(c)
            model.y_norm.fit(y)
        self.cn, self.yn = model.ctx_norm(c), model.y_norm(y)
        self.held = None
        if held is not None:
            hc, hy, _ = self._targets(held)
            self.held = (model.ctx_norm(hc), model.y_norm(hy))
        self.term = torch.as_tensor(train.terminated, device=model.device, dtype=torch.float32)
        model.has_terminations = bool(self.term.any())
        s_dim = slice(0, model.obs_dim)
        self.term_in = torch.cat([self.cn, (nxt - model.ctx_norm.mean[s_dim]) / model.ctx_norm.std[s_dim]], 1)
        distributed.broadcast_module(model)
        self.opts = {**model._optimizers(lr), "term_opt": torch.optim.Adam(model.term_net.parameters(), lr=1e-3)}
        for opt in self.opts.values():
            for group in opt.param_groups:
                group["initial_lr"] = group["lr"]
        self.update = model._updater(self.opts)
        self.gen = torch.Generator(device=model.device).manual_seed(model.seed)
        split_streams(model.seed, self.gen)
        self.best = BestWeights(model, stopping.patience, stopping.threshold) if stopping is not None else None
        if resume is not None:
            for name, opt in self.opts.items():
                opt.load_state_dict(resume["optim"][name])
            resume_streams(resume["rng"], model.seed + model.step_count, self.gen)
            if self.best is not None:
                self.best.restore(resume)
        model.train()

    @property
    def finished(self) -> bool:
        """Whether early stopping has ended the fit (``genrl.training.run`` stops on it)."""
        return self.best is not None and self.best.finished

    def _targets(self, data: Transitions) -> tuple[Tensor, Tensor, Tensor]:
        """Contexts ``(N, d_c)``, targets ``(Δs, r) (N, d_y)`` and next observations ``(N, d_obs)``."""
        model = self.model
        c = model._context(data.obs, data.act)
        nxt = torch.as_tensor(data.next_obs, device=model.device)
        rew = torch.as_tensor(data.rew, device=model.device)[:, None]
        return c, torch.cat([nxt - c[:, : model.obs_dim], rew], 1), nxt

    @property
    def step_count(self) -> int:
        return self.model.step_count

    @property
    def history(self) -> list[Row]:
        return self.model.history

    def train_step(self) -> dict[str, Tensor]:
        model = self.model
        if model.lr_decay:  # a function of the step alone, so a resumed fit follows the same schedule
            scale = linear_lr_scale(model.step_count, self.total)
            for opt in self.opts.values():
                for group in opt.param_groups:
                    group["lr"] = group["initial_lr"] * scale
        idx = torch.randint(len(self.cn), (self.batch_size,), device=model.device, generator=self.gen)
        losses = self.update(self.cn[idx], self.yn[idx])
        if model.has_terminations:
            t_loss = F.binary_cross_entropy_with_logits(model.term_net(self.term_in[idx]).squeeze(1), self.term[idx])
            optimizer_step(self.opts["term_opt"], t_loss, model.term_net)
        model.step_count += 1
        if self.held is not None and self.stopping is not None:
            last = model.step_count >= self.total
            if model.step_count % self.stopping.every == 0 or last:
                self._judge(last)
        return losses

    @torch.no_grad()
    def held_out_scores(self, members: bool = False) -> Tensor:
        """The energy score on the held-out rows of the whole model ``(1,)``, then with ``members``
        of each member ``(1 + members,)`` (an ensemble's), with fixed noise so that scores compare."""
        assert self.held is not None and self.stopping is not None
        model, (hc, hy) = self.model, self.held
        devices = [model.device] if model.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(model.seed)
            model.eval()
            scores = [energy_score(model._sample_y(hc, self.stopping.draws), hy)]
            each = model._member_samples(hc, self.stopping.draws) if members else None
            if each is not None:
                scores += [energy_score(m, hy) for m in each]
            model.train()
        return torch.stack(scores)

    def _judge(self, last: bool) -> None:
        """Score the held-out rows; at the end (or out of patience), on the best weights, choose the elites."""
        assert self.best is not None
        if self.best.observe(float(self.held_out_scores()[0]), last):
            members = self.held_out_scores(members=True)[1:]
            if len(members):
                self.model._choose_elites(members)

    def summary(self) -> dict[str, float]:
        last = None if self.best is None else self.best.last_score
        return {} if last is None else {"holdout_energy_score": last}

    def state(self) -> dict[str, Any]:
        training: dict[str, Any] = {"optim": {k: o.state_dict() for k, o in self.opts.items()},
                                    "rng": capture_rng(self.gen)}  # fmt: skip
        if self.best is not None:
            training.update(self.best.state())
        return {**self.model._state(), "training": training}


def as_stopping(value: EarlyStopping | bool | None) -> EarlyStopping | None:
    """``True`` is the default :class:`EarlyStopping`, ``False``/``None`` none."""
    if value is True:
        return EarlyStopping()
    if value is False or value is None:
        return None
    if not isinstance(value, EarlyStopping):
        raise InputError(f"early_stopping must be an EarlyStopping or a bool, got {type(value).__name__}")
    return value
