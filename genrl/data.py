"""Datasets (the PacGAN 2-D Gaussian mixtures, sklearn's 8x8 digits embedded, MNIST from a directory)
and the order rows are drawn in (:class:`EpochBatches`)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genrl.errors import InputError


@dataclass(frozen=True)
class Mixture:
    """An equal-weight isotropic Gaussian mixture.

    :param centers: ``(K, d)`` mode means.
    :param sigma: the common standard deviation.
    """

    name: str
    centers: np.ndarray
    sigma: float

    def sample(self, n: int, seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` samples ``(n, d)`` float32 and their mode indices ``(n,)``."""
        rng = np.random.default_rng(seed)
        modes = rng.integers(len(self.centers), size=n)
        x = self.centers[modes] + self.sigma * rng.standard_normal((n, self.centers.shape[1]))
        return x.astype(np.float32), modes


def ring8() -> Mixture:
    """8 Gaussians with means on the unit circle, σ = 0.01 (PacGAN)."""
    angles = 2 * np.pi * np.arange(8) / 8
    return Mixture("ring8", np.stack([np.cos(angles), np.sin(angles)], 1), 0.01)


def grid25() -> Mixture:
    """25 Gaussians with means at {-4, -2, 0, 2, 4}², σ = 0.05 (PacGAN)."""
    g = np.arange(-4, 5, 2, dtype=np.float64)
    return Mixture("grid25", np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2), 0.05)


MIXTURES = {"ring8": ring8, "grid25": grid25}
GAN_DATA = (*MIXTURES, "digits")
"""What ``genrl gan`` trains on: the 2-D mixtures and the embedded digits."""


def get_mixture(name: str) -> Mixture:
    if name not in MIXTURES:
        raise InputError(f"unknown mixture {name!r}; choose one of {sorted(MIXTURES)}")
    return MIXTURES[name]()


def digits_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sklearn digits as flat features ``(N, 64)`` in [0, 16], split 70/30 stratified (fixed by ``seed``).

    :return: ``X_train, X_test, y_train, y_test``.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X.astype(np.float32), y.astype(np.int64), test_size=0.3, random_state=seed, stratify=y)


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """sklearn's digits as images ``(1797, 1, 8, 8)`` scaled to [-1, 1], and labels ``(1797,)``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 8.0 - 1.0)[:, None]
    return x, d.target.astype(np.int64)


_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise InputError(f"cannot read MNIST file {str(path)!r}: {e}") from None
    if len(data) < 4 + 4 * ndim or data[:3] != b"\x00\x00\x08" or data[3] != ndim:
        raise InputError(f"{str(path)!r} is not an idx file of {ndim}-d unsigned bytes (bad header)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise InputError(f"{str(path)!r} is truncated or corrupt: header says {shape}, found {body.size} bytes")
    return body.reshape(shape)


def load_mnist(directory: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the four standard MNIST idx files (plain or ``.gz``) from ``directory``.

    :return: ``X_train (60000, 1, 28, 28)`` float32 in [0, 1], ``y_train (60000,)`` int64,
        ``X_test (10000, 1, 28, 28)``, ``y_test (10000,)``.
    """
    directory = Path(directory)
    out = {}
    for key, stem in _MNIST_FILES.items():
        candidates = [directory / stem, directory / (stem + ".gz")]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise InputError(f"MNIST file {stem}[.gz] not found in {str(directory)!r}")
        out[key] = _read_idx(path, 3 if key.endswith("images") else 1)
    for split in ("train", "test"):
        if len(out[f"{split}_images"]) != len(out[f"{split}_labels"]):
            raise InputError(f"MNIST {split} images and labels differ in length")
    images = {k: (out[f"{k}_images"].astype(np.float32) / 255.0)[:, None] for k in ("train", "test")}
    labels = {k: out[f"{k}_labels"].astype(np.int64) for k in ("train", "test")}
    return images["train"], labels["train"], images["test"], labels["test"]


def labeled_subset(y: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Keep ``per_class`` labels of each class (drawn with ``seed``), mark the rest -1 (unlabeled)."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    out = np.full_like(y, -1)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if len(idx) < per_class:
            raise InputError(f"class {c} has only {len(idx)} rows; cannot draw {per_class} labels")
        keep = rng.choice(idx, per_class, replace=False)
        out[keep] = c
    return out


class EpochBatches:
    """Batches of row indices in shuffled epochs: each of ``n`` rows once per pass, a batch running on
    into the next pass where one ends (with ``n <= batch_size`` every row is in every batch).

    Batch ``t`` depends on ``(seed, stream, t)`` alone, so a resumed run draws exactly the batches an
    uninterrupted one would, with no sampler state in the checkpoint. Lower-variance than drawing
    with replacement, which leaves about a third of a small labeled set out of each batch.

    :param n: rows to draw from.
    :param batch_size: rows per batch.
    :param seed: the run's seed; ``stream`` separates samplers of one run (and ranks under torchrun).
    """

    def __init__(self, n: int, batch_size: int, seed: int, stream: int = 0, device: torch.device | str = "cpu") -> None:
        if n < 1:
            raise InputError(f"EpochBatches needs at least one row, got n={n}")
        self.n, self.batch_size, self.seed, self.stream = n, batch_size, seed, stream
        self.device = torch.device(device)
        self._cache: dict[int, torch.Tensor] = {}

    def _epoch(self, e: int) -> torch.Tensor:
        if e not in self._cache:
            state = np.random.SeedSequence([self.seed % 2**63, self.stream, e]).generate_state(1, np.uint64)[0]
            g = torch.Generator(device=self.device).manual_seed(int(state >> np.uint64(1)))
            self._cache = {e: torch.randperm(self.n, generator=g, device=self.device)}  # keep one pass
        return self._cache[e]

    def __call__(self, t: int) -> torch.Tensor:
        """Row indices ``(batch_size,)`` of batch ``t``."""
        start, parts = t * self.batch_size, []
        end = start + self.batch_size
        while start < end:
            e, offset = divmod(start, self.n)
            take = min(self.n - offset, end - start)
            parts.append(self._epoch(e)[offset : offset + take])
            start += take
        return parts[0] if len(parts) == 1 else torch.cat(parts)
