"""World models behind one interface: a conditional GAN, a PETS-style Gaussian ensemble, an MLP.

Every model maps a context ``c = (s, a)`` to the distribution of ``y = (Δs, r)``; inputs and targets
are standardised with statistics kept in the model. Termination is predicted by one shared
classifier ``p(terminated | s, a, s')`` applied to the sampled next state, so all three models
treat it alike.

* :class:`GANWorldModel`: generator ``G(c, z) -> y`` against a discriminator ``D(c, y)``, both the
  core's MLP nets and trained with the core's costs (``loss``) and R1 penalty, plus the energy
  score (a proper scoring rule) in G's cost and a linearly decaying lr; samples are multi-modal
  wherever the data are.
* :class:`EnsembleWorldModel`: 5 members (by default) predicting mean and log-variance, Gaussian
  NLL, bounded log-variance and per-member bootstrap batches (PETS, Chua et al. 2018); sampling
  gives each draw a random elite (TS1), each computing only its share of the batch.
* :class:`MLPWorldModel`: one deterministic regressor (MSE); every draw is its mean.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, cast

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genrl import distributed
from genrl.errors import CheckpointError, InputError
from genrl.gan.losses import get_loss
from genrl.gan.nets import MLPDiscriminator, MLPGenerator
from genrl.gan.regularizers import energy_score
from genrl.gan.update import AdversarialUpdate, Discriminator, Generator, Judgement, optimizer_step
from genrl.io import load_checkpoint, restoring, save_checkpoint
from genrl.spaces import flat_dims
from genrl.training import Callback, run
from genrl.transitions import Transitions
from genrl.utils import resolve_device
from genrl.validation import as_float_tensor, as_label_tensor, check_count
from genrl.worldmodel.fitting import EarlyStopping, Fit, as_stopping


@dataclass
class Prediction:
    """Samples from a world model: ``next_obs (B, n, d_obs)``, ``reward (B, n)``, ``terminated (B, n)`` bool."""

    next_obs: Tensor
    reward: Tensor
    terminated: Tensor


class Standardizer(nn.Module):
    """Per-feature mean / std, stored as buffers so they are saved with the model."""

    mean: Tensor
    std: Tensor

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
    def _optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        """New optimisers for one fit, by name (the fit owns them and checkpoints them)."""

    @abstractmethod
    def _updater(self, opts: dict[str, torch.optim.Optimizer]) -> Callable[[Tensor, Tensor], dict[str, Tensor]]:
        """The model's step with these optimisers: standardised contexts ``c (B, d_c)`` and targets
        ``y (B, d_y)`` -> detached losses (as mbrl-lib's ``Model.update`` takes its optimiser)."""

    @abstractmethod
    def _sample_y(self, c: Tensor, n: int) -> Tensor:
        """Standardised samples ``(B, n, d_y)`` for standardised contexts ``c (B, d_c)``."""

    def _member_samples(self, c: Tensor, n: int) -> Tensor | None:
        """Each member's own samples ``(E, B, n, d_y)``, for a model that keeps elites (else None)."""
        return None

    def _choose_elites(self, scores: Tensor) -> None:
        """Keep the members with the lowest held-out ``scores (E,)`` for sampling."""

    # ---------------------------------------------------------------- public API
    def fit(self, data: Transitions, steps: int = 5000, batch_size: int = 256, lr: float = 1e-3,
            progress: bool = False, device: str = "auto", checkpoint_path: str | Path | None = None,
            checkpoint_every: int = 0, tensorboard_dir: str | Path | None = None,
            callback: Callback | None = None, log_every: int = 200,
            early_stopping: EarlyStopping | bool = True) -> WorldModel:  # fmt: skip
        """Fit on transitions (their shapes must match the model's) for at most ``steps`` steps.

        With ``early_stopping`` (default: :class:`~genrl.worldmodel.fitting.EarlyStopping`'s
        settings) a share of the transitions is held out, the fit stops once its held-out energy
        score stops improving and ends on its best-scoring weights (an ensemble then keeps its
        elites); ``False`` trains on every row for all ``steps``.

        Each call is a new fit warm-started from the current weights (Dyna refits this way), except
        on a model from :meth:`load`: its first ``fit`` continues the saved run to ``steps``
        in total, with its optimiser, RNG states and standardisation, ending exactly where an
        uninterrupted run would on the same data (on CPU). The loop is :func:`genrl.training.run`
        (checkpoints every ``checkpoint_every`` steps and at the end, ``callback(model, row)``);
        under torchrun every process draws its own ``batch_size / world_size`` rows.
        """
        if not isinstance(data, Transitions):
            raise InputError(f"data must be Transitions, got {type(data).__name__}")
        if len(data) < 2:  # one row has no spread to standardise by
            raise InputError(f"data has {len(data)} transition; at least 2 are needed")
        check_count(steps, "steps")
        check_count(batch_size, "batch_size")
        if batch_size % distributed.world_size():
            raise InputError(f"batch_size {batch_size} must be divisible by the {distributed.world_size()} processes")
        self.to(resolve_device(device))
        resume, self._resume_state = self._resume_state, None
        stopping = as_stopping(early_stopping)
        if resume is not None and resume.get("finished"):
            return self.eval()  # the saved fit had already stopped early
        if resume is not None and steps <= self.step_count:
            raise InputError(f"this model was loaded from a fit at step {self.step_count}, which fit continues: pass "
                             f"steps > {self.step_count}, or load it with WorldModel.load(path, continue_fit=False) to "
                             "start a new fit from its weights")  # fmt: skip
        task = Fit(self, data, steps, batch_size // distributed.world_size(), lr, resume, stopping)
        name = f"{self.kind} world model"
        run(task, steps, log_every=log_every, progress=progress, desc=name, tensorboard_dir=tensorboard_dir,
            checkpoint_path=checkpoint_path, checkpoint_every=checkpoint_every, callback=callback, owner=self,
            what=name)  # fmt: skip
        self.eval()
        return self

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
        """Weights and spec, atomically (a fit's checkpoints add its training state)."""
        return save_checkpoint(path, self._state())

    def _state(self) -> dict[str, Any]:
        return {"kind": "WorldModel", "spec": self.spec(), "terminations": self.has_terminations,
                "weights": self.state_dict(), "step_count": self.step_count, "history": self.history}  # fmt: skip

    @staticmethod
    def load(path: str | Path, device: str = "auto", continue_fit: bool = True) -> WorldModel:
        """A model saved by :meth:`save` or a fit's checkpoint. From a checkpoint its next ``fit``
        continues that run, unless ``continue_fit=False``: then ``fit`` is a new fit warm-started from
        the weights (as Dyna and the PETS loop refit)."""
        s = load_checkpoint(path, kind="WorldModel")
        with restoring(path):
            model = WorldModel.from_state(s, continue_fit)
        return model.to(resolve_device(device)).eval()

    @staticmethod
    def from_state(s: dict[str, Any], continue_fit: bool = False) -> WorldModel:
        """The model held by a loaded state (:meth:`save`'s, or one nested in another run's checkpoint), on the CPU."""
        spec = dict(s["spec"])
        cls = WorldModel.registry.get(spec.pop("kind"))
        if cls is None:
            raise CheckpointError("the checkpoint holds an unknown world-model kind")
        model = cls(**spec)
        model.load_state_dict(s["weights"])
        model.has_terminations = s["terminations"]
        model.step_count, model.history = s.get("step_count", 0), list(s.get("history", []))
        model._resume_state = s.get("training") if continue_fit else None
        return model.eval()


class MLPWorldModel(WorldModel):
    kind = "mlp"

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (200, 200, 200), seed: int = 0,
                 discrete_actions: bool = False, lr_decay: bool = False) -> None:  # fmt: skip
        super().__init__(obs_dim, act_dim, hidden, seed, discrete_actions, lr_decay)
        self.net = mlp(obs_dim + act_dim, self.y_dim, self.hidden)

    def _optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"opt": torch.optim.Adam(self.net.parameters(), lr=lr)}

    def _updater(self, opts: dict[str, torch.optim.Optimizer]) -> Callable[[Tensor, Tensor], dict[str, Tensor]]:
        def update(c: Tensor, y: Tensor) -> dict[str, Tensor]:
            loss = F.mse_loss(self.net(c), y)
            optimizer_step(opts["opt"], loss, self.net)
            return {"mse": loss.detach()}

        return update

    def _sample_y(self, c: Tensor, n: int) -> Tensor:
        return self.net(c)[:, None].expand(-1, n, -1)


