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

import warnings
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import Tensor, nn

from genrl import distributed
from genrl.data import EpochBatches
from genrl.errors import InputError, InputTypeError
from genrl.gan.losses import get_loss
from genrl.gan.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from genrl.gan.regularizers import EMA, HistoricalAverage
from genrl.gan.update import AdversarialUpdate, Classifier, Generator, feature_matching, historical_averaging
from genrl.io import fingerprint, load_checkpoint, restoring
from genrl.schedules import linear_lr_scale, set_lr
from genrl.training import Callback, Row, capture_rng, resume_streams, run, split_streams
from genrl.utils import bf16_autocast, resolve_device
from genrl.validation import as_float_tensor

_SALIMANS_MNIST: dict[str, Any] = {"hidden": (1000, 500, 250, 250, 250), "generator_hidden": (500, 500),
                                   "input_noise": 0.3, "hidden_noise": 0.5, "lr": 3e-3, "batch_size": 100}  # fmt: skip
PRESETS: dict[str, dict[str, Any]] = {
    # Salimans et al.'s permutation-invariant MNIST model (their D widths, noise and Adam settings).
    # Both clip the discriminator's gradient norm at 1.0 (see ``max_grad_norm``); their code does not.
    "mnist": {**_SALIMANS_MNIST, "max_steps": 18000, "max_grad_norm": 1.0},
    # The same model sized to an hour on one CPU core with bf16 autocast (for CPUs with AVX-512
    # BF16 or AMX, and GPUs; elsewhere set amp=False): 80k steps, the lr decayed to 0 over the second
    # half, and their code's Polyak rate 1e-4.
    "mnist_fast": {**_SALIMANS_MNIST, "max_steps": 80000, "decay_fraction": 0.5, "amp": True, "polyak_decay": 0.9999,
                   "max_grad_norm": 1.0},
    # Smaller nets for sklearn's 8x8 digits (64 features, 1,257 training rows).
    "digits": {"hidden": (500, 250, 250), "generator_hidden": (256, 256), "input_noise": 0.1,
               "hidden_noise": 0.3, "lr": 3e-3, "batch_size": 100, "max_steps": 3000},
}  # fmt: skip


