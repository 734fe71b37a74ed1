"""World models behind one interface: a conditional GAN, a PETS-style Gaussian ensemble, an MLP.

Every model maps a context ``c = (s, a)`` to the distribution of ``y = (Δs, r)``; inputs and targets
are standardised with statistics kept in the model. Termination is predicted by one shared
classifier ``p(terminated | s, a, s')`` applied to the sampled next state, so all three models
treat it alike.

* :class:`GANWorldModel`: generator ``G(c, z) -> y`` against a discriminator ``D(c, y)``, both the
  core's MLP nets and trained with the core's costs (``loss``) and R1 penalty, plus the energy
  score (a proper scoring rule) in G's cost and a linearly decaying lr; samples are multi-modal
  wherever the data are.
* :class:`EnsembleWorldModel`: 5 members predicting mean and log-variance, Gaussian NLL, bounded
  log-variance and per-member bootstrap batches (PETS, Chua et al. 2018); sampling gives each draw
  a random member (TS1), each member computing only its share of the batch.
* :class:`MLPWorldModel`: one deterministic regressor (MSE); every draw is its mean.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genrl.errors import CheckpointError, DivergenceError, InputError
from genrl.gan.losses import get_loss
from genrl.gan.nets import MLPDiscriminator, MLPGenerator
from genrl.gan.regularizers import energy_score, r1_penalty
from genrl.gan.trainer import linear_lr_scale
from genrl.io import load_checkpoint, restoring, save_checkpoint
from genrl.progress import ProgressLogger
from genrl.utils import resolve_device
from genrl.validation import as_float_tensor, as_label_tensor, check_count
from genrl.worldmodel.transitions import Transitions


@dataclass
class Prediction:
    """Samples from a world model: ``next_obs (B, n, d_obs)``, ``reward (B, n)``, ``terminated (B, n)`` bool."""

    next_obs: Tensor
    reward: Tensor
    terminated: Tensor


class Standardizer(nn.Module):
    """Per-feature mean / std, stored as buffers so they are saved with the model."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, x: Tensor) -> None:
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp_min(1e-6))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def inverse(self, x: Tensor) -> Tensor:
        return x * self.std + self.mean


def mlp(in_dim: int, out_dim: int, hidden: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(in_dim, h), nn.SiLU()]
        in_dim = h
    return nn.Sequential(*layers, nn.Linear(in_dim, out_dim))


