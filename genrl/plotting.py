"""PNG plots (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def _save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_mixture_samples(samples: np.ndarray, centers: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Scatter of 2-D samples with the true modes marked."""
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, label="generated")
    ax.scatter(centers[:, 0], centers[:, 1], s=60, marker="x", c="red", label="true modes")
    pad = 0.25 * (np.ptp(centers) or 1.0)
    ax.set_xlim(centers[:, 0].min() - pad, centers[:, 0].max() + pad)
    ax.set_ylim(centers[:, 1].min() - pad, centers[:, 1].max() + pad)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7)
    return _save(fig, path)


def plot_next_state_samples(model: np.ndarray, truth: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Next-state samples at one (s, a): the true kernel's drawn beneath, the model's on top (2-D)."""
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(truth[:, 0], truth[:, 1], s=10, c="0.75", label="true next states")
    ax.scatter(model[:, 0], model[:, 1], s=3, alpha=0.5, c="C0", label="model samples")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7)
    return _save(fig, path)


def plot_rollout(real: np.ndarray, model: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Observations ``(T, d)`` of a real episode and of the model's open-loop rollout of its actions."""
    d = real.shape[1]
    fig, axes = plt.subplots(1, d, figsize=(3.2 * d, 3), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.plot(real[:, i], c="0.3", label="real env")
        ax.plot(model[:, i], c="C0", ls="--", label="model")
        ax.set_title(f"obs[{i}]", fontsize=9)
        ax.set_xlabel("step")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_curves(
    rows: Sequence[dict[str, float]],
    keys: Sequence[str],
    path: str | Path,
    x: str = "step",
    title: str = "",
    refs: dict[str, float] | None = None,
) -> Path:
    """Line plot of ``keys`` against ``x`` from a list of logged rows (undefined values leave gaps),
    plus dashed horizontal references ``{label: y}``."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    xs = [r[x] for r in rows]
    for k in keys:
        ax.plot(xs, [np.nan if r.get(k) is None else r[k] for r in rows], label=k)
    for i, (label, y) in enumerate((refs or {}).items()):
        ax.axhline(y, ls="--", lw=1, color=f"C{len(keys) + i}", label=label)
    ax.set_xlabel(x)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_learning_curves(
    runs: dict[str, Sequence[Sequence[dict[str, float]]]],
    path: str | Path,
    x: str,
    y: str,
    title: str = "",
    refs: dict[str, float] | None = None,
) -> Path:
    """One line per method (mean over its runs, min-max band), plus dashed horizontal references.

    :param runs: ``{method: [run rows, ...]}``; each run is a list of logged rows with ``x`` and ``y``.
    """
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, method_runs in runs.items():
        n = min(len(r) for r in method_runs)  # runs of one method share their x grid up to its shortest
        xs = np.array([[row[x] for row in r[:n]] for r in method_runs]).mean(0)
        ys = np.array([[row[y] for row in r[:n]] for r in method_runs])
        (line,) = ax.plot(xs, ys.mean(0), label=f"{name} (n={len(method_runs)})")
        ax.fill_between(xs, ys.min(0), ys.max(0), alpha=0.2, color=line.get_color())
    for i, (name, value) in enumerate((refs or {}).items()):
        ax.axhline(value, ls="--", lw=1, color=f"C{len(runs) + i}", label=name)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def image_grid(images: np.ndarray, path: str | Path, nrow: int, title: str = "") -> Path:
    """Tile images ``(N, C, H, W)`` in [-1, 1] into ``nrow`` rows and save them."""
    n, c, h, w = images.shape
    ncol = int(np.ceil(n / nrow))
    grid = np.zeros((nrow * (h + 1), ncol * (w + 1), c), dtype=np.float32)  # 0 draws as white
    for i, img in enumerate(images):
        r, q = divmod(i, ncol)
        grid[r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = (img.transpose(1, 2, 0) + 1) / 2
    fig, ax = plt.subplots(figsize=(ncol * 0.45 + 0.5, nrow * 0.45 + 0.5))
    ax.imshow(grid.squeeze(-1) if c == 1 else grid, cmap="gray_r" if c == 1 else None, vmin=0, vmax=1)
    ax.axis("off")
    ax.set_title(title)
    return _save(fig, path)


def plot_confusion(matrix: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Confusion-matrix heat map (rows: true class, columns: predicted)."""
    fig, ax = plt.subplots(figsize=(5, 4.5))
    im = ax.imshow(matrix, cmap="Blues")
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > matrix.max() / 2 else "black")
    ticks = np.arange(len(matrix))
    ax.set_xticks(ticks)  # every class labelled, not matplotlib's every other one
    ax.set_yticks(ticks)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax)
    return _save(fig, path)


def bar_chart(
    groups: dict[str, dict[str, float]],
    path: str | Path,
    ylabel: str,
    title: str = "",
    ylim: tuple[float, float] | None = None,
) -> Path:
    """Grouped bars: ``{group: {series: value}}``, each bar labelled with its value."""
    names = list(groups)
    series = list(dict.fromkeys(k for g in groups.values() for k in g))
    width = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(max(5, 1.5 * len(names)) + 1.5, 3.5))
    for i, s in enumerate(series):
        bars = ax.bar([j + i * width for j in range(len(names))], [groups[n].get(s, 0.0) for n in names], width, label=s)
        ax.bar_label(bars, fmt="%.3g", fontsize=6)
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(names))], names)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ylim:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)
