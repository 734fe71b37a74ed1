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
* the generator's cost is ``adversarial_weight`` × the non-saturating cost on its imputed,
  unrevealed entries, plus ``score_weight`` × a **strictly proper scoring rule** of
  ``train_draws`` draws per row against the held-out known entries (the energy score over a row's
  numeric entries, :func:`genrl.gan.regularizers.energy_score`; the Brier score of the draws' mean
  probabilities for a categorical entry), plus ``reconstruction_weight`` × the mean squared error of
  one draw on those entries (GAIN's term).

Two changes from GAIN. GAIN's reconstruction targets are the entries the generator was shown, which
it can copy; here each training batch also hides a random ``holdout`` fraction of the known entries
from the generator, and those are the targets, so the terms teach prediction (``holdout=0`` with
``score_weight=0`` is GAIN's original). And a squared error is minimised by the conditional *mean*,
which pulls draws between the modes of a multimodal conditional, where no data lies; a proper
scoring rule of several draws is minimised only by the conditional *distribution*, so the draws of
:meth:`GANImputer.transform_draws` are multiple imputations, not noise around a mean.

**Early stopping.** Draws that fit the known entries too closely are too sure of the missing ones
(on wine's 124 training rows the CRPS of held-out entries was best after 250 of 2,000 steps and the
draws' 90% interval covered 0.64 of the truth at the end). With ``early_stopping`` a
``validation_fraction`` of the known entries is hidden from training altogether; every
``log_every`` steps the scoring rule of ``train_draws`` draws on them (fixed noise) is computed, the
best generator kept, and the fit ends after ``n_iter_no_change`` scores without a new best, on the
best weights (as scikit-learn's ``MLPRegressor(early_stopping=True)``, with a proper scoring rule).

**Members.** One generator's draws carry the noise of the data but not the uncertainty of its own
fit, which small tables make large (on wine one generator's 90% interval covered 0.68 of held-out
truths, five bootstrap members' 0.83). With ``members`` > 1 the game trains that many generator and
discriminator pairs side by side, each on its own bootstrap resample of the rows, and draw i comes
from member i mod ``members`` (bootstrap multiple imputation, the approximation of Rubin's "proper"
imputation the MI literature uses when there is no posterior to sample).

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
from torch import Tensor, nn

from genrl.errors import InputError, InputTypeError
from genrl.gan.losses import get_loss
from genrl.gan.nets import MLPDiscriminator, MLPGenerator
from genrl.gan.regularizers import energy_score
from genrl.gan.update import AdversarialUpdate, Discriminator, Generator, optimizer_step
from genrl.impute.columns import TableEncoder
from genrl.io import fingerprint, load_checkpoint, restoring
from genrl.schedules import linear_lr_scale
from genrl.stopping import BestWeights
from genrl.training import Callback, Row, capture_rng, resume_streams, run, split_streams
from genrl.utils import resolve_device


class GANImputer(TransformerMixin, BaseEstimator):
    """Fill missing entries (NaN, None, pandas NA) with a GAIN-style GAN, for new rows too.

    :param hidden: widths of the generator's and the discriminator's hidden layers; ``None``: two
        layers of ``max(128, 8 * D)`` units, D the encoded width (columns plus one-hot categories).
    :param hint_rate: probability that the discriminator is told an entry's true mask value (GAIN's
        hint); 1 reveals every entry and leaves reconstruction alone, 0 gives no hint.
    :param adversarial_weight: weight of the adversarial cost in the generator's cost; 0 leaves the
        discriminator out (no game: the scoring rule and reconstruction terms alone).
    :param score_weight: weight of the proper scoring rule of ``train_draws`` draws per row on the
        held-out entries (energy score for numbers, Brier score for categories).
    :param reconstruction_weight: weight of the squared error of one draw on the held-out entries
        (GAIN's α); it pulls draws toward the conditional mean.
    :param holdout: fraction of known entries hidden from the generator in each training batch and
        used as the targets of both terms; 0 targets the entries it sees, as GAIN does.
    :param train_draws: draws per row the scoring rule compares (>= 2 when ``score_weight`` > 0).
    :param n_imputations: draws per row: :meth:`transform_draws` returns them all, :meth:`transform`
        their mean (numeric columns) or the category of highest mean probability.
    :param members: generator/discriminator pairs, each fit on a bootstrap resample of the rows
        (1: one pair on the rows as given); draws cycle through them. Fit time grows with it.
    :param early_stopping: hold out ``validation_fraction`` of the known entries (tables with fewer
        than 50 such entries hold none out) and stop on their scoring rule; see the module docstring.
    :param validation_fraction: share of the known entries held out for early stopping.
    :param n_iter_no_change: validation scores (one every ``log_every`` steps) without a new best
        before the fit ends.
    :param sample_posterior: :meth:`transform` returns one draw (the first of
        :meth:`transform_draws`) instead of the mean, as ``IterativeImputer(sample_posterior=True)``
        does: a single completed table for pipelines, with the spread of the data kept.
    :param categorical_features: ``"from_dtype"`` (pandas columns of category, object, string or
        bool dtype; none for arrays), or the categorical columns' indices or names. Categorical
        columns are one-hot inside and come back as categories.
    :param lr: Adam learning rate for both players (β = 0.5, 0.999); it decays linearly to 0 over
        the second half of ``max_steps``.
    :param batch_size: rows per training batch (drawn with replacement).
    :param max_steps: most training steps (one discriminator and one generator update each).
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
    ``generators_`` and ``discriminators_`` (``nn.ModuleList`` of ``members``), ``seed_`` (the seed
    used) and ``history_`` (logged rows: step, seconds, ``g_loss``, ``reconstruction`` (the held-out
    squared error of one draw), ``score`` (the scoring rule, when ``score_weight`` > 0),
    ``validation_score`` (with early stopping) and ``d_loss`` (when ``adversarial_weight`` > 0)).

    :meth:`transform` is deterministic: each row's noise is seeded by ``seed_`` and the row's own
    contents, so a row is imputed the same alone or in any batch, and identical rows identically.
    """

    def __init__(
        self,
        *,
        hidden: tuple[int, ...] | None = None,
        hint_rate: float = 0.9,
        adversarial_weight: float = 1.0,
        score_weight: float = 1.0,
        reconstruction_weight: float = 0.0,
        holdout: float = 0.2,
        train_draws: int = 8,
        members: int = 5,
        n_imputations: int = 10,
        sample_posterior: bool = False,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        categorical_features: str | Sequence[int | str] = "from_dtype",
        lr: float = 1e-3,
        batch_size: int = 128,
        max_steps: int = 10000,
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
        self.adversarial_weight = adversarial_weight
        self.score_weight = score_weight
        self.reconstruction_weight = reconstruction_weight
        self.holdout = holdout
        self.train_draws = train_draws
        self.members = members
        self.n_imputations = n_imputations
        self.sample_posterior = sample_posterior
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
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
        for name in ("hint_rate", "holdout", "validation_fraction"):
            v = getattr(self, name)
            if not (np.isfinite(v) and 0.0 <= v <= 1.0):
                raise InputError(f"{name} must be in [0, 1], got {v}")
        if self.holdout == 1.0:
            raise InputError("holdout must be < 1 (the generator must see some entries)")
        for name in ("adversarial_weight", "score_weight", "reconstruction_weight", "lr"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {v}")
        for name in ("batch_size", "max_steps", "n_imputations", "log_every", "n_iter_no_change", "members"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (self.adversarial_weight or self.score_weight or self.reconstruction_weight):
            raise InputError("adversarial_weight, score_weight and reconstruction_weight are all 0: nothing to learn")
        if self.score_weight and int(self.train_draws) < 2:
            raise InputError(f"train_draws must be >= 2 for the scoring rule (score_weight > 0), got {self.train_draws}")
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
            self.generators_, self.discriminators_, self.history_ = game.G, game.D, game.history
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
            est.generators_, est.discriminators_ = _players(est.hidden, d, est.seed_, int(est.members))
            est.generators_.to(dev).load_state_dict(s["G"])
            est.discriminators_.to(dev).load_state_dict(s["D"])
            est.history_ = list(s["history"])
            est._resume = s
        return est

    # ------------------------------------------------------------------ imputing
    def _noise(self, values: np.ndarray, observed: np.ndarray, draws: int) -> tuple[np.ndarray, np.ndarray]:
        """Per draw, the generator's standard normal noise ``(draws, N, D)`` and a uniform per
        categorical column ``(draws, N, n_categorical)`` to pick its category, seeded per row by
        ``seed_`` and the row (so the first of any number of draws is the same)."""
        d, n_cat = values.shape[1], len(self.encoder_.categorical_blocks())
        z = np.empty((draws, values.shape[0], d), dtype=np.float32)
        u = np.empty((draws, values.shape[0], n_cat))
        for i in range(values.shape[0]):
            key = zlib.crc32(values[i].tobytes() + np.packbits(observed[i]).tobytes())
            z[:, i] = np.random.default_rng([self.seed_, key]).standard_normal((draws, d), dtype=np.float32)
            if n_cat:
                u[:, i] = np.random.default_rng([self.seed_, key, 1]).random((draws, n_cat))
        return z, u

    @torch.no_grad()
    def _draws(self, X: Any, draws: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(table, encoded draws ``(draws, N, D)``, their category uniforms, observed ``(N, D)``)."""
        check_is_fitted(self, "encoder_")
        table = self._table(X, fitted=True)
        values, observed = self.encoder_.encode(table)
        Gs = self.generators_
        dev = next(Gs.parameters()).device
        noise, uniforms = self._noise(values, observed, draws)
        x, m = torch.from_numpy(values).to(dev), torch.from_numpy(observed).to(dev)
        blocks = self.encoder_.categorical_blocks()
        was = Gs.training
        Gs.eval()
        out = [torch.where(m, x, _propose(Gs[i % len(Gs)], x, m, torch.from_numpy(z).to(dev), blocks))
               for i, z in enumerate(noise)]  # fmt: skip
        Gs.train(was)
        return table, torch.stack(out).cpu().numpy(), uniforms, observed

    def _complete(self, table: np.ndarray, encoded: np.ndarray, observed: np.ndarray,
                  uniforms: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
        out = self.encoder_.decode(encoded, uniforms)
        seen = observed[:, [c.start for c in self.encoder_.columns]]
        out[seen] = table[seen]  # known entries come back exactly as given
        return out

    def transform(self, X: Any) -> np.ndarray:
        """``X`` with its missing entries imputed: float64 ``(N, n_features)``, or object when a
        column is categorical (categories as in the input). Known entries are returned unchanged.
        The mean of ``n_imputations`` draws, or with ``sample_posterior`` one draw."""
        if self.sample_posterior:
            table, draws, uniforms, observed = self._draws(X, 1)
            return self._complete(table, draws[0], observed, uniforms[0])
        table, draws, _, observed = self._draws(X, int(self.n_imputations))
        return self._complete(table, draws.mean(0), observed)

    def transform_draws(self, X: Any) -> np.ndarray:
        """``n_imputations`` completed copies of ``X``: ``(n_imputations, N, n_features)``, draws
        from the imputer's conditional distribution of the missing entries given the known ones
        (multiple imputation: pool analyses of the copies with :func:`genrl.impute.pool`).
        A categorical entry's category is drawn from that draw's probabilities."""
        table, draws, uniforms, observed = self._draws(X, int(self.n_imputations))
        return np.stack([self._complete(table, d, observed, u) for d, u in zip(draws, uniforms)])

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


def _draw_score(draws: Tensor, x: Tensor, targets: Tensor, numeric: Tensor, blocks: list[tuple[int, int]]) -> Tensor:
    """The proper scoring rule of ``draws (k, B, D)`` against ``x (B, D)`` on the boolean ``targets``:
    the energy score over each row's numeric targets plus, per categorical block, the Brier score of
    the draws' mean probabilities on the rows where it is a target (averaged over those rows)."""
    score = energy_score(draws.transpose(0, 1), x, targets & numeric)
    for a, b in blocks:  # a masked mean, not indexing: no host sync per step
        rows = targets[:, a].float()
        brier = ((draws[:, :, a:b].mean(0) - x[:, a:b]) ** 2).sum(1)
        score = score + (brier * rows).sum() / rows.sum().clamp_min(1)
    return score


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
        self.numeric = torch.ones(d, dtype=torch.bool, device=device)
        for a, b in self.blocks:
            self.numeric[a:b] = False
        self.G, self.D = _players(est.hidden, d, est.seed_, int(est.members))
        self.G.to(device)
        self.D.to(device)
        self.valid = self._validation_entries(observed)
        if self.valid is not None:
            self.m = observed & ~self.valid  # training never sees the validation entries
        self.best = BestWeights(self.G, int(est.n_iter_no_change))
        self.fingerprint = ""
        self.rng = torch.Generator(device=device).manual_seed(est.seed_)
        split_streams(est.seed_, self.rng)
        # One optimiser per player over all members: members share no parameters, so Adam's
        # per-parameter steps are each member's own.
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=est.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=est.lr, betas=(0.5, 0.999))
        loss = get_loss("non_saturating")
        self.updates = [AdversarialUpdate(cast(Discriminator, D), self.opt_d, loss, G=cast(Generator, G), opt_g=self.opt_g,
                                          adversarial_weight=(1.0, float(est.adversarial_weight)))
                        for G, D in zip(self.G, self.D)]  # fmt: skip
        # Each member's bootstrap resample of the rows (one member: the rows as given).
        n = len(values)
        self.resamples = [torch.arange(n, device=device)] if est.members == 1 else [
            torch.from_numpy(np.random.default_rng([est.seed_, 3, m]).integers(n, size=n)).to(device)
            for m in range(int(est.members))]  # fmt: skip
        self.B = int(est.batch_size)
        self.step_count = 0
        self.history: list[Row] = []

    def _validation_entries(self, observed: Tensor) -> Tensor | None:
        """The known entries held out for early stopping ``(N, D)`` (one-hot blocks as one), or None."""
        est = self.est
        if not est.early_stopping or not est.validation_fraction:
            return None
        coin = np.random.default_rng([est.seed_, 2]).random((observed.shape[0], len(self.starts))) < est.validation_fraction
        valid = torch.from_numpy(coin).to(observed.device)[:, self.columns] & observed
        return valid if int(valid[:, self.starts].sum()) >= 50 else None

    @property
    def finished(self) -> bool:
        """Whether early stopping has ended the fit (``genrl.training.run`` stops on it)."""
        return self.best.finished

    @torch.no_grad()
    def validation_score(self) -> float:
        """The scoring rule of ``train_draws`` draws (at least 2; fixed noise) from every member,
        pooled, on the validation entries."""
        assert self.valid is not None
        rows = self.valid.any(1)
        x, seen, valid = self.x[rows], self.m[rows], self.valid[rows]
        k = max(int(self.est.train_draws), 2)
        gen = torch.Generator(device=self.device).manual_seed(self.est.seed_)
        draws = [_propose(G, x.repeat(k, 1), seen.repeat(k, 1), torch.randn(k * len(x), x.shape[1], device=self.device,
                 generator=gen), self.blocks).view(k, len(x), -1) for G in self.G]  # fmt: skip
        return float(_draw_score(torch.cat(draws), x, valid, self.numeric, self.blocks))

    def summary(self) -> dict[str, float]:
        last = self.best.last_score
        return {} if last is None else {"validation_score": last}

    def _per_column(self, p: float) -> Tensor:
        """A ``(B, D)`` coin with probability ``p`` per row and input column (one-hot blocks as one)."""
        return (torch.rand(self.B, len(self.starts), device=self.device, generator=self.rng) < p)[:, self.columns]

    def train_step(self) -> dict[str, Tensor]:
        """One discriminator step, then one generator step, over every member's own batch."""
        est = self.est
        for opt in (self.opt_g, self.opt_d):  # the rate decays to 0 over the second half (from the step: resumable)
            for group in opt.param_groups:
                group["lr"] = est.lr * linear_lr_scale(self.step_count, int(est.max_steps), 0.5)
        terms = [self._member_terms(m) for m in range(len(self.updates))]
        # Members share no parameters, so one step on the summed costs is each member's own step.
        if est.adversarial_weight:
            optimizer_step(self.opt_d, torch.stack([t.pop("d_cost") for t in terms]).sum(), self.D)
            g_losses = [up.generator_loss(t.pop("g_input"), entries=t.pop("g_entries"), extra=t.pop("extra"))[0]
                        for up, t in zip(self.updates, terms)]  # fmt: skip
        else:
            g_losses = [t.pop("extra") for t in terms]
        g_loss = torch.stack(g_losses).sum()
        optimizer_step(self.opt_g, g_loss, self.G, inputs=list(self.G.parameters()))
        self.step_count += 1
        last = self.step_count >= int(est.max_steps)
        if self.valid is not None and (self.step_count % int(est.log_every) == 0 or last):
            self.best.observe(self.validation_score(), last)
        losses = {k: torch.stack([t[k] for t in terms]).mean() for k in terms[0]}
        return {**losses, "g_loss": g_loss.detach() / len(terms)}

    def _member_terms(self, m: int) -> dict[str, Tensor]:
        """Member ``m``'s batch: its logged losses, its discriminator cost, and what its generator
        cost needs once the discriminators have stepped."""
        est, up = self.est, self.updates[m]
        rows = self.resamples[m][torch.randint(len(self.x), (self.B,), device=self.device, generator=self.rng)]
        x, known = self.x[rows], self.m[rows]
        held = known & self._per_column(est.holdout)
        seen = known & ~held
        noise = torch.randn(x.shape, device=self.device, generator=self.rng)
        revealed = self._per_column(est.hint_rate)
        hint = torch.where(revealed, seen.float(), torch.full_like(x, 0.5))
        k = int(est.train_draws) if est.score_weight else 1
        if k > 1:  # k draws per row, each with its own noise; the game and the squared error see the first
            noise = torch.cat([noise, torch.randn((k - 1) * self.B, x.shape[1], device=self.device, generator=self.rng)])
        proposals = _propose(self.G[m], x.repeat(k, 1), seen.repeat(k, 1), noise, self.blocks).view(k, self.B, -1)
        proposal = proposals[0]
        completed = torch.where(seen, x, proposal)
        targets = held if est.holdout else seen
        reconstruction = ((proposal - x) ** 2 * targets).sum() / targets.sum().clamp_min(1)
        out = {"reconstruction": reconstruction.detach()}
        extra = est.reconstruction_weight * reconstruction
        if k > 1:
            score = _draw_score(proposals, x, targets, self.numeric, self.blocks)
            extra = extra + est.score_weight * score
            out["score"] = score.detach()
        out["extra"] = extra
        if est.adversarial_weight:
            d_cost, _ = up.entrywise_discriminator_loss(torch.cat([completed.detach(), hint], 1), seen, judged=~revealed)
            out.update(d_loss=d_cost.detach(), d_cost=d_cost, g_input=torch.cat([completed, hint], 1),
                       g_entries=~seen & ~revealed)  # fmt: skip
        return out

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
                "rng": capture_rng(self.rng), "stopping": self.best.state()}  # fmt: skip

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
            self.best.restore(s.get("stopping", {}))


def _widths(hidden: Sequence[int] | None, d: int) -> tuple[int, ...]:
    # Wider nets for wider tables measured better (digits, 64 columns: 512 units beat 128).
    return (max(128, 8 * d),) * 2 if hidden is None else tuple(int(h) for h in hidden)


def _players(hidden: Sequence[int] | None, d: int, seed: int, members: int) -> tuple[nn.ModuleList, nn.ModuleList]:
    """``members`` generators (seeded ``seed``, ``seed + 1``, ...) and discriminators."""
    return (nn.ModuleList(_generator(hidden, d, seed + m) for m in range(members)),
            nn.ModuleList(_discriminator(hidden, d) for _ in range(members)))  # fmt: skip


def _generator(hidden: Sequence[int] | None, d: int, seed: int) -> MLPGenerator:
    """Sees a row (noise where unseen) and its mask ``(B, 2D)``; proposes every entry ``(B, D)``."""
    return MLPGenerator(2 * d, d, _widths(hidden, d), norm="none", seed=seed)


def _discriminator(hidden: Sequence[int] | None, d: int) -> MLPDiscriminator:
    """Sees a completed row and the hint ``(B, 2D)``; one seen-or-imputed logit per entry ``(B, D)``."""
    return MLPDiscriminator(2 * d, _widths(hidden, d), out_dim=d)