class EnsembleLinear(nn.Module):
    """E independent linear layers applied as one batched matmul: ``(E, B, in) -> (E, B, out)``,
    or ``(k, B, in) -> (k, B, out)`` for the k members in ``members``."""

    def __init__(self, members: int, in_dim: int, out_dim: int) -> None:
        super().__init__()
        bound = 1 / np.sqrt(in_dim)
        self.weight = nn.Parameter(torch.empty(members, in_dim, out_dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(members, 1, out_dim))

    def forward(self, x: Tensor, members: Tensor | None = None) -> Tensor:
        if members is None:
            return torch.baddbmm(self.bias, x, self.weight)
        return torch.baddbmm(self.bias[members], x, self.weight[members])


class EnsembleWorldModel(WorldModel):
    """:param members: Gaussian nets (PETS: 5, MBPO: 7); :param elites: how many of them, the best
    on the fit's held-out rows, draw the samples (MBPO: 5; default: all)."""

    kind = "ensemble"
    elite_index: Tensor

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (200, 200, 200), seed: int = 0,
                 discrete_actions: bool = False, lr_decay: bool = False, members: int = 5,
                 elites: int | None = None) -> None:  # fmt: skip
        super().__init__(obs_dim, act_dim, hidden, seed, discrete_actions, lr_decay)
        self.members = check_count(members, "members")
        self.elites = members if elites is None else check_count(elites, "elites")
        if self.elites > members:
            raise InputError(f"elites ({self.elites}) cannot exceed members ({members})")
        layers: list[nn.Module] = []
        width = obs_dim + act_dim
        for h in self.hidden:
            layers += [EnsembleLinear(members, width, h), nn.SiLU()]
            width = h
        layers.append(EnsembleLinear(members, width, 2 * self.y_dim))
        self.net = nn.Sequential(*layers)
        # Soft bounds on the log-variance, learned as in PETS.
        self.max_logvar = nn.Parameter(torch.full((self.y_dim,), 0.5))
        self.min_logvar = nn.Parameter(torch.full((self.y_dim,), -10.0))
        self.register_buffer("elite_index", torch.arange(self.elites))

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "members": self.members, "elites": self.elites}

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        # Files written before elites existed used every member.
        state_dict.setdefault(prefix + "elite_index", torch.arange(self.elites))
        super()._load_from_state_dict(state_dict, prefix, *args)

    def _optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"opt": torch.optim.Adam(self.parameters(), lr=lr, weight_decay=1e-5)}

    def _mean_logvar(self, c: Tensor, members: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Each member's mean and bounded log-variance for ``c (E or k, B, d_c)``."""
        out = c
        for layer in self.net:
            out = layer(out, members) if isinstance(layer, EnsembleLinear) else layer(out)
        mean, logvar = out.chunk(2, dim=-1)
        logvar = self.max_logvar - F.softplus(self.max_logvar - logvar)
        return mean, self.min_logvar + F.softplus(logvar - self.min_logvar)

    def _updater(self, opts: dict[str, torch.optim.Optimizer]) -> Callable[[Tensor, Tensor], dict[str, Tensor]]:
        def update(c: Tensor, y: Tensor) -> dict[str, Tensor]:
            idx = bootstrap(len(c), self.members, c.device)  # each member sees its own resample
            mean, logvar = self._mean_logvar(c[idx])
            nll = (((mean - y[idx]) ** 2) * torch.exp(-logvar) + logvar).mean()
            loss = nll + 0.01 * (self.max_logvar.sum() - self.min_logvar.sum())
            optimizer_step(opts["opt"], loss, self)
            return {"nll": nll.detach()}

        return update

    def _sample_y(self, c: Tensor, n: int) -> Tensor:
        # TS1 as in mbrl-lib: shuffle the B*n draws, give each elite an equal share, run each elite
        # only on its share (one batched pass), then undo the shuffle.
        rows = c.repeat_interleave(n, 0)
        total, k = len(rows), len(self.elite_index)
        perm = torch.randperm(total, device=c.device)
        pad = (-total) % k
        order = torch.cat([perm, perm[torch.arange(pad, device=c.device) % total]])  # pad to a multiple of k
        x = rows[order].view(k, -1, rows.shape[1])
        mean, logvar = self._mean_logvar(x, None if k == self.members else self.elite_index)
        draws = (mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)).reshape(-1, self.y_dim)[:total]
        out = torch.empty_like(draws)
        out[perm] = draws
        return out.view(c.shape[0], n, -1)

    def _member_samples(self, c: Tensor, n: int) -> Tensor:
        mean, logvar = self._mean_logvar(c[None].expand(self.members, -1, -1))
        draws = mean[:, :, None] + torch.exp(0.5 * logvar)[:, :, None] * torch.randn(*mean.shape[:2], n, self.y_dim,
                                                                                    device=c.device)  # fmt: skip
        return draws

    def _choose_elites(self, scores: Tensor) -> None:
        self.elite_index.copy_(torch.sort(torch.argsort(scores)[: self.elites]).values)

    @torch.no_grad()
    def mean_prediction(self, obs: Any, act: Any) -> Tensor:
        """The ensemble's mean next observation ``(B, d_obs)`` (what a Gaussian model would plan with)."""
        c = self._context(obs, act)
        k = len(self.elite_index)
        mean, _ = self._mean_logvar(self.ctx_norm(c)[None].expand(k, -1, -1), self.elite_index)
        y = self.y_norm.inverse(mean.mean(0))
        return c[:, : self.obs_dim] + y[:, : self.obs_dim]


