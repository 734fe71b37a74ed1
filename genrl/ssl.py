"""Semi-supervised classification with a K+1-class GAN discriminator (Salimans et al. 2016).

:class:`SSLGANClassifier` is a scikit-learn estimator. ``fit(X, y)`` takes every row of ``X`` as
unlabeled data and the rows with ``y != -1`` as labeled data (the ``sklearn.semi_supervised``
convention). The discriminator is a core GAN discriminator with ``conditioning="kplus1"``: it
outputs K class logits and the "generated" class has its logit fixed at 0 (see
:mod:`genrl.gan.nets`). Its cost on each step is

* supervised: cross-entropy of the K logits on a labeled batch;
* unsupervised: the core discriminator cost J(D) (:func:`genrl.gan.losses.bce_d_loss`) on the
  real/fake logit ``logsumexp(l)`` of an unlabeled batch and a generated batch, weighted by
  ``unlabeled_weight``.

We use the fixed-zero fake logit rather than an explicit (K+1)-th output because the softmax over
K+1 logits has one redundant degree of freedom; pinning it makes ``D(x) = Z/(Z+1)`` exact, keeps
the K-class posterior a plain softmax of the same logits, and leaves no output unit without a
gradient. The generator minimises feature matching on the discriminator's last hidden layer
(``generator_loss="feature_matching"``, the setting that gives the best classifiers) or the
non-saturating cost. Predictions use a Polyak (EMA) average of the discriminator's weights.

Under ``torchrun`` (see :mod:`genrl.distributed`) ``fit`` trains one model in every process: each
draws its own ``batch_size / world_size`` rows and noise, gradients are averaged over processes and
only rank 0 shows progress; every rank ends with the same fitted estimator.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn

from genrl import distributed
from genrl.errors import DivergenceError, InputError
from genrl.gan.losses import get_loss
from genrl.gan.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from genrl.gan.regularizers import EMA, HistoricalAverage, feature_matching_loss
from genrl.io import load_checkpoint, restoring, save_checkpoint
from genrl.progress import ProgressLogger
from genrl.utils import resolve_device
from genrl.validation import as_float_tensor, as_label_tensor

PRESETS: dict[str, dict[str, Any]] = {
    # Salimans et al.'s permutation-invariant MNIST model (their D widths, noise and Adam settings).
    "mnist": {"hidden": (1000, 500, 250, 250, 250), "generator_hidden": (500, 500), "input_noise": 0.3,
              "hidden_noise": 0.5, "lr": 3e-3, "batch_size": 100, "max_steps": 18000},
    # Smaller nets for sklearn's 8x8 digits (64 features, 1,257 training rows).
    "digits": {"hidden": (500, 250, 250), "generator_hidden": (256, 256), "input_noise": 0.1,
               "hidden_noise": 0.3, "lr": 3e-3, "batch_size": 100, "max_steps": 3000},
}  # fmt: skip


class SSLGANClassifier(ClassifierMixin, BaseEstimator):
    """K+1-class semi-supervised GAN classifier.

    :param architecture: ``"mlp"`` (any input, flattened; inputs min-max scaled to [0, 1], sigmoid
        generator) or ``"conv"`` (images ``(N, C, H, W)``; scaled to [-1, 1], DCGAN nets).
    :param hidden: discriminator widths (mlp) — feature matching uses the last one.
    :param generator_hidden: generator widths (mlp).
    :param base_channels: conv net width.
    :param latent_dim: generator noise size.
    :param input_noise: σ of Gaussian noise on discriminator inputs (training only).
    :param hidden_noise: σ of Gaussian noise on discriminator hidden layers (mlp, training only).
    :param weight_norm: weight-normalise the mlp discriminator (with data-dependent init).
    :param generator_loss: ``"feature_matching"`` or ``"non_saturating"``.
    :param unlabeled_weight: weight of the unsupervised real/fake term; 0 trains the same network
        on the labeled rows alone (no generator).
    :param minibatch_kernels: minibatch-discrimination kernels before the class head (0: off).
    :param label_smoothing: one-sided smoothing of the real target of the unsupervised term.
    :param historical_averaging: weight of the historical-averaging penalty on both players.
    :param polyak_decay: decay of the weight average used for prediction (0: use the raw weights).
    :param lr: Adam learning rate (β1 = 0.5) for both players.
    :param batch_size: rows per labeled, unlabeled and generated batch (split between processes
        under torchrun).
    :param max_steps: training steps (one discriminator and one generator update each).
    :param max_seconds: stop earlier once training has run this long (checked every ``log_every``
        steps; time spent in ``callback`` does not count).
    :param random_state: seed for weights, batches and noise (``None``: a fresh seed from NumPy's
        global generator). ``fit`` seeds torch's global generator with it.
    :param device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
    :param verbose: show a progress bar with supervised loss, unsupervised loss and labeled accuracy.
    :param callback: called as ``callback(estimator, step)`` every ``log_every`` steps (e.g. to
        record test error against time); ``predict`` works inside it. ``history_`` holds one row per
        call: step, training seconds (callbacks excluded), losses and labeled accuracy.
    :param checkpoint_path: a file to save training to every ``checkpoint_every`` steps (0: only
        at the end; saves happen at logging steps) and at the end, atomically as safetensors (no
        pickle). If it already exists when ``fit`` starts, ``fit`` resumes from it to ``max_steps``,
        after checking it was written for the same data and parameters, so a killed run is
        continued by calling ``fit`` again. A path belongs to one fit: do not give it to an
        estimator that is cloned for several fits (cross-validation, grid search).
    :param tensorboard_dir: write the logged rows as TensorBoard scalars there.
    """

    def __init__(
        self,
        *,
        architecture: Literal["mlp", "conv"] = "mlp",
        hidden: tuple[int, ...] = (1000, 500, 250, 250, 250),
        generator_hidden: tuple[int, ...] = (500, 500),
        base_channels: int = 64,
        latent_dim: int = 100,
        input_noise: float = 0.3,
        hidden_noise: float = 0.5,
        weight_norm: bool = True,
        generator_loss: Literal["feature_matching", "non_saturating"] = "feature_matching",
        unlabeled_weight: float = 1.0,
        minibatch_kernels: int = 0,
        label_smoothing: float = 0.0,
        historical_averaging: float = 0.0,
        polyak_decay: float = 0.999,
        lr: float = 3e-3,
        batch_size: int = 100,
        max_steps: int = 3000,
        max_seconds: float | None = None,
        random_state: int | None = None,
        device: str = "auto",
        verbose: bool = False,
        callback: Callable[[SSLGANClassifier, int], None] | None = None,
        log_every: int = 100,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1000,
        tensorboard_dir: str | None = None,
    ) -> None:
        self.architecture = architecture
        self.hidden = hidden
        self.generator_hidden = generator_hidden
        self.base_channels = base_channels
        self.latent_dim = latent_dim
        self.input_noise = input_noise
        self.hidden_noise = hidden_noise
        self.weight_norm = weight_norm
        self.generator_loss = generator_loss
        self.unlabeled_weight = unlabeled_weight
        self.minibatch_kernels = minibatch_kernels
        self.label_smoothing = label_smoothing
        self.historical_averaging = historical_averaging
        self.polyak_decay = polyak_decay
        self.lr = lr
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.callback = callback
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.tensorboard_dir = tensorboard_dir
        self.log_every = log_every

    # ------------------------------------------------------------------ input handling
    def _check_params(self) -> None:
        if self.architecture not in ("mlp", "conv"):
            raise InputError(f"architecture must be 'mlp' or 'conv', got {self.architecture!r}")
        if self.generator_loss not in ("feature_matching", "non_saturating"):
            raise InputError(f"generator_loss must be 'feature_matching' or 'non_saturating', got {self.generator_loss!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise InputError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0.0 <= self.polyak_decay < 1.0:
            raise InputError(f"polyak_decay must be in [0, 1), got {self.polyak_decay}")
        for name in ("batch_size", "max_steps", "latent_dim", "log_every"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("unlabeled_weight", "historical_averaging", "input_noise", "hidden_noise", "minibatch_kernels"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {v}")
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"lr must be a finite number > 0, got {self.lr}")
        if self.batch_size % distributed.world_size():
            raise InputError(f"batch_size {self.batch_size} must be divisible by the {distributed.world_size()} processes")
        if self.unlabeled_weight > 0 and int(self.batch_size) < 2:  # the generator's batch norm needs 2 rows per batch
            raise InputError(f"batch_size must be >= 2 to train a generator (unlabeled_weight > 0), got {self.batch_size}")

    def _scale(self, X: Tensor) -> Tensor:
        """Map inputs to the generator's output range with the statistics learned in ``fit``."""
        x = (X - self.scale_min_) / self.scale_range_
        return x * 2 - 1 if self.architecture == "conv" else x.flatten(1)

    def _check_X(self, X: Any, fitted: bool) -> Tensor:
        shape = self.input_shape_ if fitted else None
        X = as_float_tensor(X, "X", shape)
        if not fitted:
            if self.architecture == "conv" and X.dim() != 4:
                raise InputError(f"architecture='conv' needs images X of shape (N, C, H, W), got {tuple(X.shape)}")
            if X.dim() not in (2, 4):
                raise InputError(f"X must be (N, n_features) or images (N, C, H, W), got shape {tuple(X.shape)}")
        return X

    # ------------------------------------------------------------------ model
    def _build(self, n_features: int, n_classes: int) -> tuple[nn.Module, nn.Module | None]:
        if self.architecture == "conv":
            shape = self.input_shape_
            D = DCGANDiscriminator(shape, self.base_channels, norm="none", n_classes=n_classes, conditioning="kplus1",
                                   minibatch_kernels=self.minibatch_kernels, dropout=0.2,
                                   input_noise=self.input_noise)  # fmt: skip
            G = DCGANGenerator(self.latent_dim, shape, self.base_channels)
        else:
            D = MLPDiscriminator(n_features, self.hidden, n_classes=n_classes, conditioning="kplus1",
                                 minibatch_kernels=self.minibatch_kernels, input_noise=self.input_noise,
                                 hidden_noise=self.hidden_noise, weight_norm=self.weight_norm)  # fmt: skip
            G = MLPGenerator(self.latent_dim, n_features, self.generator_hidden, out_activation="sigmoid")
        return D, (G if self.unlabeled_weight > 0 else None)

    def fit(self, X: Any, y: Any) -> SSLGANClassifier:
        """Train on ``X`` (all rows unlabeled data) with labels ``y`` (``-1`` = unlabeled).

        :param X: ``(N, n_features)`` or images ``(N, C, H, W)``.
        :param y: ``(N,)`` integer labels, ``-1`` for unlabeled rows.
        """
        self._check_params()
        X = self._check_X(X, fitted=False)
        y = as_label_tensor(y, "y", X.shape[0], allow_unlabeled=True).numpy()
        labeled = y != -1
        if not labeled.any():
            raise InputError("y has no labeled rows (every entry is -1); at least one per class is needed")
        self.classes_ = np.unique(y[labeled])
        if len(self.classes_) < 2:
            raise InputError(f"y has labeled rows of only one class ({self.classes_[0]}); need at least 2 classes")
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        dims = [0] if X.dim() == 2 else [0, 1, 2, 3]  # per feature, or one range for images
        self.scale_min_ = X.amin(dim=dims)
        self.scale_range_ = (X.amax(dim=dims) - self.scale_min_).clamp_min(1e-8)
        device = resolve_device(self.device)
        seed = int(np.random.randint(2**31)) if self.random_state is None else int(self.random_state)
        torch.manual_seed(seed)
        rng = torch.Generator(device=device).manual_seed(seed)

        x_all = self._scale(X).to(device)
        x_lab = x_all[torch.from_numpy(labeled).to(device)]
        y_lab = torch.from_numpy(np.searchsorted(self.classes_, y[labeled])).to(device)
        D, G = self._build(self.n_features_in_, len(self.classes_))
        D, G = D.to(device), (G.to(device) if G is not None else None)
        if isinstance(D, MLPDiscriminator) and self.weight_norm:
            D.init_from_data(x_all[torch.randperm(len(x_all), generator=rng, device=device)[:500]])
        nets = [m for m in (D, G) if m is not None]
        for net in nets:  # rank 0's weights everywhere, then a data and noise stream per rank
            distributed.broadcast_module(net)
        if distributed.rank():
            torch.manual_seed(distributed.rank_seed(seed))
            rng.manual_seed(distributed.rank_seed(seed))
        opt_d = torch.optim.Adam(D.parameters(), lr=self.lr, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam(G.parameters(), lr=self.lr, betas=(0.5, 0.999)) if G is not None else None
        avg = EMA(D, self.polyak_decay) if self.polyak_decay else None
        ha = [HistoricalAverage(m.parameters()) for m in (D, G) if m is not None] if self.historical_averaging else []
        d_cost = get_loss("non_saturating")
        real_target = 1.0 - self.label_smoothing
        self.D_, self.G_, self.avg_ = D, G, avg
        self.history_: list[dict[str, float]] = []
        fingerprint = _fingerprint(X, y, self.get_params())
        opts = {"opt_d": opt_d, "opt_g": opt_g}
        start = 1
        if self.checkpoint_path and Path(self.checkpoint_path).exists():
            start = self._restore(fingerprint, opts, ha, rng) + 1
            if distributed.rank():  # the checkpoint holds rank 0's streams
                rng.manual_seed(distributed.rank_seed(seed) + start)
                torch.manual_seed(distributed.rank_seed(seed) + start)
        seconds_before, last_saved = (self.history_[-1]["seconds"] if self.history_ else 0.0), start - 1
        if self.max_seconds is not None and seconds_before >= self.max_seconds:
            start = self.max_steps + 1  # the resumed run had already spent its time budget

        B = self.batch_size // distributed.world_size()
        main = distributed.is_main_process()
        logger = ProgressLogger(total=self.max_steps, initial=start - 1, enabled=self.verbose and main, desc="SSL-GAN",
                                tensorboard_dir=self.tensorboard_dir if main else None)  # fmt: skip
        running = torch.zeros(3, device=device)
        t0, callback_seconds = time.perf_counter(), 0.0
        try:
            for step in range(start, self.max_steps + 1):
                D.train()
                i_lab = torch.randint(len(x_lab), (B,), device=device, generator=rng)
                logits = D.classify(D.features(x_lab[i_lab]))
                sup = F.cross_entropy(logits, y_lab[i_lab])
                d_loss, unsup = sup, torch.zeros((), device=device)
                if G is not None:
                    x_unl = x_all[torch.randint(len(x_all), (B,), device=device, generator=rng)]
                    fake = G(torch.rand(B, self.latent_dim, device=device, generator=rng))
                    unsup = d_cost.d_loss(D(x_unl), D(fake.detach()), real_target)
                    d_loss = sup + self.unlabeled_weight * unsup
                if ha:
                    d_loss = d_loss + self.historical_averaging * ha[0].penalty()
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                distributed.average_gradients(D)
                opt_d.step()
                if G is not None:
                    x_unl2 = x_all[torch.randint(len(x_all), (B,), device=device, generator=rng)]
                    if self.generator_loss == "feature_matching":
                        g_loss = feature_matching_loss(D.features(x_unl2), D.features(fake))
                    else:
                        g_loss = d_cost.g_loss(D(fake))
                    if ha:
                        g_loss = g_loss + self.historical_averaging * ha[1].penalty()
                    opt_g.zero_grad(set_to_none=True)
                    g_loss.backward(inputs=list(G.parameters()))
                    distributed.average_gradients(G)
                    opt_g.step()
                distributed.average_buffers(*nets)  # before the Polyak average copies them
                for a in (avg, *ha):
                    if a is not None:
                        a.update()
                running += torch.stack([sup.detach(), unsup.detach(), (logits.argmax(1) == y_lab[i_lab]).float().mean()])
                if step % self.log_every == 0 or step == self.max_steps:
                    n = self.log_every if step % self.log_every == 0 else step % self.log_every
                    s, u, acc = distributed.all_reduce(running / n, "mean").tolist()
                    if not (np.isfinite(s) and np.isfinite(u)):
                        raise DivergenceError(f"SSL-GAN training diverged at step {step} (non-finite loss); lower lr")
                    # The slowest rank's clock, so that every rank stops at the same step under max_seconds.
                    elapsed = torch.tensor(time.perf_counter() - t0 - callback_seconds, dtype=torch.float64, device=device)
                    row = {"step": step, "seconds": seconds_before + float(distributed.all_reduce(elapsed, "max")),
                           "sup_loss": s, "unsup_loss": u, "labeled_acc": acc}  # fmt: skip
                    self.history_.append(row)
                    logger.log(row, advance=n)
                    running.zero_()
                    if self.callback is not None:
                        t_cb = time.perf_counter()
                        self.callback(self, step)
                        callback_seconds += time.perf_counter() - t_cb
                    stop = self.max_seconds is not None and row["seconds"] > self.max_seconds
                    due = stop or step == self.max_steps or 0 < self.checkpoint_every <= step - last_saved
                    if self.checkpoint_path and due:
                        self._save(step, fingerprint, opts, ha, rng)
                        last_saved = step
                    if stop:
                        break
        finally:
            logger.close()
        return self

    # ------------------------------------------------------------------ checkpoints
    def _save(self, step: int, fingerprint: str, opts: dict, ha: list[HistoricalAverage], rng: torch.Generator) -> None:
        if not distributed.is_main_process():
            return
        state = {"kind": "SSLGANClassifier", "fingerprint": fingerprint, "step": step, "history": self.history_,
                 "D": self.D_.state_dict(), "G": self.G_.state_dict() if self.G_ is not None else None,
                 "avg": self.avg_.module.state_dict() if self.avg_ is not None else None,
                 "ha": [{"averages": a.averages, "count": a.count} for a in ha],
                 "opt": {k: o.state_dict() for k, o in opts.items() if o is not None},
                 "rng": rng.get_state(), "torch_rng": torch.get_rng_state()}  # fmt: skip
        save_checkpoint(self.checkpoint_path, state)

    def _restore(self, fingerprint: str, opts: dict, ha: list[HistoricalAverage], rng: torch.Generator) -> int:
        """Load the checkpoint into the freshly built nets; return the step it was written at."""
        s = load_checkpoint(self.checkpoint_path, kind="SSLGANClassifier")
        if s.get("fingerprint") != fingerprint:
            raise InputError(f"checkpoint {self.checkpoint_path!r} was written for other data or parameters; "
                             "delete it or pass another checkpoint_path")  # fmt: skip
        with restoring(self.checkpoint_path):
            self.D_.load_state_dict(s["D"])
            if self.G_ is not None:
                self.G_.load_state_dict(s["G"])
            if self.avg_ is not None:
                self.avg_.module.load_state_dict(s["avg"])
            for a, saved in zip(ha, s["ha"]):
                a.count = saved["count"]
                for dst, src in zip(a.averages, saved["averages"]):
                    dst.copy_(src)
            for k, o in opts.items():
                if o is not None:
                    o.load_state_dict(s["opt"][k])
            rng.set_state(s["rng"])
            torch.set_rng_state(s["torch_rng"])
            self.history_ = list(s["history"])
            return int(s["step"])

    # ------------------------------------------------------------------ prediction
    @torch.no_grad()
    def _logits(self, X: Any) -> Tensor:
        check_is_fitted(self, "classes_")
        X = self._check_X(X, fitted=True)
        D = self.avg_.module if self.avg_ is not None else self.D_
        was = D.training
        D.eval()
        dev = next(D.parameters()).device
        out = torch.cat([D.classify(D.features(self._scale(xb).to(dev))).cpu() for xb in X.split(4096)])
        D.train(was)
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, n_classes)`` given that x is real (rows sum to 1)."""
        return torch.softmax(self._logits(X).double(), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``(N,)`` from ``classes_``."""
        return self.classes_[self._logits(X).argmax(1).numpy()]

    @torch.no_grad()
    def sample(self, n: int) -> np.ndarray:
        """``n`` generated inputs in the original input scale and shape."""
        check_is_fitted(self, "classes_")
        if self.G_ is None:
            raise InputError("unlabeled_weight=0 trains no generator; there is nothing to sample")
        G = self.G_.eval()
        dev = next(G.parameters()).device
        x = G(torch.rand(n, self.latent_dim, device=dev)).cpu()
        G.train()
        if self.architecture == "conv":
            x = (x + 1) / 2
        return (x.view(n, *self.input_shape_) * self.scale_range_ + self.scale_min_).numpy()


# Parameters that do not change what training computes; a resumed fit may change them.
_RUN_ONLY_PARAMS = {"callback", "verbose", "device", "checkpoint_path", "checkpoint_every", "max_steps", "max_seconds",
                    "log_every", "tensorboard_dir"}  # fmt: skip


def _fingerprint(X: Tensor, y: np.ndarray, params: dict[str, Any]) -> str:
    """SHA-256 of the training data and the parameters that shape training (for safe resumes)."""
    h = hashlib.sha256(X.contiguous().numpy().tobytes())
    h.update(np.ascontiguousarray(y).tobytes())
    h.update(json.dumps({k: v for k, v in params.items() if k not in _RUN_ONLY_PARAMS}, sort_keys=True, default=str).encode())
    return h.hexdigest()
