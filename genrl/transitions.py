"""Transitions: the (obs, act, next_obs, rew, terminated, truncated) batches every part of genrl
exchanges (world-model data, GAIL demonstrations), and their file format.

Collecting them from an env is :func:`genrl.rollout.collect` (random or policy steps in vectorised
copies) or :func:`genrl.rollout.rollout` (whole episodes).

File format (``.npz``, read with ``allow_pickle=False``):

=============== ============== =========================================================
key             shape / dtype  meaning
=============== ============== =========================================================
``obs``         (N, d_obs) f32 observation before the step
``act``         (N, d_act) f32 action taken (discrete actions stored as one column)
``next_obs``    (N, d_obs) f32 observation after the step (the true final observation at
                               episode ends, not the reset one)
``rew``         (N,) f32       reward
``terminated``  (N,) bool      the episode ended by termination (no bootstrapping)
``truncated``   (N,) bool      the episode was cut by a time limit
``meta``        () str         JSON: ``{"format": "genrl-transitions-1", "env_id": ...}``
=============== ============== =========================================================
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from genrl.errors import InputError
from genrl.validation import as_array

FORMAT = "genrl-transitions-1"
FIELDS = ("obs", "act", "next_obs", "rew", "terminated", "truncated")  # the arrays of a Transitions, in order


@dataclass
class Transitions:
    """A batch of N transitions (see the module docstring for shapes)."""

    obs: np.ndarray
    act: np.ndarray
    next_obs: np.ndarray
    rew: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.obs = as_array(self.obs, "transitions: obs", np.float32, (-1,))
        row_shapes = {"act": (-1,), "next_obs": (-1,), "rew": (), "terminated": (), "truncated": ()}
        for name, row_shape in row_shapes.items():
            dtype = bool if name in ("terminated", "truncated") else np.float32
            setattr(self, name, as_array(getattr(self, name), f"transitions: {name}", dtype, row_shape, len(self.obs)))
        if self.next_obs.shape != self.obs.shape:
            raise InputError(f"transitions: next_obs shape {self.next_obs.shape} differs from obs shape {self.obs.shape}")
        for name in ("obs", "act", "next_obs", "rew"):
            if not np.isfinite(getattr(self, name)).all():
                raise InputError(f"transitions: {name} contains NaN or inf")

    def __len__(self) -> int:
        return len(self.obs)

    def split(self, fraction: float, seed: int = 0) -> tuple[Transitions, Transitions]:
        """Random (1 - fraction, fraction) split, e.g. train / held-out."""
        idx = np.random.default_rng(seed).permutation(len(self))
        cut = round(len(self) * (1 - fraction))
        return self[idx[:cut]], self[idx[cut:]]

    def __getitem__(self, idx: Any) -> Transitions:
        return Transitions(self.obs[idx], self.act[idx], self.next_obs[idx], self.rew[idx], self.terminated[idx],
                           self.truncated[idx], dict(self.meta))  # fmt: skip

    def concat(self, other: Transitions) -> Transitions:
        """These transitions followed by ``other``'s (same shapes); keeps this one's meta."""
        arrays = (np.concatenate([getattr(self, k), getattr(other, k)]) for k in FIELDS)  # one per field, in order
        six = cast("tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]", arrays)
        return Transitions(*six, dict(self.meta))

    @classmethod
    def from_steps(cls, rows: dict[str, list], meta: dict[str, Any] | None = None) -> Transitions:
        """Stack per-step lists ``{field: [value per step]}`` (keys: :data:`FIELDS`) into transitions."""
        return cls(**{k: np.array(rows[k]) for k in FIELDS}, meta=meta or {})

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"format": FORMAT, **self.meta})
        with open(path, "wb") as f:  # a file object keeps numpy from appending ".npz" to the name
            np.savez_compressed(f, obs=self.obs, act=self.act, next_obs=self.next_obs, rew=self.rew,
                                terminated=self.terminated, truncated=self.truncated, meta=np.array(meta))  # fmt: skip
        return path

    @classmethod
    def load(cls, path: str | Path) -> Transitions:
        if not Path(path).is_file():
            raise InputError(f"no transitions file at {str(path)!r}")
        try:
            z = np.load(path, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("a single array")
            with z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            # numpy's own message for a foreign file suggests allow_pickle, which would run its code
            reason = "truncated or corrupt" if isinstance(e, (zipfile.BadZipFile, EOFError)) else "not an .npz archive"
            raise InputError(f"{str(path)!r} is not a genrl transitions file ({reason})") from None
        missing = {"obs", "act", "next_obs", "rew", "terminated", "truncated", "meta"} - data.keys()
        if missing:
            raise InputError(f"{str(path)!r} is not a transitions file: missing {sorted(missing)}")
        meta = json.loads(str(data.pop("meta")))
        if meta.pop("format", None) != FORMAT:
            raise InputError(f"{str(path)!r} has an unknown transitions format")
        return cls(**data, meta=meta)


class TransitionBuffer:
    """Transitions appended one step at a time into arrays that double when full: a growing record
    without a Python list per field (Dyna/MBPO keeps every real step in one).

    :param obs_dim: d_obs; :param act_dim: d_act.
    """

    def __init__(self, obs_dim: int, act_dim: int, capacity: int = 1024) -> None:
        shapes = {"obs": (obs_dim,), "act": (act_dim,), "next_obs": (obs_dim,), "rew": (), "terminated": (), "truncated": ()}
        self._arrays = {k: np.zeros((capacity, *s), dtype=bool if k in ("terminated", "truncated") else np.float32)
                        for k, s in shapes.items()}  # fmt: skip
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def _reserve(self, n: int) -> None:
        capacity = len(self._arrays["obs"])
        while capacity < self.size + n:
            capacity *= 2
        if capacity > len(self._arrays["obs"]):
            self._arrays = {k: np.concatenate([a, np.zeros((capacity - len(a), *a.shape[1:]), a.dtype)])
                            for k, a in self._arrays.items()}  # fmt: skip

    def add(self, obs: Any, act: Any, next_obs: Any, rew: float, terminated: bool, truncated: bool) -> None:
        """Append one step."""
        self._reserve(1)
        for k, v in zip(FIELDS, (obs, act, next_obs, rew, terminated, truncated)):
            self._arrays[k][self.size] = v
        self.size += 1

    def extend(self, data: Transitions) -> None:
        """Append every row of ``data``."""
        self._reserve(len(data))
        for k in FIELDS:
            self._arrays[k][self.size : self.size + len(data)] = getattr(data, k)
        self.size += len(data)

    def field(self, name: str) -> np.ndarray:
        """The stored rows of one of :data:`FIELDS`, ``(N, ...)`` (a view, not a copy)."""
        return self._arrays[name][: self.size]

    def transitions(self, start: int = 0) -> Transitions:
        """Rows ``start:`` as :class:`Transitions` (copies)."""
        return Transitions(**{k: self.field(k)[start:].copy() for k in FIELDS})