class WorldModel(ABC, nn.Module):
    """Shared plumbing: shapes, standardisation, termination head, fit loop, save/load.

    :param obs_dim: d_obs; :param act_dim: d_act, or the number of actions when ``discrete_actions``
        (actions are then given as indices ``(B,)`` or ``(B, 1)`` and one-hot encoded inside).
    :param hidden: widths of every net.
    :param lr_decay: decay every optimiser's learning rate linearly to 0 over each ``fit``.
    """

    kind: ClassVar[str]
    registry: ClassVar[dict[str, type[WorldModel]]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        WorldModel.registry[cls.kind] = cls

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (200, 200, 200), seed: int = 0,
                 discrete_actions: bool = False, lr_decay: bool = False) -> None:  # fmt: skip
        super().__init__()
        torch.manual_seed(seed)
        self.obs_dim, self.act_dim, self.hidden, self.seed = obs_dim, act_dim, tuple(hidden), seed
        self.discrete_actions, self.lr_decay = discrete_actions, lr_decay
        self.y_dim = obs_dim + 1
        self.ctx_norm = Standardizer(obs_dim + act_dim)
        self.y_norm = Standardizer(self.y_dim)
        self.term_net = mlp(2 * obs_dim + act_dim, 1, (64, 64))
        self.has_terminations = False
        # Training progress, so that ``fit`` can continue a saved run (see :meth:`fit`).
        self.step_count = 0
        self.history: list[dict[str, float]] = []
        self._resume_state: dict[str, Any] | None = None

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "obs_dim": self.obs_dim, "act_dim": self.act_dim, "hidden": list(self.hidden),
                "seed": self.seed, "discrete_actions": self.discrete_actions, "lr_decay": self.lr_decay}  # fmt: skip

    # ---------------------------------------------------------------- inputs
    @property
    def device(self) -> torch.device:
        return self.ctx_norm.mean.device

    def _context(self, obs: Any, act: Any) -> Tensor:
        obs = as_float_tensor(obs, "obs")
        act = as_float_tensor(act, "act")
        obs, act = obs.reshape(len(obs), -1), act.reshape(len(act), -1)
        if self.discrete_actions and act.shape[1] == 1:
            act = F.one_hot(as_label_tensor(act[:, 0], "actions", len(act), self.act_dim), self.act_dim).float()
        if obs.shape[1] != self.obs_dim or act.shape[1] != self.act_dim:
            raise InputError(f"this world model takes obs (B, {self.obs_dim}) and actions (B, {self.act_dim}); "
                             f"got {tuple(obs.shape)} and {tuple(act.shape)}")  # fmt: skip
        if len(obs) != len(act):
            raise InputError(f"obs and actions differ in batch size: {len(obs)} vs {len(act)}")
        return torch.cat([obs, act], 1).to(self.device)

    # ---------------------------------------------------------------- model-specific parts
    @abstractmethod
    def _setup_optim(self, lr: float) -> None:
        """Create the model's optimisers."""

    @abstractmethod
    def _loss(self, c: Tensor, y: Tensor, step: int) -> dict[str, Tensor]:
        """One optimisation step on standardised context ``c (B, d_c)`` and targets ``y (B, d_y)``."""

    @abstractmethod
    def _sample_y(self, c: Tensor, n: int) -> Tensor:
        """Standardised samples ``(B, n, d_y)`` for standardised contexts ``c (B, d_c)``."""

    # ---------------------------------------------------------------- public API
    def fit(self, data: Transitions, steps: int = 5000, batch_size: int = 256, lr: float = 1e-3,
            progress: bool = False, device: str = "auto", checkpoint_path: str | Path | None = None,
            checkpoint_every: int = 0, tensorboard_dir: str | Path | None = None,
            resume: bool = False) -> WorldModel:  # fmt: skip
        """Fit on transitions (their shapes must match the model's) for ``steps`` steps.

        Each call is a new fit warm-started from the current weights (Dyna refits this way).
        With ``resume=True`` on a model loaded from a checkpoint written during ``fit``, the fit
        instead *continues* that run to ``steps`` in total, with its optimiser, RNG states and
        standardisation, ending exactly where an uninterrupted run would on the same data (on CPU).
        With ``checkpoint_path`` the run is saved every ``checkpoint_every`` steps and at the end.
        """
        if not isinstance(data, Transitions):
            raise InputError(f"data must be Transitions, got {type(data).__name__}")
        if len(data) < 2:  # one row has no spread to standardise by
            raise InputError(f"data has {len(data)} transition; at least 2 are needed")
        check_count(steps, "steps")
        check_count(batch_size, "batch_size")
        self.to(resolve_device(device))
        c = self._context(data.obs, data.act)
        nxt = torch.as_tensor(data.next_obs, device=self.device)
        y = torch.cat([nxt - c[:, : self.obs_dim], torch.as_tensor(data.rew, device=self.device)[:, None]], 1)
        if resume and self._resume_state is None:
            raise InputError("resume=True needs a model loaded from a checkpoint written during fit")
        resume, self._resume_state = (self._resume_state if resume else None), None
        if resume is None:
            self.step_count, self.history = 0, []  # a resumed run keeps the statistics its weights were trained with
            self.ctx_norm.fit(c)
            self.y_norm.fit(y)
        cn, yn = self.ctx_norm(c), self.y_norm(y)
        term = torch.as_tensor(data.terminated, device=self.device, dtype=torch.float32)
        self.has_terminations = bool(term.any())
        self._setup_optim(lr)
        self.term_opt = torch.optim.Adam(self.term_net.parameters(), lr=1e-3)
        optimizers = list(self._optimizers().values())
        for opt in optimizers:
            for group in opt.param_groups:
                group["initial_lr"] = group["lr"]
        self._gen = torch.Generator(device=self.device).manual_seed(self.seed)
        if resume is not None:
            for name, opt in self._optimizers().items():
                opt.load_state_dict(resume["optim"][name])
            self._gen.set_state(resume["gen_rng"])
            torch.set_rng_state(resume["torch_rng"])
        term_in = torch.cat([cn, (nxt - self.ctx_norm.mean[: self.obs_dim]) / self.ctx_norm.std[: self.obs_dim]], 1)
        logger = ProgressLogger(total=steps, initial=min(self.step_count, steps), enabled=progress,
                                tensorboard_dir=tensorboard_dir, desc=f"{self.kind} world model")  # fmt: skip
        self.train()
        for step in range(self.step_count + 1, steps + 1):
            if self.lr_decay:  # a function of the step alone, so a resumed fit follows the same schedule
                scale = linear_lr_scale(step - 1, steps)
                for opt in optimizers:
                    for group in opt.param_groups:
                        group["lr"] = group["initial_lr"] * scale
            idx = torch.randint(len(cn), (batch_size,), device=self.device, generator=self._gen)
            losses = self._loss(cn[idx], yn[idx], step)
            if self.has_terminations:
                t_loss = F.binary_cross_entropy_with_logits(self.term_net(term_in[idx]).squeeze(1), term[idx])
                self.term_opt.zero_grad(set_to_none=True)
                t_loss.backward()
                self.term_opt.step()
            self.step_count = step
            if step % 200 == 0 or step == steps:
                row = {"step": step, **{k: float(v) for k, v in losses.items()}}
                if not all(np.isfinite(v) for v in row.values()):
                    where = f"; the last good checkpoint is {str(checkpoint_path)!r}" if checkpoint_path else ""
                    raise DivergenceError(f"{self.kind} world model diverged at step {step} ({row}){where}")
                self.history.append(row)
                logger.log(row, advance=step - (self.history[-2]["step"] if len(self.history) > 1 else 0))
            if checkpoint_path and checkpoint_every and step % checkpoint_every == 0 and step < steps:
                self._save_if_finite(checkpoint_path, step)
        logger.close()
        self.eval()
        if checkpoint_path:
            self._save_if_finite(checkpoint_path, steps)
        return self

    def _save_if_finite(self, path: str | Path, step: int) -> None:
        """Checkpoint, unless a weight went non-finite: then stop without touching the last good file."""
        if not all(bool(torch.isfinite(p).all()) for p in self.parameters()):
            raise DivergenceError(f"{self.kind} world model diverged by step {step} (non-finite weights); "
                                  f"the last good checkpoint is {str(path)!r}")  # fmt: skip
        self.save(path)

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimisers created by the last ``fit``, by attribute name."""
        return {k: v for k, v in vars(self).items() if isinstance(v, torch.optim.Optimizer)}

    @torch.no_grad()
    def sample(self, obs: Any, act: Any, n: int = 1) -> Prediction:
        """``n`` draws of (next obs, reward, terminated) for each of B (obs, action) pairs."""
        n = check_count(n, "n")
        c = self._context(obs, act)
        y = self.y_norm.inverse(self._sample_y(self.ctx_norm(c), n))
        next_obs = c[:, None, : self.obs_dim] + y[..., : self.obs_dim]
        if self.has_terminations:
            cn = self.ctx_norm(c)[:, None].expand(-1, n, -1)
            s2 = (next_obs - self.ctx_norm.mean[: self.obs_dim]) / self.ctx_norm.std[: self.obs_dim]
            terminated = self.term_net(torch.cat([cn, s2], -1)).squeeze(-1) > 0
        else:
            terminated = torch.zeros(next_obs.shape[:2], dtype=torch.bool, device=self.device)
        return Prediction(next_obs, y[..., -1], terminated)

    def save(self, path: str | Path) -> Path:
        """Weights, spec and (after ``fit``) the training state needed to continue it; atomic."""
        state = {"kind": "WorldModel", "spec": self.spec(), "terminations": self.has_terminations,
                 "weights": self.state_dict(), "step_count": self.step_count, "history": self.history}  # fmt: skip
        if hasattr(self, "_gen"):
            state["training"] = {"optim": {k: o.state_dict() for k, o in self._optimizers().items()},
                                 "gen_rng": self._gen.get_state(), "torch_rng": torch.get_rng_state()}  # fmt: skip
        return save_checkpoint(path, state)

    @staticmethod
    def load(path: str | Path, device: str = "auto") -> WorldModel:
        s = load_checkpoint(path, kind="WorldModel")
        with restoring(path):
            spec = dict(s["spec"])
            cls = WorldModel.registry.get(spec.pop("kind"))
            if cls is None:
                raise CheckpointError(f"{str(path)!r} holds an unknown world-model kind")
            model = cls(**spec)
            model.load_state_dict(s["weights"])
            model.has_terminations = s["terminations"]
            model.step_count, model.history = s.get("step_count", 0), list(s.get("history", []))
            model._resume_state = s.get("training")
        return model.to(resolve_device(device)).eval()


class MLPWorldModel(WorldModel):
    kind = "mlp"

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (200, 200, 200), seed: int = 0,
                 discrete_actions: bool = False, lr_decay: bool = False) -> None:  # fmt: skip
        super().__init__(obs_dim, act_dim, hidden, seed, discrete_actions, lr_decay)
        self.net = mlp(obs_dim + act_dim, self.y_dim, self.hidden)

    def _setup_optim(self, lr: float) -> None:
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)

    def _loss(self, c: Tensor, y: Tensor, step: int) -> dict[str, Tensor]:
        loss = F.mse_loss(self.net(c), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"mse": loss.detach()}

    def _sample_y(self, c: Tensor, n: int) -> Tensor:
        return self.net(c)[:, None].expand(-1, n, -1)


class EnsembleLinear(nn.Module):
    """E independent linear layers applied as one batched matmul: ``(E, B, in) -> (E, B, out)``."""

    def __init__(self, members: int, in_dim: int, out_dim: int) -> None:
        super().__init__()
        bound = 1 / np.sqrt(in_dim)
        self.weight = nn.Parameter(torch.empty(members, in_dim, out_dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(members, 1, out_dim))

    def forward(self, x: Tensor) -> Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleWorldModel(WorldModel):
    kind = "ensemble"
    members = 5

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (200, 200, 200), seed: int = 0,
                 discrete_actions: bool = False, lr_decay: bool = False) -> None:  # fmt: skip
        super().__init__(obs_dim, act_dim, hidden, seed, discrete_actions, lr_decay)
        layers: list[nn.Module] = []
        width = obs_dim + act_dim
        for h in self.hidden:
            layers += [EnsembleLinear(self.members, width, h), nn.SiLU()]
            width = h
        layers.append(EnsembleLinear(self.members, width, 2 * self.y_dim))
        self.net = nn.Sequential(*layers)
        # Soft bounds on the log-variance, learned as in PETS.
        self.max_logvar = nn.Parameter(torch.full((self.y_dim,), 0.5))
        self.min_logvar = nn.Parameter(torch.full((self.y_dim,), -10.0))

    def _setup_optim(self, lr: float) -> None:
        self.opt = torch.optim.Adam(self.parameters(), lr=lr, weight_decay=1e-5)

    def _mean_logvar(self, c: Tensor) -> tuple[Tensor, Tensor]:
        out = self.net(c)
        mean, logvar = out.chunk(2, dim=-1)
        logvar = self.max_logvar - F.softplus(self.max_logvar - logvar)
        return mean, self.min_logvar + F.softplus(logvar - self.min_logvar)

    def _loss(self, c: Tensor, y: Tensor, step: int) -> dict[str, Tensor]:
        # Bootstrap: each member sees its own resampling of the batch.
        idx = torch.randint(len(c), (self.members, len(c)), device=c.device)
        mean, logvar = self._mean_logvar(c[idx])
        nll = (((mean - y[idx]) ** 2) * torch.exp(-logvar) + logvar).mean()
        loss = nll + 0.01 * (self.max_logvar.sum() - self.min_logvar.sum())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"nll": nll.detach()}

    def _sample_y(self, c: Tensor, n: int) -> Tensor:
        # TS1 as in mbrl-lib: shuffle the B*n draws, give each member an equal share, run each member
        # only on its share (one batched pass), then undo the shuffle.
        rows = c.repeat_interleave(n, 0)
        total = len(rows)
        perm = torch.randperm(total, device=c.device)
        pad = (-total) % self.members
        order = torch.cat([perm, perm[torch.arange(pad, device=c.device) % total]])  # pad to a multiple of E
        x = rows[order].view(self.members, -1, rows.shape[1])
        mean, logvar = self._mean_logvar(x)
        draws = (mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)).reshape(-1, self.y_dim)[:total]
        out = torch.empty_like(draws)
        out[perm] = draws
        return out.view(c.shape[0], n, -1)

    @torch.no_grad()
    def mean_prediction(self, obs: Any, act: Any) -> Tensor:
        """The ensemble's mean next observation ``(B, d_obs)`` (what a Gaussian model would plan with)."""
        c = self._context(obs, act)
        mean, _ = self._mean_logvar(self.ctx_norm(c)[None].expand(self.members, -1, -1))
        y = self.y_norm.inverse(mean.mean(0))
        return c[:, : self.obs_dim] + y[:, : self.obs_dim]


