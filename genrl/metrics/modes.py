"""Mode coverage on Gaussian mixtures, following the PacGAN protocol (Lin et al. 2018)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from genrl.data import Mixture
from genrl.metrics.distances import energy_distance
from genrl.validation import as_float_tensor


def mode_metrics(samples: np.ndarray, mixture: Mixture) -> dict[str, float]:
    """Score samples ``(n, d)`` against a mixture's modes.

    A sample is *high quality* when it lies within 3σ of its nearest mode; a mode is *captured* when
    it receives at least one high-quality sample. ``reverse_kl`` is KL(p_model || uniform) where
    p_model is the histogram of high-quality samples over the modes (empty modes contribute 0;
    ``inf`` when no sample is high quality).

    :return: ``modes`` (count captured), ``hq_fraction``, ``reverse_kl`` and ``spread`` (the mean over
        captured modes of the standard deviation of their high-quality samples, relative to σ).
    """
    d = mixture.centers.shape[1]
    samples = as_float_tensor(samples, "samples", (d,), dtype=torch.float64).cpu().numpy()
    d2 = ((samples[:, None, :] - mixture.centers[None]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    hq = np.sqrt(d2[np.arange(len(samples)), nearest]) <= 3 * mixture.sigma
    k = len(mixture.centers)
    counts = np.bincount(nearest[hq], minlength=k)
    if counts.sum() == 0:
        return {"modes": 0, "hq_fraction": 0.0, "reverse_kl": float("inf"), "spread": float("nan")}
    p = counts / counts.sum()
    nz = p > 0
    # Spread: per captured mode (2+ high-quality samples), the standard deviation of its high-quality
    # samples (root mean of the per-axis variances) over σ. Samples of the mixture itself score about
    # 0.98 (the 3σ cut trims the tails); a generator that shrinks its modes to raise HQ scores far below 1.
    spreads = [np.sqrt(samples[hq & (nearest == m)].var(0).mean()) / mixture.sigma for m in range(k) if counts[m] >= 2]
    return {
        "modes": int(nz.sum()),
        "hq_fraction": float(hq.mean()),
        "reverse_kl": float((p[nz] * np.log(p[nz] * k)).sum()),
        "spread": float(np.mean(spreads)) if spreads else float("nan"),
    }


def mixture_scores(samples: np.ndarray, mixture: Mixture, seed: int = 0, n_reference: int = 2500) -> dict[str, float]:
    """:func:`mode_metrics` plus ``energy_distance`` to ``n_reference`` fresh mixture samples (drawn with
    ``seed + 10_000``)."""
    result = mode_metrics(samples, mixture)
    result["energy_distance"] = energy_distance(samples, mixture.sample(n_reference, seed + 10_000)[0])
    return result


class MixtureProbe:
    """A ``fit`` callback that scores a generator against its mixture along training.

    At every step that is a multiple of ``every``, and at ``last``, it scores 2,500 samples with
    :func:`mixture_scores` and calls ``emit({"step", "seconds", **scores})``, where ``seconds``
    counts training time only. ``every`` must be a multiple of the ``log_every`` passed to ``fit``
    (the callback runs after each logged row).
    """

    def __init__(self, mixture: Mixture, every: int, last: int, seed: int, emit: Callable[[dict[str, Any]], None]):
        self.mixture, self.every, self.last, self.seed, self.emit = mixture, every, last, seed, emit
        self.train_seconds, self._since = 0.0, time.perf_counter()

    def __call__(self, trainer: Any, row: Any) -> None:
        step = trainer.step_count
        if step % self.every and step != self.last:
            return
        self.train_seconds += time.perf_counter() - self._since
        scores = mixture_scores(trainer.sample(2500).cpu().numpy(), self.mixture, self.seed)
        self.emit({"step": step, "seconds": round(self.train_seconds, 3), **{k: round(v, 4) for k, v in scores.items()}})
        self._since = time.perf_counter()
