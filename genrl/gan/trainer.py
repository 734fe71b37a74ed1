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
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genrl import distributed
from genrl.errors import DivergenceError, InputError
from genrl.gan.layers import pack
from genrl.gan.losses import get_loss
from genrl.gan.nets import build_net
from genrl.gan.regularizers import EMA, HistoricalAverage, feature_matching_loss, gradient_penalty, r1_penalty
from genrl.io import load_checkpoint, restoring, save_checkpoint
from genrl.progress import ProgressLogger
from genrl.utils import resolve_device
from genrl.validation import as_float_tensor, as_label_tensor, check_count


def linear_lr_scale(done: int, total: int, decay_fraction: float = 1.0) -> float:
    """The lr multiplier after ``done`` of ``total`` steps: 1, then linear to 0 over the last
    ``decay_fraction`` of the run. A function of the step alone, so resuming needs no scheduler state."""
    return min(1.0, (total - done) / (total * decay_fraction))


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


@dataclass
class History:
    """Logged losses: one row per log interval (step and the interval's mean of each loss)."""

    rows: list[dict[str, float]] = field(default_factory=list)


class GANTrainer:
    """Trains a generator against a discriminator.

    :param generator: maps ``z (B, latent_dim)`` [and labels ``(B,)``] to samples ``(B, *out_shape)``.
    :param discriminator: maps packed samples [and labels] to logits ``(B / pack,)``; exposes
        ``features``, ``head`` and (for AC-GAN) ``classify``.
    :param config: :class:`GANConfig`.
    :param device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
    :param seed: seeds noise and minibatch sampling (weights are seeded when the nets are built;
        under torchrun rank 0's weights are copied to every rank and each rank gets its own stream).
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
        self.loss = get_loss(self.config.loss)
        c = self.config
        self.gp_weight = self.loss.gradient_penalty if c.gradient_penalty is None else c.gradient_penalty
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=c.lr_g, betas=c.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=c.lr_d, betas=c.betas)
        self.ema = EMA(self.G, c.ema_decay) if c.ema_decay else None
        self.ha_g = HistoricalAverage(self.G.parameters()) if c.historical_averaging else None
        self.ha_d = HistoricalAverage(self.D.parameters()) if c.historical_averaging else None
        self.pack = getattr(self.D, "pack", 1)
        self.n_classes = getattr(self.G, "n_classes", 0)
        if getattr(self.D, "n_classes", 0) != self.n_classes:
            raise InputError("generator and discriminator must be conditioned on the same number of classes")
        self.auxiliary = self.n_classes > 0 and getattr(self.D, "conditioning", None) == "auxiliary"
        g_out, d_in = getattr(self.G, "out_shape", None), getattr(self.D, "in_shape", None)
        if g_out is not None and d_in is not None and tuple(g_out) != tuple(d_in):
            raise InputError(f"the generator makes samples of shape {tuple(g_out)} but the discriminator takes {tuple(d_in)}")
        self.rng = torch.Generator(device=self.device).manual_seed(seed)
        self.seed = seed
        self.step_count = 0
        self.history = History()
        if distributed.rank():
            self._split_streams(seed)

    def _split_streams(self, seed: int) -> None:
        """Give this (non-zero) rank its own data, noise and dropout stream derived from ``seed``."""
        self.rng.manual_seed(distributed.rank_seed(seed))
        torch.manual_seed(distributed.rank_seed(seed))

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
                self.D.features, self.D.head = torch.compile(self.D.features), torch.compile(self.D.head)
        return self

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    # ------------------------------------------------------------------ one update
    def _noise(self, n: int) -> Tensor:
        return torch.randn(n, self.G.latent_dim, device=self.device, generator=self.rng)

    def _judge(self, x: Tensor, y: Tensor | None) -> tuple[Tensor, Tensor]:
        """Samples -> (logits, features) of D, packing m samples per judgement."""
        h = self.D.features(pack(x, self.pack))
        return self.D.head(h, y).float(), h  # float32 logits for the costs under autocast

    def _d_objective(self, real: Tensor, fake: Tensor, y: Tensor | None) -> tuple[Tensor, Tensor]:
        c = self.config
        real_logits, h_real = self._judge(real, y)
        fake_logits, h_fake = self._judge(fake, y)
        smooth = {"real_target": 1.0 - c.label_smoothing} if c.label_smoothing else {}
        loss = self.loss.d_loss(real_logits, fake_logits, **smooth)

        def critic(x: Tensor) -> Tensor:
            return self.D(x, y)

        if self.gp_weight:
            loss = loss + self.gp_weight * gradient_penalty(critic, pack(real, self.pack), pack(fake, self.pack), self.rng)
        if c.r1:
            loss = loss + 0.5 * c.r1 * r1_penalty(critic, pack(real, self.pack))
        if self.auxiliary:
            aux = F.cross_entropy(self.D.classify(h_real), y) + F.cross_entropy(self.D.classify(h_fake), y)
            loss = loss + c.aux_weight * aux
        if self.ha_d is not None:
            loss = loss + c.historical_averaging * self.ha_d.penalty()
        return loss, h_real.detach()

    def _g_objective(self, fake: Tensor, y: Tensor | None, h_real: Tensor | None) -> Tensor:
        c = self.config
        fake_logits, h_fake = self._judge(fake, y)
        loss = self.loss.g_loss(fake_logits)
        if c.feature_matching:
            loss = loss + c.feature_matching * feature_matching_loss(h_real, h_fake)
        if self.auxiliary:
            loss = loss + c.aux_weight * F.cross_entropy(self.D.classify(h_fake), y)
        if self.ha_g is not None:
            loss = loss + c.historical_averaging * self.ha_g.penalty()
        return loss

    def step(self, real: Tensor, labels: Tensor | None = None) -> dict[str, Tensor]:
        """One generator update (and ``d_steps`` discriminator updates) on a real batch on the device.

        :param real: ``(d_steps * batch, *sample_shape)`` (``batch`` rows per process under
            torchrun); alternating updates split it into ``d_steps`` chunks, one per discriminator step.
        :param labels: ``(d_steps * batch,)`` class labels for conditional nets.
        :return: detached scalar tensors ``d_loss`` and ``g_loss`` (no host sync).
        """
        self.G.train()
        self.D.train()
        c = self.config
        chunks = real.chunk(c.d_steps)
        label_chunks = labels.chunk(c.d_steps) if labels is not None else [None] * c.d_steps
        g_params = list(self.G.parameters())
        if c.update == "simultaneous":
            with self._autocast():
                fake = self.G(self._noise(real.shape[0]), labels)
                d_loss, h_real = self._d_objective(real, fake.detach(), labels)
                g_loss = self._g_objective(fake, labels, h_real)
            self.opt_d.zero_grad(set_to_none=True)
            self.opt_g.zero_grad(set_to_none=True)
            d_loss.backward()
            g_loss.backward(inputs=g_params)  # both gradients are taken before either player moves
            distributed.average_gradients(self.D, self.G)
            self.opt_d.step()
            self.opt_g.step()
        else:
            for x, y in zip(chunks, label_chunks):
                with self._autocast():
                    with torch.no_grad():
                        fake = self.G(self._noise(x.shape[0]), y)
                    d_loss, h_real = self._d_objective(x, fake, y)
                self.opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                distributed.average_gradients(self.D)
                self.opt_d.step()
            x, y = chunks[-1], label_chunks[-1]
            with self._autocast():
                if c.feature_matching:
                    with torch.no_grad():
                        h_real = self.D.features(pack(x, self.pack))
                g_loss = self._g_objective(self.G(self._noise(x.shape[0]), y), y, h_real)
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward(inputs=g_params)
            distributed.average_gradients(self.G)
            self.opt_g.step()
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
        for net, rows in ((self.G, self.config.batch_size), (self.D, self.config.batch_size // self.pack)):
            if rows < 2 and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules()):
                raise InputError(f"batch_size {self.config.batch_size} gives batch-normalised nets 1 row per batch; use >= 2")
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
        callback: Callable[[GANTrainer], None] | None = None,
    ) -> GANTrainer:
        """Train until ``step_count == steps`` on data ``X (N, *sample_shape)`` [labels ``y (N,)``].

        Minibatches are drawn with replacement on the device. Losses reach the host only every
        ``log_every`` steps; a non-finite loss raises :class:`DivergenceError` naming its step.
        Under torchrun the logged losses are means over processes and only rank 0 shows progress,
        writes TensorBoard and checkpoints; ``callback`` runs on every rank.

        :param checkpoint_path: where :meth:`save` writes every ``checkpoint_every`` steps and at the end.
        :param callback: called with the trainer after every log interval.
        """
        X, y = self._check_data(X, y)
        per_step = self.batch_size * self.config.d_steps
        main = distributed.is_main_process()
        logger = ProgressLogger(total=steps, initial=self.step_count, enabled=progress and main,
                                tensorboard_dir=tensorboard_dir if main else None)  # fmt: skip
        running = torch.zeros(2, device=self.device)
        first_bad = torch.full((), -1, device=self.device, dtype=torch.long)
        since, t0 = 0, time.perf_counter()
        # A checkpoint already at the path (e.g. the one this run resumed from) is the last good one so far.
        last_ckpt = checkpoint_path if checkpoint_path and Path(checkpoint_path).exists() else None
        try:
            while self.step_count < steps:
                if self.config.lr_schedule == "linear":
                    self._set_lr_scale(linear_lr_scale(self.step_count, steps, self.config.decay_fraction))
                idx = torch.randint(X.shape[0], (per_step,), device=self.device, generator=self.rng)
                out = self.step(X[idx], y[idx] if y is not None else None)
                pair = torch.stack([out["d_loss"], out["g_loss"]])
                running += pair
                bad = ~torch.isfinite(pair).all() & (first_bad < 0)
                first_bad = torch.where(bad, self.step_count, first_bad)
                since += 1
                at_end = self.step_count >= steps
                if since == log_every or at_end:
                    self._check_finite(first_bad, last_ckpt)
                    d, g = distributed.all_reduce(running / since, "mean").tolist()
                    row = {"step": self.step_count, "d_loss": d, "g_loss": g,
                           "steps_per_s": since / (time.perf_counter() - t0)}  # fmt: skip
                    self.history.rows.append(row)
                    logger.log(row, advance=since)
                    running.zero_()
                    since, t0 = 0, time.perf_counter()
                    if callback is not None:
                        callback(self)
                if checkpoint_path and ((checkpoint_every and self.step_count % checkpoint_every == 0) or at_end):
                    self._check_finite(first_bad, last_ckpt)  # never overwrite the last good checkpoint with a diverged state
                    last_ckpt = self.save(checkpoint_path) if main else Path(checkpoint_path)
        finally:
            logger.close()
        return self

    def _check_finite(self, first_bad: Tensor, last_ckpt: str | Path | None) -> None:
        """Raise :class:`DivergenceError` if any rank saw a non-finite loss (``first_bad``: its step, or -1)."""
        never = torch.iinfo(torch.long).max
        step = int(distributed.all_reduce(torch.where(first_bad < 0, never, first_bad), "min"))
        if step != never:
            where = f"; last good checkpoint: {last_ckpt}" if last_ckpt else "; no checkpoint was written"
            raise DivergenceError(f"non-finite GAN loss at step {step}{where}")

    def _set_lr_scale(self, scale: float) -> None:
        for opt, lr in ((self.opt_g, self.config.lr_g), (self.opt_d, self.config.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * scale

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
            "history": self.history.rows,
            "generator": {"spec": self.G.spec, "weights": self.G.state_dict()},
            "discriminator": {"spec": self.D.spec, "weights": self.D.state_dict()},
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "ema": self.ema.module.state_dict() if self.ema else None,
            "ha_g": self.ha_g.averages if self.ha_g else None,
            "ha_d": self.ha_d.averages if self.ha_d else None,
            "ha_count": self.ha_g.count if self.ha_g else 0,
            "rng": self.rng.get_state(),
            "rng_device": self.device.type,
            # Dropout and noise layers draw from the global generators.
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
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
            torch.set_rng_state(s["torch_rng"])
            if s["rng_device"] == dev.type:
                trainer.rng.set_state(s["rng"])
                if s["cuda_rng"] is not None:
                    torch.cuda.set_rng_state(s["cuda_rng"], dev)
            else:  # generator states do not transfer across device types: continue with a derived seed
                trainer.rng.manual_seed(s["seed"] + s["step"])
            if distributed.rank():  # the checkpoint holds rank 0's streams
                trainer._split_streams(s["seed"] + s["step"])
            trainer.step_count = s["step"]
            trainer.history.rows = list(s["history"])
        return trainer