class GANWorldModel(WorldModel):
    """Conditional GAN on standardised (Δs, r).

    :param loss: a name in :data:`genrl.gan.losses.LOSSES`.
    :param latent_dim: noise size; :param r1: R1 weight on real (c, y) pairs.
    :param energy_weight: weight of the energy score of two generator samples against the logged y,
        added to the generator's cost (0: a pure GAN). A strictly proper scoring rule, it keeps the
        modes the adversarial cost finds while sharpening each (see README, world-model quality).
    """

    kind = "gan"

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (200, 200, 200), seed: int = 0,
                 loss: str = "non_saturating", latent_dim: int = 8, r1: float = 1.0, energy_weight: float = 1.0,
                 discrete_actions: bool = False, lr_decay: bool = True) -> None:  # fmt: skip
        super().__init__(obs_dim, act_dim, hidden, seed, discrete_actions, lr_decay)
        self.loss_name, self.latent_dim, self.r1, self.energy_weight = loss, latent_dim, r1, energy_weight
        self.cost = get_loss(loss)
        c_dim = obs_dim + act_dim
        # The core's nets: the context enters G as part of its input vector, and D judges (c, y).
        self.G = MLPGenerator(latent_dim + c_dim, self.y_dim, self.hidden, norm="none")
        self.D = MLPDiscriminator(c_dim + self.y_dim, self.hidden)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "loss": self.loss_name, "latent_dim": self.latent_dim, "r1": self.r1,
                "energy_weight": self.energy_weight}  # fmt: skip

    def _setup_optim(self, lr: float) -> None:
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=(0.5, 0.999))

    def _generate(self, c: Tensor) -> Tensor:
        return self.G(torch.cat([torch.randn(len(c), self.latent_dim, device=c.device), c], 1))

    def _loss(self, c: Tensor, y: Tensor, step: int) -> dict[str, Tensor]:
        # Two draws per context when the energy score needs them; D sees the first.
        fakes = self._generate(c.repeat(2, 1)).view(2, len(c), -1) if self.energy_weight else self._generate(c)[None]
        fake = fakes[0]
        real_in = torch.cat([c, y], 1)
        d_loss = self.cost.d_loss(self.D(real_in), self.D(torch.cat([c, fake.detach()], 1)))
        if self.r1:
            d_loss = d_loss + 0.5 * self.r1 * r1_penalty(self.D, real_in)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        g_loss = self.cost.g_loss(self.D(torch.cat([c, fake], 1)))
        losses = {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
        if self.energy_weight:
            score = energy_score(fakes.transpose(0, 1), y)
            g_loss = g_loss + self.energy_weight * score
            losses["energy_score"] = score.detach()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(self.G.parameters()))
        self.opt_g.step()
        return losses

    def _sample_y(self, c: Tensor, n: int) -> Tensor:
        B = c.shape[0]
        return self._generate(c.repeat_interleave(n, 0)).view(B, n, -1)