class GANWorldModel(WorldModel):
    """Conditional GAN on standardised (Δs, r).

    :param loss: a name in :data:`genrl.gan.losses.LOSSES`.
    :param latent_dim: noise size; :param r1: R1 weight on real (c, y) pairs.
    :param energy_weight: weight of the energy score of two generator samples against the logged y,
        added to the generator's cost (0: a pure GAN). A strictly proper scoring rule, it keeps the
        modes the adversarial cost finds while sharpening each (see README, world-model quality).
    :param categories: make this many of the ``latent_dim`` noise entries one discrete choice
        (:class:`~genrl.gan.nets.MLPGenerator`'s ``categories``), so the generator can send
        outcomes to separate modes with no continuous path of samples between them (0: off).
    :param members: independent generator/discriminator pairs, each trained on its own bootstrap
        resample of every batch; each draw comes from a random member (PETS' TS1). One GAN models
        the kernel's modes; members that disagree where data is thin add what it cannot know there.
    """

    kind = "gan"

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (200, 200, 200), seed: int = 0,
                 loss: str = "non_saturating", latent_dim: int = 8, r1: float = 1.0, energy_weight: float = 1.0,
                 discrete_actions: bool = False, lr_decay: bool = True, members: int = 1,
                 categories: int = 0) -> None:  # fmt: skip
        super().__init__(obs_dim, act_dim, hidden, seed, discrete_actions, lr_decay)
        if categories == 1 or not 0 <= categories <= latent_dim:
            raise InputError(f"categories must be 0 or in [2, latent_dim={latent_dim}], got {categories}")
        self.loss_name, self.latent_dim, self.r1, self.energy_weight = loss, latent_dim, r1, energy_weight
        self.categories = categories
        self.members = check_count(members, "members")
        self.cost = get_loss(loss)
        c_dim = obs_dim + act_dim
        # The core's nets: the context enters G as part of its input vector, and D judges (c, y).
        # The noise comes first in G's input, so ``categories`` picks among noise entries only.
        self.generators = nn.ModuleList(MLPGenerator(latent_dim + c_dim, self.y_dim, self.hidden, norm="none",
                                                     categories=categories) for _ in range(members))  # fmt: skip
        self.discriminators = nn.ModuleList(MLPDiscriminator(c_dim + self.y_dim, self.hidden) for _ in range(members))

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "loss": self.loss_name, "latent_dim": self.latent_dim, "r1": self.r1,
                "energy_weight": self.energy_weight, "members": self.members, "categories": self.categories}  # fmt: skip

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        # Files written before ``members`` existed hold one pair as ``G.`` / ``D.``.
        for old, new in (("G.", "generators.0."), ("D.", "discriminators.0.")):
            for key in [k for k in state_dict if k.startswith(prefix + old)]:
                state_dict[prefix + new + key[len(prefix + old) :]] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args)

    def _optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        opts: dict[str, torch.optim.Optimizer] = {}
        for m, (G, D) in enumerate(zip(self.generators, self.discriminators)):
            suffix = str(m) if m else ""  # member 0 keeps the names of one-pair checkpoints
            opts[f"opt_g{suffix}"] = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
            opts[f"opt_d{suffix}"] = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
        return opts

    def _generate(self, c: Tensor, member: int = 0) -> Tensor:
        return self.generators[member](torch.cat([torch.randn(len(c), self.latent_dim, device=c.device), c], 1))

    def _updater(self, opts: dict[str, torch.optim.Optimizer]) -> Callable[[Tensor, Tensor], dict[str, Tensor]]:
        """The core's adversarial update on ``D(c, y)``, with the energy score as an extra generator cost."""
        pairs = zip(self.generators, self.discriminators)
        updates = [AdversarialUpdate(cast(Discriminator, D), opts[f"opt_d{m or ''}"], self.cost, G=cast(Generator, G),
                                     opt_g=opts[f"opt_g{m or ''}"], r1=self.r1) for m, (G, D) in enumerate(pairs)]  # fmt: skip

        def update_member(m: int, c: Tensor, y: Tensor) -> dict[str, Tensor]:
            up = updates[m]
            # Two draws per context when the energy score needs them; D sees the first.
            fakes = self._generate(c.repeat(2, 1), m).view(2, len(c), -1) if self.energy_weight else self._generate(c, m)[None]
            fake = fakes[0]
            d_loss, _ = up.discriminator_loss(torch.cat([c, y], 1), torch.cat([c, fake.detach()], 1))
            up.step_discriminator(d_loss)
            scores: list[Tensor] = []

            def energy(j: Judgement) -> Tensor:
                scores.append(energy_score(fakes.transpose(0, 1), y))
                return self.energy_weight * scores[0]

            g_loss, j = up.generator_loss(torch.cat([c, fake], 1), extra=energy if self.energy_weight else None)
            up.step_generator(g_loss)
            losses = {"d_loss": d_loss.detach(), "g_loss": cast(Tensor, j.adversarial_cost).detach()}
            if scores:
                losses["energy_score"] = scores[0].detach()
            return losses

        def update(c: Tensor, y: Tensor) -> dict[str, Tensor]:
            if self.members == 1:
                return update_member(0, c, y)
            rows = [update_member(m, c[idx], y[idx]) for m, idx in enumerate(bootstrap(len(c), self.members, c.device))]
            return {k: torch.stack([r[k] for r in rows]).mean() for k in rows[0]}

        return update

    def _sample_y(self, c: Tensor, n: int) -> Tensor:
        rows = c.repeat_interleave(n, 0)
        if self.members == 1:
            return self._generate(rows).view(c.shape[0], n, -1)
        owner = torch.randint(self.members, (len(rows),), device=c.device)
        out = torch.empty(len(rows), self.y_dim, device=c.device)
        for m in range(self.members):
            mine = owner == m
            if mine.any():
                out[mine] = self._generate(rows[mine], m)
        return out.view(c.shape[0], n, -1)


def bootstrap(n: int, members: int, device: torch.device) -> Tensor:
    """``(members, n)`` row indices: each member's resample (with replacement) of a batch of ``n``."""
    return torch.randint(n, (members, n), device=device)


def make_world_model(kind: str, obs_dim: int, act_dim: int, **kwargs: Any) -> WorldModel:
    """Build a world model by name: ``"gan"``, ``"ensemble"`` or ``"mlp"``."""
    if kind not in WorldModel.registry:
        raise InputError(f"unknown world model {kind!r}; choose one of {sorted(WorldModel.registry)}")
    check_count(obs_dim, "obs_dim")
    check_count(act_dim, "act_dim")
    for width in kwargs.get("hidden", ()):
        check_count(width, "every hidden width")
    return WorldModel.registry[kind](obs_dim, act_dim, **kwargs)


def world_model_for(kind: str, env: gym.Env | str, **kwargs: Any) -> WorldModel:
    """:func:`make_world_model` sized for ``env`` by :func:`genrl.spaces.flat_dims` (Discrete actions one-hot inside)."""
    obs_dim, act_dim, discrete = flat_dims(env)
    return make_world_model(kind, obs_dim, act_dim, discrete_actions=discrete, **kwargs)
