"""Validation-based early stopping: keep a module's best weights, end the fit when out of patience.

Used by the world-model fit (:mod:`genrl.worldmodel.fitting`) and the GAN imputer
(:mod:`genrl.impute.imputer`); each scores its own held-out data (a strictly proper scoring rule of
its draws, lower is better) and hands the score to :meth:`BestWeights.observe`. A trainable that
exposes :attr:`BestWeights.finished` as its ``finished`` attribute is ended by
:func:`genrl.training.run`.
"""

from __future__ import annotations

from typing import Any

from torch import nn


class BestWeights:
    """The best validation score so far, the weights that scored it, and the scores since.

    :param patience: scores in a row without a ``threshold`` relative improvement before stopping.
    :param threshold: relative improvement on the best that resets the patience (0: any new best).
    """

    def __init__(self, module: nn.Module, patience: int, threshold: float = 0.0) -> None:
        self.module, self.patience, self.threshold = module, patience, threshold
        self.best_score, self.stale, self.finished = float("inf"), 0, False
        self.best_weights: dict[str, Any] | None = None
        self.last_score: float | None = None

    def observe(self, score: float, last: bool = False) -> bool:
        """Record a validation score; keep the weights if it is the best. Out of patience
        :attr:`finished` turns true; then, or at the ``last`` score of the budget, the module gets its
        best weights back and this returns True. (A fit that ran its whole budget is not
        ``finished``: resumed with a larger budget, it goes on from its best weights.)"""
        self.last_score, best = score, self.best_score
        if score < best:  # a new best, kept even when it is not better by the threshold
            self.best_score = score
            self.best_weights = {k: v.detach().clone() for k, v in self.module.state_dict().items()}
        self.stale = 0 if score < best * (1 - self.threshold) else self.stale + 1
        self.finished = self.stale >= self.patience
        if not (last or self.finished):
            return False
        if self.best_weights is not None:
            self.module.load_state_dict(self.best_weights)
        return True

    def state(self) -> dict[str, Any]:
        """Checkpoint state (empty before the first score)."""
        if self.best_weights is None:
            return {}
        return {"best_weights": self.best_weights, "best_score": self.best_score, "stale": self.stale,
                "finished": self.finished, "last_score": self.last_score}  # fmt: skip

    def restore(self, state: dict[str, Any]) -> None:
        if "best_weights" in state:
            self.best_weights, self.best_score = state["best_weights"], state["best_score"]
            self.stale, self.finished, self.last_score = state["stale"], state["finished"], state.get("last_score")