class SSLGANClassifier(ClassifierMixin, BaseEstimator):
    """K+1-class semi-supervised GAN classifier.

    The defaults are a small model for tabular data that fits in well under 30 s on one CPU core
    for a few thousand rows (chosen on sklearn's digits, tuning splits 100–102); ``PRESETS``
    holds Salimans et al.'s MNIST model and a larger digits model.

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
    :param polyak_decay: decay of the weight average used for prediction (0: use the raw weights);
        warmed up as ``min(polyak_decay, (1 + t) / (10 + t))`` at step t, so short fits predict from
        recent weights rather than from the initial ones.
    :param lr: Adam learning rate (β1 = 0.5) for both players.
    :param max_grad_norm: clip the discriminator's gradient to this global norm before each step
        (None: no clipping). A discriminator that wins outright for a while has gradients a thousand
        times smaller than usual, and Adam, scaled to them, turns the next ordinary gradient into a
        step that can wreck it (MNIST's draw 1: 4.9% to 42% test error in 2,000 steps); the MNIST
        presets clip at 1.0, about the 99th percentile of that model's gradient norm in normal training.
    :param decay_fraction: the lr decays linearly to 0 over the last ``decay_fraction`` of
        ``max_steps`` (0: constant lr). The schedule follows ``max_steps``, not ``max_seconds``.
    :param amp: run the nets' forward passes under bfloat16 autocast (weights, optimiser state and
        losses stay float32). Faster on GPUs and on CPUs with AVX-512 BF16 or AMX: 1.7× per step
        of the MNIST preset on one core of this project's AMD EPYC; slower on CPUs without them.
    :param batch_size: rows per labeled, unlabeled and generated batch (split between processes
        under torchrun). Rows are drawn in shuffled epochs, so with at most ``batch_size`` labeled
        rows every labeled batch holds all of them.
    :param max_steps: training steps (one discriminator and one generator update each).
    :param max_seconds: stop earlier once training has run this long (checked every ``log_every``
        steps; time spent in ``callback`` does not count).
    :param random_state: seed for weights, batches and noise (``None``: a fresh seed from NumPy's
        global generator). ``fit`` leaves torch's global generators as it found them.
    :param device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
    :param verbose: show a progress bar with supervised loss, unsupervised loss and labeled accuracy.
    :param callback: called as ``callback(estimator, row)`` after each logged row (every
        ``log_every`` steps; e.g. to record test error against time); ``predict`` works inside it,
        and returning ``False`` stops training. ``history_`` holds the rows: step, training seconds
        (callbacks excluded), losses and labeled accuracy (and, with ``max_grad_norm``, the
        discriminator's mean gradient norm before clipping, ``d_grad_norm``).
    :param checkpoint_path: a file to save training to every ``checkpoint_every`` steps (0: only
        at the end) and at the end, atomically as safetensors (no pickle). To continue a killed
        run, ``SSLGANClassifier.load(path).fit(X, y)`` (same data and parameters). A path belongs
        to one fit: do not give it to an estimator that is cloned for several fits
        (cross-validation, grid search).
    :param tensorboard_dir: write the logged rows as TensorBoard scalars there.
    """

    def __init__(
        self,
        *,
        architecture: Literal["mlp", "conv"] = "mlp",
        hidden: tuple[int, ...] = (256, 128, 128),
        generator_hidden: tuple[int, ...] = (128, 128),
        base_channels: int = 64,
        latent_dim: int = 100,
        input_noise: float = 0.1,
        hidden_noise: float = 0.3,
        weight_norm: bool = True,
        generator_loss: Literal["feature_matching", "non_saturating"] = "feature_matching",
        unlabeled_weight: float = 1.0,
        minibatch_kernels: int = 0,
        label_smoothing: float = 0.0,
        historical_averaging: float = 0.0,
        polyak_decay: float = 0.999,
        lr: float = 3e-3,
        max_grad_norm: float | None = None,
        decay_fraction: float = 0.0,
        amp: bool = False,
        batch_size: int = 100,
        max_steps: int = 2500,
        max_seconds: float | None = None,
        random_state: int | None = None,
        device: str = "auto",
        verbose: bool = False,
        callback: Callback | None = None,
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
        self.max_grad_norm = max_grad_norm
        self.decay_fraction = decay_fraction
        self.amp = amp
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
        if self.max_grad_norm is not None and not (np.isfinite(self.max_grad_norm) and self.max_grad_norm > 0):
            raise InputError(f"max_grad_norm must be a finite number > 0 or None, got {self.max_grad_norm}")
        for name in ("batch_size", "max_steps", "latent_dim", "log_every"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("unlabeled_weight", "historical_averaging", "input_noise", "hidden_noise", "minibatch_kernels"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {v}")
        if not 0.0 <= self.decay_fraction <= 1.0:
            raise InputError(f"decay_fraction must be in [0, 1], got {self.decay_fraction}")
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"lr must be a finite number > 0, got {self.lr}")
        if self.batch_size % distributed.world_size():
            raise InputError(f"batch_size {self.batch_size} must be divisible by the {distributed.world_size()} processes")
        if self.unlabeled_weight > 0 and int(self.batch_size) // distributed.world_size() < 2:  # G's batch norm: 2 rows
            raise InputError(f"batch_size must give >= 2 rows per process to train a generator (unlabeled_weight > 0), "
                             f"got {self.batch_size} over {distributed.world_size()} processes")  # fmt: skip

    def _scale(self, X: Tensor) -> Tensor:
        """Map inputs to the generator's output range with the statistics learned in ``fit``."""
        x = (X - self.scale_min_) / self.scale_range_
        return x * 2 - 1 if self.architecture == "conv" else x.flatten(1)

    def _check_X(self, X: Any, fitted: bool) -> Tensor:
        """Tables through scikit-learn's own checks (its messages, ``n_features_in_`` and
        ``feature_names_in_``), raised as :class:`InputError`; images ``(N, C, H, W)`` through genrl's."""
        if self.architecture == "conv" or (hasattr(X, "ndim") and X.ndim == 4):
            images = as_float_tensor(X, "X", self.input_shape_ if fitted else None)
            if images.dim() != 4:
                raise InputError(f"architecture='conv' needs images X of shape (N, C, H, W), got {tuple(images.shape)}")
            return images
        try:
            table = validate_data(self, X, reset=not fitted, dtype=np.float32)
        except TypeError as e:  # not array-like at all (a dict, say)
            raise InputTypeError(f"X: {e}") from None
        except ValueError as e:
            raise InputError(f"X: {e}") from None
        return torch.from_numpy(np.ascontiguousarray(table))

    # ------------------------------------------------------------------ model
    def _build(self, n_features: int, n_classes: int) -> tuple[nn.Module, nn.Module | None]:
        D: nn.Module
        G: nn.Module
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

        On an estimator from :meth:`load` of a checkpoint written during ``fit``, ``fit`` instead
        continues that run to ``max_steps``, after checking it was written for the same data and
        parameters; otherwise every call is a fresh fit. torch's global random streams are left as
        they were (the fit draws from them, seeded, and puts them back).

        :param X: ``(N, n_features)`` or images ``(N, C, H, W)``.
        :param y: ``(N,)`` integer labels, ``-1`` for unlabeled rows.
        """
        device = resolve_device(self.device)
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> SSLGANClassifier:
        self._check_params()
        resume = self.__dict__.pop("_resume", None)
        X = self._check_X(X, fitted=False)
        y, labeled = _check_y(y, X.shape[0])
        self.classes_ = np.unique(y[labeled])
        if len(self.classes_) < 2:
            raise InputError(f"y has labeled rows of only one class ({self.classes_[0]}); need at least 2 classes")
        codes = np.full(len(y), -1, dtype=np.int64)  # class indices, -1 unlabeled
        codes[labeled] = np.searchsorted(self.classes_, y[labeled])
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        dims = [0] if X.dim() == 2 else [0, 1, 2, 3]  # per feature, or one range for images
        self.scale_min_ = X.amin(dim=dims)
        self.scale_range_ = (X.amax(dim=dims) - self.scale_min_).clamp_min(1e-8)
        device = resolve_device(self.device)
        seed = int(np.random.randint(2**31)) if self.random_state is None else int(self.random_state)
        torch.manual_seed(seed)
        x_all = self._scale(X).to(device)
        game = _KPlus1Game(self, x_all, torch.from_numpy(labeled).to(device),
                           torch.from_numpy(codes[labeled]).to(device), seed, device)  # fmt: skip
        game.fingerprint = fingerprint([X.numpy(), codes], [str(c) for c in self.classes_], params=self.get_params())
        if resume is not None:
            game.restore(resume)
        self.D_, self.G_, self.avg_, self.history_ = game.D, game.G, game.avg, game.history
        run(game, self.max_steps, log_every=self.log_every, progress=self.verbose, desc="SSL-GAN",
            tensorboard_dir=self.tensorboard_dir, checkpoint_path=self.checkpoint_path,
            checkpoint_every=self.checkpoint_every, callback=self.callback, owner=self, max_seconds=self.max_seconds,
            what="SSL-GAN")  # fmt: skip
        return self

    # ------------------------------------------------------------------ checkpoints
    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> SSLGANClassifier:
        """The estimator saved in a ``checkpoint_path`` file: it predicts as fitted so far, and
        ``fit`` on the same data continues its run to ``max_steps``."""
        s = load_checkpoint(path, kind="SSLGANClassifier")
        with restoring(path):
            params: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in s["params"].items()}
            est = cls(**params, device=device)
            est.checkpoint_path = str(path)
            f = s["fitted"]
            est.classes_, est.input_shape_ = np.asarray(f["classes"]), tuple(f["input_shape"])
            est.n_features_in_, est.scale_min_, est.scale_range_ = f["n_features_in"], f["scale_min"], f["scale_range"]
            D, G = est._build(est.n_features_in_, len(est.classes_))
            dev = resolve_device(device)
            est.D_, est.G_ = D.to(dev), (G.to(dev) if G is not None else None)
            est.D_.load_state_dict(s["D"])
            if est.G_ is not None:
                est.G_.load_state_dict(s["G"])
            est.avg_ = EMA(est.D_, est.polyak_decay, warmup=True) if est.polyak_decay else None
            if est.avg_ is not None:
                est.avg_.module.load_state_dict(s["avg"])
                est.avg_.count = int(s["step"])
            est.history_ = list(s["history"])
            est._resume = s
        return est

    # ------------------------------------------------------------------ prediction
    @torch.no_grad()
    def _logits(self, X: Any) -> Tensor:
        check_is_fitted(self, "classes_")
        X = self._check_X(X, fitted=True)
        D = self.avg_.module if self.avg_ is not None else self.D_
        was = D.training
        D.eval()
        dev = next(D.parameters()).device
        C = cast(Classifier, D)  # the K+1-class discriminator
        out = torch.cat([C.classify(C.features(self._scale(xb).to(dev))).cpu() for xb in X.split(4096)])
        D.train(was)
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, n_classes)`` given that x is real (rows sum to 1)."""
        return torch.softmax(self._logits(X).double(), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``(N,)`` from ``classes_``."""
        index = self._logits(X).argmax(1).numpy()  # first: it raises NotFittedError before classes_ is read
        return self.classes_[index]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy on the labeled rows of ``y`` (``-1`` rows are skipped, not counted as errors), so
        ``cross_val_score`` and ``GridSearchCV`` give meaningful numbers on semi-supervised ``y``."""
        y, labeled = _check_y(y, len(X))
        weight = None if sample_weight is None else np.asarray(sample_weight)[labeled]
        rows = np.flatnonzero(labeled)
        X_labeled = X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]
        return float(accuracy_score(y[labeled], self.predict(X_labeled), sample_weight=weight))

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


class _KPlus1Game:
    """One :class:`SSLGANClassifier` fit as a :class:`~genrl.training.Trainable`: the K+1 discriminator
    and the generator, the core's adversarial update with the supervised cross-entropy as an extra
    discriminator cost, and the data on the device."""

    def __init__(self, est: SSLGANClassifier, x_all: Tensor, labeled: Tensor, y_lab: Tensor, seed: int,
                 device: torch.device) -> None:  # fmt: skip
        self.est, self.x_all, self.x_lab, self.y_lab = est, x_all, x_all[labeled], y_lab
        self.rng = torch.Generator(device=device).manual_seed(seed)
        self.seed, self.device, self.fingerprint = seed, device, ""
        D, G = est._build(est.n_features_in_, len(est.classes_))
        self.D, self.G = D.to(device), (G.to(device) if G is not None else None)
        if isinstance(self.D, MLPDiscriminator) and est.weight_norm:
            self.D.init_from_data(x_all[torch.randperm(len(x_all), generator=self.rng, device=device)[:500]])
        nets = [m for m in (self.D, self.G) if m is not None]
        for net in nets:  # rank 0's weights everywhere, then a data and noise stream per rank
            distributed.broadcast_module(net)
        split_streams(seed, self.rng)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=est.lr, betas=(0.5, 0.999))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=est.lr, betas=(0.5, 0.999)) if self.G is not None else None
        self.avg = EMA(self.D, est.polyak_decay, warmup=True) if est.polyak_decay else None
        self.ha = [HistoricalAverage(m.parameters()) for m in nets] if est.historical_averaging else []
        d_costs = [historical_averaging(self.ha[0], est.historical_averaging)] if self.ha else []
        g_costs = [feature_matching(1.0)] if est.generator_loss == "feature_matching" else []
        g_costs += [historical_averaging(self.ha[1], est.historical_averaging)] if len(self.ha) > 1 else []
        fm = est.generator_loss == "feature_matching"
        self.update = AdversarialUpdate(cast(Classifier, self.D), self.opt_d, get_loss("non_saturating"),
                                        G=cast(Generator, self.G), opt_g=self.opt_g, label_smoothing=est.label_smoothing,
                                        adversarial_weight=(est.unlabeled_weight, 0.0 if fm else 1.0),
                                        d_costs=d_costs, g_costs=g_costs, d_max_grad_norm=est.max_grad_norm)  # fmt: skip
        self.B = est.batch_size // distributed.world_size()
        # Shuffled epochs, as Salimans et al.'s code draws them: with 100 labels and batch 100 every
        # labeled batch holds all of them. One order for the labels, one per player for the rest.
        sizes = (len(self.x_lab), len(x_all), len(x_all))
        self.lab_rows, self.d_rows, self.g_rows = (EpochBatches(n, self.B, distributed.rank_seed(seed), stream, device)
                                                   for stream, n in enumerate(sizes))  # fmt: skip
        self.step_count = 0
        self.history: list[Row] = []

    def _autocast(self) -> torch.autocast:
        return bf16_autocast(self.device, self.est.amp)

    def train_step(self) -> dict[str, Tensor]:
        D, G, up, est = self.D, self.G, self.update, self.est
        C = cast(Classifier, D)  # the K+1-class discriminator
        D.train()
        if est.decay_fraction:
            scale = linear_lr_scale(self.step_count, est.max_steps, est.decay_fraction)
            for opt in (self.opt_d, self.opt_g):
                if opt is not None:
                    set_lr(opt, est.lr * scale)
        i_lab = self.lab_rows(self.step_count)
        with self._autocast():
            logits = C.classify(C.features(self.x_lab[i_lab])).float()
            sup = F.cross_entropy(logits, self.y_lab[i_lab])
            d_loss, unsup = sup, torch.zeros((), device=self.device)
            if G is not None:
                x_unl = self.x_all[self.d_rows(self.step_count)]
                fake = G(torch.rand(self.B, est.latent_dim, device=self.device, generator=self.rng))
                d_loss, j = up.discriminator_loss(x_unl, fake.detach(), extra=sup)
                unsup = cast(Tensor, j.adversarial_cost)
            elif self.ha:
                d_loss = sup + est.historical_averaging * self.ha[0].penalty()
        up.step_discriminator(d_loss)
        if G is not None:
            with self._autocast():
                x_unl2 = self.x_all[self.g_rows(self.step_count)]
                h_real = None
                if est.generator_loss == "feature_matching":
                    with torch.no_grad():
                        h_real = C.features(x_unl2)
                g_loss, _ = up.generator_loss(fake, real_features=h_real)
            up.step_generator(g_loss)
        distributed.average_buffers(*(m for m in (D, G) if m is not None))  # before the Polyak average copies them
        for a in (self.avg, *self.ha):
            if a is not None:
                a.update()
        self.step_count += 1
        acc = (logits.argmax(1) == self.y_lab[i_lab]).float().mean()
        row = {"sup_loss": sup.detach(), "unsup_loss": unsup.detach(), "labeled_acc": acc}
        if up.d_grad_norm is not None:  # the clip's reading, free: a runaway shows here first
            row["d_grad_norm"] = up.d_grad_norm.detach()
        return row

    def state(self) -> dict[str, Any]:
        est = self.est
        params = {k: v for k, v in est.get_params().items() if k not in ("callback", "device", "checkpoint_path")}
        fitted = {"classes": est.classes_.tolist(), "input_shape": list(est.input_shape_),
                  "n_features_in": est.n_features_in_, "scale_min": est.scale_min_,
                  "scale_range": est.scale_range_}  # fmt: skip
        return {"kind": "SSLGANClassifier", "params": params, "fitted": fitted, "fingerprint": self.fingerprint,
                "step": self.step_count, "history": self.history, "seed": self.seed,
                "D": self.D.state_dict(), "G": self.G.state_dict() if self.G is not None else None,
                "avg": self.avg.module.state_dict() if self.avg is not None else None,
                "ha": [{"averages": a.averages, "count": a.count} for a in self.ha],
                "opt": {"opt_d": self.opt_d.state_dict(), "opt_g": self.opt_g.state_dict() if self.opt_g else None},
                "rng": capture_rng(self.rng)}  # fmt: skip

    def restore(self, s: dict[str, Any]) -> None:
        """Continue the run saved in checkpoint state ``s`` (from :meth:`SSLGANClassifier.load`)."""
        path = self.est.checkpoint_path
        if s.get("fingerprint") != self.fingerprint:
            raise InputError(f"checkpoint {path!r} was written for other data or parameters; fit a fresh estimator instead")
        with restoring(path or "checkpoint"):
            self.D.load_state_dict(s["D"])
            if self.G is not None:
                self.G.load_state_dict(s["G"])
            if self.avg is not None:
                self.avg.module.load_state_dict(s["avg"])
                self.avg.count = int(s["step"])  # one average update per step
            for a, saved in zip(self.ha, s["ha"]):
                a.count = saved["count"]
                for dst, src in zip(a.averages, saved["averages"]):
                    dst.copy_(src)
            self.opt_d.load_state_dict(s["opt"]["opt_d"])
            if self.opt_g is not None:
                self.opt_g.load_state_dict(s["opt"]["opt_g"])
            step, self.seed = int(s["step"]), int(s["seed"])  # the run's own seed, also when random_state is None
            resume_streams(s["rng"], self.seed + step, self.rng)
            self.step_count, self.history = step, list(s["history"])


def _check_y(y: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels of any type scikit-learn classifiers take, ``-1`` (or ``"-1"``) marking unlabeled rows
    -> (labels ``(n,)``, labeled mask), with scikit-learn's messages."""
    if y is None:
        raise InputError("SSLGANClassifier requires y to be passed, but the target y is None (-1 marks unlabeled rows)")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected; it is raveled.", DataConversionWarning,
                      stacklevel=3)  # fmt: skip
        y = y.ravel()
    if y.ndim != 1 or len(y) != n:
        raise InputError(f"y must have shape ({n},) to match X, got {y.shape}")
    unlabeled = y.astype(str) == "-1" if y.dtype.kind in "OUS" else y == -1
    labeled = ~unlabeled
    if not labeled.any():
        raise InputError("y has no labeled rows (every entry is -1); at least one per class is needed")
    try:
        check_classification_targets(y[labeled])
    except (ValueError, TypeError) as e:
        raise InputError(f"y: {e}") from None
    return y, labeled