def make_world_model(kind: str, obs_dim: int, act_dim: int, **kwargs: Any) -> WorldModel:
    """Build a world model by name: ``"gan"``, ``"ensemble"`` or ``"mlp"``."""
    if kind not in WorldModel.registry:
        raise InputError(f"unknown world model {kind!r}; choose one of {sorted(WorldModel.registry)}")
    check_count(obs_dim, "obs_dim")
    check_count(act_dim, "act_dim")
    for width in kwargs.get("hidden", ()):
        check_count(width, "every hidden width")
    return WorldModel.registry[kind](obs_dim, act_dim, **kwargs)


def world_model_dims(env: gym.Env | str) -> tuple[int, int, bool]:
    """(obs_dim, act_dim, discrete_actions) of a world model of ``env`` (an env or its id): flat Box
    observations, and Box actions or Discrete ones (act_dim = the number of actions)."""
    env = gym.make(env) if isinstance(env, str) else env
    obs_space, act_space = env.observation_space, env.action_space
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise InputError(f"world models need flat Box observations, got {obs_space}")
    if isinstance(act_space, gym.spaces.Discrete):
        return obs_space.shape[0], int(act_space.n), True
    if not isinstance(act_space, gym.spaces.Box) or len(act_space.shape) != 1:
        raise InputError(f"world models need flat Box or Discrete actions, got {act_space}")
    return obs_space.shape[0], act_space.shape[0], False


def world_model_for(kind: str, env: gym.Env | str, **kwargs: Any) -> WorldModel:
    """:func:`make_world_model` sized for ``env`` by :func:`world_model_dims` (Discrete actions one-hot inside)."""
    obs_dim, act_dim, discrete = world_model_dims(env)
    return make_world_model(kind, obs_dim, act_dim, discrete_actions=discrete, **kwargs)
