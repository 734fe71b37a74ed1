"""GAN imputation of missing values (GAIN, Yoon, Jordon & van der Schaar 2018) as a scikit-learn transformer.

The game, on the standardised, one-hot encoded table (:mod:`genrl.impute.columns`):

* the **generator** (:class:`~genrl.gan.nets.MLPGenerator`) sees a row with its missing entries
  replaced by noise, and the mask of what it sees, and proposes every entry; the imputed row keeps
  the seen entries and takes the proposals elsewhere;
* the **discriminator** (:class:`~genrl.gan.nets.MLPDiscriminator` with one logit per entry) sees
  the imputed row and a **hint** — each entry's mask value, revealed with probability
  ``hint_rate``, else 0.5 — and guesses which entries were seen. Its cost is the core J(D)
  (:meth:`genrl.gan.update.AdversarialUpdate.entrywise_discriminator_loss`) over the entries the
  hint does not reveal: seen entries are the real side, imputed ones the fake side;
* the generator's cost is the non-saturating cost on its imputed, unrevealed entries plus
  ``reconstruction_weight`` × the mean squared error of its proposals for known entries.

One change from GAIN: GAIN's reconstruction targets are the entries the generator was shown, which
it can copy. Here each training batch also hides a random ``holdout`` fraction of the known entries
from the generator, and those are the reconstruction targets, so the term teaches prediction
(``holdout=0`` is GAIN's original). ``hint_rate=1`` reveals every entry, which leaves the
reconstruction term alone (the ablation GAIN's users ran).

The update and training loop are the core's (:class:`~genrl.gan.update.AdversarialUpdate`,
:func:`genrl.training.run`).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data
from torch import Tensor

from genrl.errors import InputError, InputTypeError
from genrl.gan.losses import get_loss
from genrl.gan.nets import MLPDiscriminator, MLPGenerator
from genrl.gan.update import AdversarialUpdate, Discriminator, Generator
from genrl.impute.columns import TableEncoder
from genrl.io import fingerprint, load_checkpoint, restoring
from genrl.schedules import linear_lr_scale
from genrl.training import Callback, Row, capture_rng, resume_streams, run, split_streams
from genrl.utils import resolve_device


class GANImputer(TransformerMixin, BaseEstimator):
    """Fill missing entries (NaN, None, pandas NA) with a GAIN-style GAN, for new rows too.

    :param hidden: widths of the generator's and the discriminator's hidden layers; ``None``: two
        layers of ``max(128, 8 * D)`` units, D the encoded width (columns plus one-hot categories).
    :param hint_rate: probability that the discriminator is told an entry's true mask value (GAIN's
        hint); 1 reveals every entry and leaves reconstruction alone, 0 gives no hint.
    :param reconstruction_weight: weight of the reconstruction error in the generator's cost (GAIN's α).
    :param holdout: fraction of known entries hidden from the generator in each training batch and
        used as reconstruction targets; 0 reconstructs the entries it sees, as GAIN does.
    :param n_imputations: draws per row in :meth:`transform`, which returns their mean (numeric
        columns) or the category of highest mean probability; :meth:`transform_draws` returns all.
    :param categorical_features: ``"from_dtype"`` (pandas columns of category, object, string or
        bool dtype; none for arrays), or the categorical columns' indices or names. Categorical
        columns are one-hot inside and come back as categories.
    :param lr: Adam learning rate for both players (β = 0.5, 0.999); it decays linearly to 0 over
        the second half of ``max_steps``.
    :param batch_size: rows per training batch (drawn with replacement).
    :param max_steps: training steps (one discriminator and one generator update each).
    :param random_state: seed for weights, batches, training noise and the noise of
        :meth:`transform` (``None``: a fresh seed from NumPy's global generator at ``fit``).
        torch's global generators are left as they were.
    :param device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
    :param verbose: show a progress bar with the players' losses.
    :param callback: ``callback(imputer, row)`` after each logged row; returning ``False`` stops.
    :param log_every: steps between logged rows (``history_``).
    :param checkpoint_path: a file to save training to every ``checkpoint_every`` steps (0: only at
        the end) and at the end, atomically as safetensors (no pickle). To continue a killed fit,
        ``GANImputer.load(path).fit(X)`` on the same data; a path belongs to one fit.
    :param tensorboard_dir: write the logged rows as TensorBoard scalars there.

    Fitted attributes: ``n_features_in_``, ``feature_names_in_`` (DataFrame input), ``encoder_``
    (the :class:`~genrl.impute.columns.TableEncoder`: column kinds, standardisation, categories),
    ``generator_``, ``discriminator_``, ``seed_`` (the seed used) and ``history_`` (logged rows:
    step, seconds, ``d_loss``, ``g_loss``, ``reconstruction``).

    :meth:`transform` is deterministic: each row's noise is seeded by ``seed_`` and the row's own
    contents, so a row is imputed the same alone or in any batch, and identical rows identically.
    """

    def __init__(
        self,
        *,
        hidden: tuple[int, ...] | None = None,
        hint_rate: float = 0.9,
        reconstruction_weight: float = 10.0,
        holdout: float = 0.2,
        n_imputations: int = 10,
        categorical_features: str | Sequence[int | str] = "from_dtype",
        lr: float = 1e-3,
        batch_size: int = 128,
        max_steps: int = 2000,
        random_state: int | None = None,
        device: str = "auto",
        verbose: bool = False,
        callback: Callback | None = None,
        log_every: int = 100,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1000,
        tensorboard_dir: str | None = None,
    ) -> None:
        self.hidden = hidden
        self.hint_rate = hint_rate
        self.reconstruction_weight = reconstruction_weight
        self.holdout = holdout
        self.n_imputations = n_imputations
        self.categorical_features = categorical_features
        self.lr = lr
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.callback = callback
        self.log_every = log_every
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.tensorboard_dir = tensorboard_dir

    # ------------------------------------------------------------------ input handling
    def _check_params(self) -> None:
        for name in ("hint_rate", "holdout"):
            v = getattr(self, name)
            if not (np.isfinite(v) and 0.0 <= v <= 1.0):
                raise InputError(f"{name} must be in [0, 1], got {v}")
        if self.holdout == 1.0:
            raise InputError("holdout must be < 1 (the generator must see some entries)")
        for name in ("reconstruction_weight", "lr"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {v}")
        for name in ("batch_size", "max_steps", "n_imputations", "log_every"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)}")
        if int(self.checkpoint_every) < 0:
            raise InputError(f"checkpoint_every must be >= 0, got {self.checkpoint_every}")
        if self.hidden is not None and (not self.hidden or any(int(h) < 1 for h in self.hidden)):
            raise InputError(f"hidden must be a non-empty sequence of widths >= 1, got {self.hidden!r}")

    def _table(self, X: Any, fitted: bool) -> np.ndarray:
        """X through scikit-learn's checks (its messages, ``n_features_in_``, ``feature_names_in_``),
        as a 2-D array: float when every column is numeric, object otherwise."""
        kinds = getattr(X, "dtypes", None)
        listed = not isinstance(self.categorical_features, str) and len(self.categorical_features) > 0
        mixed = listed or (kinds is not None and any(getattr(k, "kind", "O") not in "iuf" for k in kinds))
        try:
            try:
                table = validate_data(self, X, reset=not fitted, dtype=object if mixed else "numeric", ensure_all_finite=False)
            except ValueError:
                if mixed:
                    raise
                # Text in a column: keep the table as objects so the encoder names the column and the cell.
                table = validate_data(self, X, reset=not fitted, dtype=None, ensure_all_finite=False)
        except TypeError as e:
            raise InputTypeError(f"X: {e}") from None
        except ValueError as e:
            raise InputError(f"X: {e}") from None
        if not fitted:
            self._categorical = self._categorical_columns(X, table.shape[1])
        return table

    def _categorical_columns(self, X: Any, n: int) -> set[int]:
        spec = self.categorical_features
        if isinstance(spec, str) and spec == "from_dtype":
            kinds = getattr(X, "dtypes", None)
            return set() if kinds is None else {j for j, k in enumerate(kinds) if getattr(k, "kind", "O") not in "iuf"}
        if isinstance(spec, str):
            raise InputError(f"categorical_features must be 'from_dtype' or a list of columns, got {spec!r}")
        names = list(getattr(self, "feature_names_in_", []))
        out = set()
        for c in spec:
            if isinstance(c, (int, np.integer)) and 0 <= c < n:
                out.add(int(c))
            elif isinstance(c, str) and c in names:
                out.add(names.index(c))
            else:
                raise InputError(f"categorical_features names column {c!r}, which X does not have ({n} columns)")
        return out

    def _names(self, n: int) -> list[str]:
        if hasattr(self, "feature_names_in_"):
            return [repr(str(v)) for v in self.feature_names_in_]
        return [str(j) for j in range(n)]

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any = None) -> GANImputer:
        """Learn to impute from ``X (N, n_features)`` with missing entries (``y`` is ignored).

        On an imputer from :meth:`load`, ``fit`` continues the saved run to ``max_steps`` after
        checking it was written for the same data and parameters; otherwise every call is a fresh fit.
        """
        self._check_params()
        resume = self.__dict__.pop("_resume", None)
        table = self._table(X, fitted=False)
        self.encoder_ = TableEncoder(self._names(table.shape[1]), self._categorical).fit(table)
        self.seed_ = int(np.random.randint(2**31)) if self.random_state is None else int(self.random_state)
        if resume is not None:
            self.seed_ = int(resume["seed"])  # the run's own seed, also when random_state is None
        device = resolve_device(self.device)
        values, observed = self.encoder_.encode(table)
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
            torch.manual_seed(self.seed_)
            game = _ImputationGame(self, torch.from_numpy(values).to(device), torch.from_numpy(observed).to(device), device)
            game.fingerprint = fingerprint([values, observed], self.encoder_.state(), params=self.get_params())
            if resume is not None:
                game.restore(resume, self.checkpoint_path)
            self.generator_, self.discriminator_, self.history_ = game.G, game.D, game.history
            run(game, int(self.max_steps), log_every=int(self.log_every), progress=self.verbose, desc="GAN imputer",
                tensorboard_dir=self.tensorboard_dir, checkpoint_path=self.checkpoint_path,
                checkpoint_every=int(self.checkpoint_every), callback=self.callback, owner=self,
                what="GAN imputer")  # fmt: skip
        return self

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> GANImputer:
        """The imputer saved in a ``checkpoint_path`` file: it imputes as fitted so far, and ``fit``
        on the same data continues its run to ``max_steps``."""
        s = load_checkpoint(path, kind="GANImputer")
        with restoring(path):
            params: dict[str, Any] = {k: tuple(v) if k == "hidden" and v is not None else v for k, v in s["params"].items()}
            est = cls(**params, device=device, checkpoint_path=str(path))
            f = s["fitted"]
            est.n_features_in_, est.seed_ = int(f["n_features_in"]), int(s["seed"])
            if f["feature_names_in"] is not None:
                est.feature_names_in_ = np.asarray(f["feature_names_in"], dtype=object)
            est.encoder_ = TableEncoder.from_state(f["encoder"])
            d, dev = est.encoder_.width, resolve_device(device)
            est.generator_ = _generator(est.hidden, d, est.seed_).to(dev)
            est.discriminator_ = _discriminator(est.hidden, d).to(dev)
            est.generator_.load_state_dict(s["G"])
            est.discriminator_.load_state_dict(s["D"])
            est.history_ = list(s["history"])
            est._resume = s
        return est

    # ------------------------------------------------------------------ imputing
    def _noise(self, values: np.ndarray, observed: np.ndarray) -> np.ndarray:
        """``(n_imputations, N, D)`` standard normal noise, seeded per row by ``seed_`` and the row."""
        draws, d = int(self.n_imputations), values.shape[1]
        out = np.empty((draws, values.shape[0], d), dtype=np.float32)
        for i in range(values.shape[0]):
            key = zlib.crc32(values[i].tobytes() + np.packbits(observed[i]).tobytes())
            out[:, i] = np.random.default_rng([self.seed_, key]).standard_normal((draws, d), dtype=np.float32)
        return out

    @torch.no_grad()
    def _draws(self, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(table, encoded draws ``(n_imputations, N, D)``, observed ``(N, D)``)."""
        check_is_fitted(self, "encoder_")
        table = self._table(X, fitted=True)
        values, observed = self.encoder_.encode(table)
        G = self.generator_
        dev = next(G.parameters()).device
        noise = self._noise(values, observed)
        x, m = torch.from_numpy(values).to(dev), torch.from_numpy(observed).to(dev)
        blocks = self.encoder_.categorical_blocks()
        was = G.training
        G.eval()
        draws = [torch.where(m, x, _propose(G, x, m, torch.from_numpy(z).to(dev), blocks)) for z in noise]
        G.train(was)
        return table, torch.stack(draws).cpu().numpy(), observed

    def _complete(self, table: np.ndarray, encoded: np.ndarray, observed: np.ndarray) -> np.ndarray:
        out = self.encoder_.decode(encoded)
        seen = observed[:, [c.start for c in self.encoder_.columns]]
        out[seen] = table[seen]  # known entries come back exactly as given
        return out

    def transform(self, X: Any) -> np.ndarray:
        """``X`` with its missing entries imputed: float64 ``(N, n_features)``, or object when a
        column is categorical (categories as in the input). Known entries are returned unchanged."""
        table, draws, observed = self._draws(X)
        return self._complete(table, draws.mean(0), observed)

    def transform_draws(self, X: Any) -> np.ndarray:
        """``n_imputations`` completed copies of ``X``: ``(n_imputations, N, n_features)`` (multiple
        imputation; their spread shows how uncertain each imputed entry is)."""
        table, draws, observed = self._draws(X)
        return np.stack([self._complete(table, d, observed) for d in draws])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The input's column names (imputing keeps every column, in order)."""
        check_is_fitted(self, "encoder_")
        return _check_feature_names_in(self, input_features)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = False
        return tags


def _propose(G: torch.nn.Module, x: Tensor, seen: Tensor, noise: Tensor, blocks: list[tuple[int, int]]) -> Tensor:
    """The generator's proposal for every entry of ``x (B, D)`` given its ``seen`` entries, the others
    replaced by ``noise (B, D)``; one-hot blocks come out as probabilities. Completed rows are
    ``torch.where(seen, x, proposal)``."""
    proposal = G(torch.cat([torch.where(seen, x, noise), seen.float()], 1))
    if blocks:
        proposal = torch.cat([torch.softmax(proposal[:, a:b], 1) if (a, b) in blocks else proposal[:, a:b]
                              for a, b in _segments(proposal.shape[1], blocks)], 1)  # fmt: skip
    return proposal


def _segments(width: int, blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``[0, width)`` cut at the one-hot blocks' edges."""
    edges = sorted({0, width, *(e for b in blocks for e in b)})
    return list(itertools.pairwise(edges))


class _ImputationGame:
    """One :class:`GANImputer` fit as a :class:`~genrl.training.Trainable`."""

    def __init__(self, est: GANImputer, values: Tensor, observed: Tensor, device: torch.device) -> None:
        self.est, self.x, self.m, self.device = est, values, observed, device
        enc = est.encoder_
        d = enc.width
        self.columns = torch.as_tensor(enc.entry_columns(), device=device)
        self.starts = torch.as_tensor([c.start for c in enc.columns], device=device)
        self.blocks = enc.categorical_blocks()
        self.G, self.D = _generator(est.hidden, d, est.seed_).to(device), _discriminator(est.hidden, d).to(device)
        self.fingerprint = ""
        self.rng = torch.Generator(device=device).manual_seed(est.seed_)
        split_streams(est.seed_, self.rng)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=est.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=est.lr, betas=(0.5, 0.999))
        self.update = AdversarialUpdate(cast(Discriminator, self.D), self.opt_d, get_loss("non_saturating"),
                                        G=cast(Generator, self.G), opt_g=self.opt_g)  # fmt: skip
        self.B = int(est.batch_size)
        self.step_count = 0
        self.history: list[Row] = []

    def _per_column(self, p: float) -> Tensor:
        """A ``(B, D)`` coin with probability ``p`` per row and input column (one-hot blocks as one)."""
        return (torch.rand(self.B, len(self.starts), device=self.device, generator=self.rng) < p)[:, self.columns]

    def train_step(self) -> dict[str, Tensor]:
        est, up = self.est, self.update
        for opt in (self.opt_g, self.opt_d):  # the rate decays to 0 over the second half (from the step: resumable)
            for group in opt.param_groups:
                group["lr"] = est.lr * linear_lr_scale(self.step_count, int(est.max_steps), 0.5)
        rows = torch.randint(len(self.x), (self.B,), device=self.device, generator=self.rng)
        x, known = self.x[rows], self.m[rows]
        held = known & self._per_column(est.holdout)
        seen = known & ~held
        noise = torch.randn(x.shape, device=self.device, generator=self.rng)
        revealed = self._per_column(est.hint_rate)
        hint = torch.where(revealed, seen.float(), torch.full_like(x, 0.5))
        proposal = _propose(self.G, x, seen, noise, self.blocks)
        completed = torch.where(seen, x, proposal)
        d_loss, _ = up.entrywise_discriminator_loss(torch.cat([completed.detach(), hint], 1), seen, judged=~revealed)
        up.step_discriminator(d_loss)
        targets = (held if est.holdout else seen).float()
        reconstruction = ((proposal - x) ** 2 * targets).sum() / targets.sum().clamp_min(1.0)
        g_loss, _ = up.generator_loss(torch.cat([completed, hint], 1), entries=~seen & ~revealed,
                                      extra=est.reconstruction_weight * reconstruction)  # fmt: skip
        up.step_generator(g_loss)
        self.step_count += 1
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "reconstruction": reconstruction.detach()}

    def state(self) -> dict[str, Any]:
        est = self.est
        params = {k: v for k, v in est.get_params().items() if k not in ("callback", "device", "checkpoint_path")}
        names = getattr(est, "feature_names_in_", None)
        fitted = {"n_features_in": est.n_features_in_, "encoder": est.encoder_.state(),
                  "feature_names_in": None if names is None else [str(v) for v in names]}  # fmt: skip
        return {"kind": "GANImputer", "params": params, "fitted": fitted, "fingerprint": self.fingerprint,
                "seed": est.seed_, "step": self.step_count, "history": self.history,
                "G": self.G.state_dict(), "D": self.D.state_dict(),
                "opt": {"opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()},
                "rng": capture_rng(self.rng)}  # fmt: skip

    def restore(self, s: dict[str, Any], path: str | None) -> None:
        """Continue the run saved in checkpoint state ``s`` (from :meth:`GANImputer.load`)."""
        if s.get("fingerprint") != self.fingerprint:
            raise InputError(f"checkpoint {path!r} was written for other data or parameters; fit a fresh imputer instead")
        with restoring(path or "checkpoint"):
            self.G.load_state_dict(s["G"])
            self.D.load_state_dict(s["D"])
            self.opt_g.load_state_dict(s["opt"]["opt_g"])
            self.opt_d.load_state_dict(s["opt"]["opt_d"])
            step = int(s["step"])
            resume_streams(s["rng"], int(s["seed"]) + step, self.rng)
            self.step_count, self.history = step, list(s["history"])


def _widths(hidden: Sequence[int] | None, d: int) -> tuple[int, ...]:
    # Wider nets for wider tables measured better (digits, 64 columns: 512 units beat 128).
    return (max(128, 8 * d),) * 2 if hidden is None else tuple(int(h) for h in hidden)


def _generator(hidden: Sequence[int] | None, d: int, seed: int) -> MLPGenerator:
    """Sees a row (noise where unseen) and its mask ``(B, 2D)``; proposes every entry ``(B, D)``."""
    return MLPGenerator(2 * d, d, _widths(hidden, d), norm="none", seed=seed)


def _discriminator(hidden: Sequence[int] | None, d: int) -> MLPDiscriminator:
    """Sees a completed row and the hint ``(B, 2D)``; one seen-or-imputed logit per entry ``(B, D)``."""
    return MLPDiscriminator(2 * d, _widths(hidden, d), out_dim=d)
