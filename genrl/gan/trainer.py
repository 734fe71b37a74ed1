"""GANTrainer: the two-player game, one generator update per :meth:`GANTrainer.step`.

Update schemes (``GANConfig.update``):

* ``"simultaneous"``: both players take a gradient step computed at the same parameters on the same
  minibatch pair (x, z), as in the original formulation.
* ``"alternating"``: ``d_steps`` discriminator steps (each on its own chunk of the real batch and
  fresh z), then one generator step on fresh z against the updated discriminator.

``fit`` trains *to* a total step count: after a resume, ``fit(X, steps=N)`` continues until N.

Under ``torchrun`` (see :mod:`genrl.distributed`) every process draws its own ``batch_size /
world_size`` rows and noise, gradients are averaged over processes before each optimizer step, and
only rank 0 logs and writes checkpoints: the same game as one process with ``batch_size`` rows, up
to data order, except that batch statistics (batch norm, feature matching, minibatch
discrimination) are taken per process.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, cast

import torch
from torch import Tensor, nn

from genrl import distributed
from genrl.errors import InputError
from genrl.gan.layers import pack
from genrl.gan.losses import get_loss
from genrl.gan.nets import build_net
from genrl.gan.regularizers import EMA, HistoricalAverage
from genrl.gan.update import (
    AdversarialUpdate,
    Classifier,
    Discriminator,
    Generator,
    auxiliary_classifier,
    feature_matching,
    historical_averaging,
)
from genrl.io import load_checkpoint, restoring, save_checkpoint
from genrl.schedules import linear_lr_scale, set_lr
from genrl.training import Callback, Row, capture_rng, resume_streams, run, split_streams
from genrl.utils import bf16_autocast, resolve_device
from genrl.validation import as_float_tensor, as_label_tensor, check_count


@dataclass
class GANConfig:
    """Hyper-parameters of the game; the defaults are DCGAN's Adam settings.

    :param loss: a name in :data:`genrl.gan.losses.LOSSES`.
    :param update: ``"alternating"`` or ``"simultaneous"``.
    :param d_steps: discriminator steps per generator step (alternating only).
    :param label_smoothing: one-sided: real targets become ``1 - label_smoothing``; fake stay 0.
    :param feature_matching: weight of the feature-matching cost added to the generator's.
    :param historical_averaging: weight of the historical-averaging penalty on both players.
    :param gradient_penalty: WGAN-GP weight; ``None`` takes the loss's default (10 for wasserstein).
    :param r1: R1 weight γ (penalty ``γ/2 E||∇D(x)||²`` on real data).
    :param ema_decay: decay of the EMA of generator weights used for sampling; 0 turns it off.
    :param aux_weight: weight of the auxiliary-classifier cross-entropy (AC-GAN discriminators).
    :param lr_schedule: ``"constant"``, or ``"linear"``: constant, then a linear decay to 0 over the
        last ``decay_fraction`` of the ``steps`` given to ``fit`` (derived from the step count, so
        resuming needs no scheduler state).
    :param decay_fraction: the decaying tail of a linear schedule (1.0: decay from the first step).
    """

    loss: str = "non_saturating"
    update: Literal["alternating", "simultaneous"] = "alternating"
    batch_size: int = 256
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1
    label_smoothing: float = 0.0
    feature_matching: float = 0.0
    historical_averaging: float = 0.0
    gradient_penalty: float | None = None
    r1: float = 0.0
    ema_decay: float = 0.0
    aux_weight: float = 1.0
    lr_schedule: Literal["constant", "linear"] = "constant"
    decay_fraction: float = 1.0

    def validate(self) -> None:
        loss = get_loss(self.loss)
        if self.update not in ("alternating", "simultaneous"):
            raise InputError(f"update must be 'alternating' or 'simultaneous', got {self.update!r}")
        if self.update == "simultaneous" and self.d_steps != 1:
            raise InputError("d_steps > 1 needs update='alternating'")
        if self.batch_size < 1 or self.d_steps < 1:
            raise InputError("batch_size and d_steps must be >= 1")
        if self.lr_schedule not in ("constant", "linear"):
            raise InputError(f"lr_schedule must be 'constant' or 'linear', got {self.lr_schedule!r}")
        if not 0.0 < self.decay_fraction <= 1.0:
            raise InputError(f"decay_fraction must be in (0, 1], got {self.decay_fraction}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise InputError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.label_smoothing and not loss.smoothing:
            raise InputError(f"loss {self.loss!r} has no real targets to smooth (label_smoothing must be 0)")
        if not 0.0 <= self.ema_decay < 1.0:
            raise InputError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        for name in ("lr_g", "lr_d", "feature_matching", "historical_averaging", "r1", "aux_weight", "gradient_penalty"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {v}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise InputError(f"betas must be two numbers in [0, 1), got {self.betas}")


class GANTrainer:
    """Trains a generator against a discriminator.

    :param generator: maps ``z (B, latent_dim)`` [and labels ``(B,)``] to samples ``(B, *out_shape)``
        (see :class:`~genrl.gan.update.Generator`).
    :param discriminator: maps packed samples [and labels] to logits ``(B / pack,)`` through
        ``features`` and ``head`` (see :class:`~genrl.gan.update.Discriminator`), plus ``classify``
        for AC-GAN.
    :param config: :class:`GANConfig`.
    :param device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
    :param seed: seeds noise and minibatch sampling (weights are seeded when the nets are built;
        under torchrun rank 0's weights are copied to every rank and each rank gets its own stream).

    ``history`` holds one :data:`~genrl.training.Row` per log interval (``d_loss``, ``g_loss``).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        config: GANConfig | None = None,
        device: str | torch.device = "auto",
        seed: int = 0,
    ) -> None:
        self.config = config or GANConfig()
        self.config.validate()
        self.device = resolve_device(device)
        self.G, self.D = generator.to(self.device), discriminator.to(self.device)
        self.world = distributed.world_size()
        if self.config.batch_size % self.world:
            raise InputError(f"batch_size {self.config.batch_size} must be divisible by the {self.world} processes")
        self.batch_size = self.config.batch_size // self.world  # rows per process and discriminator step
        for net in (self.G, self.D):  # before the EMA and historical averages copy the weights
            distributed.broadcast_module(net)
        self.amp = False
        loss = get_loss(self.config.loss)
        c = self.config
        self.gp_weight = loss.gradient_penalty if c.gradient_penalty is None else c.gradient_penalty
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=c.lr_g, betas=c.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=c.lr_d, betas=c.betas)
        self.ema = EMA(self.G, c.ema_decay) if c.ema_decay else None
        self.ha_g = HistoricalAverage(self.G.parameters()) if c.historical_averaging else None
        self.ha_d = HistoricalAverage(self.D.parameters()) if c.historical_averaging else None
        self.pack: int = getattr(self.D, "pack", 1)
        self.n_classes: int = getattr(self.G, "n_classes", 0)
        if getattr(self.D, "n_classes", 0) != self.n_classes:
            raise InputError("generator and discriminator must be conditioned on the same number of classes")
        auxiliary = self.n_classes > 0 and getattr(self.D, "conditioning", None) == "auxiliary"
        g_out, d_in = getattr(self.G, "out_shape", None), getattr(self.D, "in_shape", None)
        if g_out is not None and d_in is not None and tuple(g_out) != tuple(d_in):
            raise InputError(f"the generator makes samples of shape {tuple(g_out)} but the discriminator takes {tuple(d_in)}")
        self.rng = torch.Generator(device=self.device).manual_seed(seed)
        D = cast(Classifier, self.D)
        d_costs = [auxiliary_classifier(D, c.aux_weight, on_real=True)] if auxiliary else []
        g_costs = [feature_matching(c.feature_matching)] if c.feature_matching else []
        g_costs += [auxiliary_classifier(D, c.aux_weight, on_real=False)] if auxiliary else []
        if self.ha_d is not None and self.ha_g is not None:
            d_costs.append(historical_averaging(self.ha_d, c.historical_averaging))
            g_costs.append(historical_averaging(self.ha_g, c.historical_averaging))
        self.update = AdversarialUpdate(D, self.opt_d, loss, G=cast(Generator, self.G), opt_g=self.opt_g,
                                        label_smoothing=c.label_smoothing, gradient_penalty=self.gp_weight, r1=c.r1,
                                        d_costs=d_costs, g_costs=g_costs, rng=self.rng)  # fmt: skip
        self.seed = seed
        self.step_count = 0
        self.history: list[Row] = []
        split_streams(seed, self.rng)

    def accelerate(self, amp: bool = False, compile: bool = False) -> GANTrainer:
        """Opt-in speed-ups, off by default; they change neither the game nor checkpoints.

        :param amp: run the players' forward passes under bf16 autocast (losses stay float32).
        :param compile: ``torch.compile`` the generator, and the discriminator unless an R1 or
            gradient penalty is on (compiled code has no double backward).
        """
        self.amp = amp
        if compile:
            # Compile the bound methods, not the modules: state-dict keys (checkpoints) stay unchanged.
            self.G.forward = torch.compile(self.G.forward)
            if not (self.gp_weight or self.config.r1):
                D = cast(Discriminator, self.D)
                self.D.features = torch.compile(D.features)  # type: ignore[assignment]  # Module.__setattr__ stub: Tensor | Module
                self.D.head = torch.compile(D.head)  # type: ignore[assignment]  # Module.__setattr__ stub: Tensor | Module
        return self

    def _autocast(self) -> torch.autocast:
        return bf16_autocast(self.device, self.amp)

    # ------------------------------------------------------------------ one update
    def _noise(self, n: int) -> Tensor:
        return torch.randn(n, cast(Generator, self.G).latent_dim, device=self.device, generator=self.rng)

    def step(self, real: Tensor, labels: Tensor | None = None) -> dict[str, Tensor]:
        """One generator update (and ``d_steps`` discriminator updates) on a real batch on the device.

        :param real: ``(d_steps * batch, *sample_shape)`` (``batch`` rows per process under
            torchrun); alternating updates split it into ``d_steps`` chunks, one per discriminator step.
        :param labels: ``(d_steps * batch,)`` class labels for conditional nets.
        :return: detached scalar tensors ``d_loss`` and ``g_loss`` (no host sync).
        """
        self.G.train()
        self.D.train()
        c, up, m = self.config, self.update, self.pack
        if c.update == "simultaneous":
            with self._autocast():
                fake = self.G(self._noise(real.shape[0]), labels)
                d_loss, j = up.discriminator_loss(pack(real, m), pack(fake.detach(), m), labels)
                g_loss, _ = up.generator_loss(pack(fake, m), labels, real_features=j.real_features.detach())  # type: ignore[union-attr]
            up.step_both(d_loss, g_loss)
        else:
            chunks = real.chunk(c.d_steps)
            label_chunks = labels.chunk(c.d_steps) if labels is not None else [None] * c.d_steps
            for x, y in zip(chunks, label_chunks):
                with self._autocast():
                    with torch.no_grad():
                        fake = self.G(self._noise(x.shape[0]), y)
                    d_loss, _ = up.discriminator_loss(pack(x, m), pack(fake, m), y)
                up.step_discriminator(d_loss)
            x, y = chunks[-1], label_chunks[-1]
            with self._autocast():
                h_real = None
                if c.feature_matching:
                    with torch.no_grad():
                        h_real = cast(Discriminator, self.D).features(pack(x, m))
                g_loss, _ = up.generator_loss(pack(self.G(self._noise(x.shape[0]), y), m), y, real_features=h_real)
            up.step_generator(g_loss)
        distributed.average_buffers(self.G, self.D)  # before the EMA copies them
        for avg in (self.ema, self.ha_g, self.ha_d):
            if avg is not None:
                avg.update()
        self.step_count += 1
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}

    # ------------------------------------------------------------------ training loop
    def _check_data(self, X: Any, y: Any) -> tuple[Tensor, Tensor | None]:
        X = as_float_tensor(X, "X", getattr(self.G, "out_shape", None))
        if self.n_classes:
            if y is None:
                raise InputError(f"this GAN is conditional on {self.n_classes} classes; pass labels y")
            y = as_label_tensor(y, "y", X.shape[0], self.n_classes)
        elif y is not None:
            raise InputError("labels y were given but the generator is unconditional (n_classes=0)")
        if self.batch_size % self.pack:
            per = f" per process ({self.world} processes)" if self.world > 1 else ""
            raise InputError(f"batch_size {self.batch_size}{per} must be divisible by the discriminator's pack={self.pack}")
        # Batch norm in training mode needs two rows per batch: the generator sees batch_size, D batch_size / pack.
        for net, rows in ((self.G, self.batch_size), (self.D, self.batch_size // self.pack)):  # rows per process
            if rows < 2 and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules()):
                raise InputError(f"batch_size {self.config.batch_size} gives batch-normalised nets 1 row per batch"
                                 f"{f' in each of {self.world} processes' if self.world > 1 else ''}; use more")  # fmt: skip
        return X.to(self.device), (y.to(self.device) if y is not None else None)

    def fit(
        self,
        X: Any,
        y: Any = None,
        steps: int = 2000,
        log_every: int = 50,
        progress: bool = True,
        tensorboard_dir: str | Path | None = None,
        checkpoint_path: str | Path | None = None,
        checkpoint_every: int = 0,
        callback: Callback | None = None,
    ) -> GANTrainer:
        """Train until ``step_count == steps`` on data ``X (N, *sample_shape)`` [labels ``y (N,)``].

        Minibatches are drawn with replacement on the device. The loop is :func:`genrl.training.run`:
        losses reach the host only every ``log_every`` steps, a non-finite loss raises
        :class:`DivergenceError` naming its step, and ``callback(trainer, row)`` runs after each
        logged row (on every rank under torchrun) and stops training by returning ``False``.

        :param checkpoint_path: where :meth:`save` writes every ``checkpoint_every`` steps and at the end.
        """
        steps = check_count(steps, "steps")
        self._data = self._check_data(X, y)
        self._total = steps
        try:
            run(self, steps, log_every=log_every, progress=progress, tensorboard_dir=tensorboard_dir,
                checkpoint_path=checkpoint_path, checkpoint_every=checkpoint_every, callback=callback, what="GAN")  # fmt: skip
        finally:
            del self._data
        return self

    def train_step(self) -> dict[str, Tensor]:
        """One :meth:`step` on a minibatch of the data given to :meth:`fit` (the run loop's step)."""
        X, y = self._data
        if self.config.lr_schedule == "linear":
            self._set_lr_scale(linear_lr_scale(self.step_count, self._total, self.config.decay_fraction))
        idx = torch.randint(X.shape[0], (self.batch_size * self.config.d_steps,), device=self.device, generator=self.rng)
        return self.step(X[idx], y[idx] if y is not None else None)

    def _set_lr_scale(self, scale: float) -> None:
        for opt, lr in ((self.opt_g, self.config.lr_g), (self.opt_d, self.config.lr_d)):
            set_lr(opt, lr * scale)

    @torch.no_grad()
    def sample(self, n: int, labels: Any = None, batch_size: int = 4096) -> Tensor:
        """``n`` samples ``(n, *sample_shape)`` on the device, from the EMA generator when enabled."""
        n = check_count(n, "n")
        if labels is not None:
            labels = as_label_tensor(labels, "labels", n, self.n_classes).to(self.device)
        elif self.n_classes:
            raise InputError(f"this GAN is conditional on {self.n_classes} classes; pass labels")
        G = self.ema.module if self.ema is not None else self.G
        was_training = G.training
        G.eval()
        out = [G(self._noise(len(i)), labels[i] if labels is not None else None)
               for i in torch.arange(n, device=self.device).split(batch_size)]  # fmt: skip
        G.train(was_training)
        return torch.cat(out)

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        """Everything needed to resume exactly: weights, optimizers, averages, RNG, history."""
        return {
            "kind": "GANTrainer",
            "config": asdict(self.config),
            "seed": self.seed,
            "step": self.step_count,
            "history": self.history,
            "generator": {"spec": self.G.spec, "weights": self.G.state_dict()},
            "discriminator": {"spec": self.D.spec, "weights": self.D.state_dict()},
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "ema": self.ema.module.state_dict() if self.ema else None,
            "ha_g": self.ha_g.averages if self.ha_g else None,
            "ha_d": self.ha_d.averages if self.ha_d else None,
            "ha_count": self.ha_g.count if self.ha_g else 0,
            "rng": capture_rng(self.rng),
        }

    def save(self, path: str | Path) -> Path:
        """Write an atomic checkpoint (see :mod:`genrl.io`)."""
        return save_checkpoint(path, self.state())

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "auto") -> GANTrainer:
        """Rebuild a trainer from :meth:`save` output, ready to ``fit`` further or ``sample``."""
        s = load_checkpoint(path, kind="GANTrainer")
        with restoring(path):
            cfg = dict(s["config"])
            cfg["betas"] = tuple(cfg["betas"])
            trainer = cls(build_net(s["generator"]["spec"]), build_net(s["discriminator"]["spec"]),
                          GANConfig(**cfg), device=device, seed=s["seed"])  # fmt: skip
            dev = trainer.device
            trainer.G.load_state_dict(s["generator"]["weights"])
            trainer.D.load_state_dict(s["discriminator"]["weights"])
            trainer.opt_g.load_state_dict(s["opt_g"])
            trainer.opt_d.load_state_dict(s["opt_d"])
            if trainer.ema is not None:
                trainer.ema.module.load_state_dict(s["ema"])
            for ha, avgs in ((trainer.ha_g, s["ha_g"]), (trainer.ha_d, s["ha_d"])):
                if ha is not None:
                    ha.averages = [a.to(dev) for a in avgs]
                    ha.count = s["ha_count"]
            resume_streams(s["rng"], s["seed"] + s["step"], trainer.rng)
            trainer.step_count = s["step"]
            trainer.history = list(s["history"])
        return trainer
