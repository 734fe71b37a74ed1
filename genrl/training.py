"""The one run loop every genrl trainer uses, and the RNG capture it checkpoints.

A trainer supplies a :class:`Trainable`: a ``train_step`` that advances ``step_count`` and
returns its losses as detached scalar tensors on the device, and a ``state`` to checkpoint.
:func:`run` owns everything else, identically for the GAN, the semi-supervised classifier, the
world models and GAIL:

* **progress and logging**: one progress bar (stderr), TensorBoard scalars when asked, and one
  history row (:data:`Row`) per log interval: the step, the interval's mean of each loss, the
  training seconds so far (callbacks excluded; they continue across resumes), steps per second,
  and whatever the trainable's optional ``summary()`` adds;
* **divergence**: losses are checked for NaN/inf on the device and synced with the host only at log
  and checkpoint points; a non-finite loss raises :class:`~genrl.errors.DivergenceError` naming its
  step and the last good checkpoint, which is never overwritten by a non-finite state;
* **checkpoints** every ``checkpoint_every`` steps and at the end, atomically (:mod:`genrl.io`);
* **callbacks**: ``callback(owner, row)`` after each logged row (before that step's checkpoint, so
  what it adds to the row is saved); returning ``False`` stops training after a final checkpoint, as
  an SB3 callback's ``_on_step`` does (under torchrun, a stop on any process stops them all);
* **time budgets**: ``max_seconds`` stops at the first log point past it;
* **early ends**: a trainable whose optional ``finished`` attribute turns true (an early-stopped
  fit) ends there, logged and checkpointed as at its total;
* **several processes** (``torchrun``): logged losses are means over processes, the clock is the
  slowest process's, only rank 0 shows progress and writes; gradient averaging is part of each
  optimiser step (:func:`genrl.gan.update.optimizer_step`).

**Resume**, the same everywhere: ``X.load(path)`` then ``fit``/``learn`` with a total continues
the saved run until ``step_count`` reaches that total.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import torch
from torch import Tensor

from genrl import distributed
from genrl.errors import DivergenceError
from genrl.io import save_checkpoint
from genrl.progress import ProgressLogger

Row = dict[str, float]
"""One history row: ``step``, the interval's mean losses, ``seconds``, ``steps_per_s`` and extras."""

Callback = Callable[[Any, Row], "bool | None"]
"""``callback(trainer, row)``, called after each logged row; return ``False`` to stop training."""


class Trainable(Protocol):
    """What :func:`run` drives."""

    @property
    def step_count(self) -> int: ...

    @property
    def history(self) -> list[Row]: ...

    def train_step(self) -> dict[str, Tensor]:
        """Advance ``step_count`` by one step (or, for GAIL, by the env steps of one round)."""
        ...

    def state(self) -> dict[str, Any]:
        """Everything needed to resume, for :func:`genrl.io.save_checkpoint`."""
        ...


def run(
    task: Trainable,
    total: int,
    *,
    log_every: int = 50,
    progress: bool = True,
    desc: str = "",
    tensorboard_dir: str | Path | None = None,
    checkpoint_path: str | Path | None = None,
    checkpoint_every: int = 0,
    callback: Callback | None = None,
    owner: Any = None,
    max_seconds: float | None = None,
    what: str = "training",
) -> None:
    """Call ``task.train_step()`` until ``task.step_count >= total`` (or a stop), logging, checking and
    checkpointing as the module docstring says.

    :param log_every: log a row each time ``step_count`` passes a multiple of it (and at the end).
    :param checkpoint_every: checkpoint each time ``step_count`` passes a multiple of it (0: only at the end).
    :param owner: the object handed to ``callback`` (default: ``task``).
    :param what: names the run in error messages (e.g. ``"GAN"``).
    """
    main = distributed.is_main_process()
    logger = ProgressLogger(total=total, initial=min(task.step_count, total), enabled=progress and main, desc=desc,
                            tensorboard_dir=tensorboard_dir if main else None)  # fmt: skip
    seconds = task.history[-1].get("seconds", 0.0) if task.history else 0.0
    # A checkpoint already at the path (e.g. the one this run resumed from) is the last good one so far.
    last_ckpt = checkpoint_path if checkpoint_path and Path(checkpoint_path).exists() else None
    logged = saved = shown = task.step_count
    stop = max_seconds is not None and seconds >= max_seconds  # a resumed run that had spent its budget
    running: Tensor | None = None
    keys: list[str] = []
    first_bad: Tensor | None = None
    since, t0 = 0, time.perf_counter()
    try:
        while task.step_count < total and not stop and not finished(task):
            out = task.train_step()
            values = torch.stack(list(out.values())).float()
            if running is None:
                keys, running = list(out), torch.zeros_like(values)
                first_bad = torch.full((), -1, device=values.device, dtype=torch.long)
            assert first_bad is not None
            running += values
            bad = ~torch.isfinite(values).all() & (first_bad < 0)
            first_bad = torch.where(bad, task.step_count, first_bad)
            since += 1
            step = task.step_count
            at_end = step >= total or finished(task)
            log = at_end or _passed(logged, step, log_every)
            pause = time.perf_counter()  # what follows (logging, callback, checkpoint) is not training time
            if log:
                _check_finite(first_bad, last_ckpt, what)
                means = distributed.all_reduce(running / since, "mean").tolist()
                elapsed = torch.tensor(pause - t0, dtype=torch.float64)
                interval = float(distributed.all_reduce(elapsed.to(running.device), "max"))
                seconds += interval
                row: Row = {
                    "step": step,
                    **dict(zip(keys, means)),
                    "seconds": seconds,
                    "steps_per_s": (step - logged) / interval,
                }
                summary = getattr(task, "summary", None)
                if summary is not None:
                    row.update(summary())
                task.history.append(row)
                logger.log(row, advance=min(step, total) - shown)
                shown, logged, since = min(step, total), step, 0
                running.zero_()
                stop = max_seconds is not None and seconds > max_seconds
                if callback is not None and callback(task if owner is None else owner, row) is False:
                    stop = True
                # Every process stops together, or their collectives would no longer pair up.
                stop = bool(distributed.all_reduce(torch.tensor(float(stop), device=running.device), "max"))
            if checkpoint_path and (at_end or stop or (checkpoint_every and _passed(saved, step, checkpoint_every))):
                last_ckpt, saved = _save(task, checkpoint_path, first_bad, last_ckpt, what), step
            t0 = time.perf_counter() if log else t0 + (time.perf_counter() - pause)
    finally:
        logger.close()


def _save(task: Trainable, path: str | Path, first_bad: Tensor, last_ckpt: str | Path | None, what: str) -> str | Path:
    """Checkpoint (rank 0 writes), unless the run diverged: never overwrite the last good checkpoint with a
    diverged state. Every process checks (their weights are the same), so all stop together. Returns the new
    last good checkpoint."""
    _check_finite(first_bad, last_ckpt, what)
    state = task.state()
    _check_finite_state(state, task.step_count, last_ckpt, what)
    if distributed.is_main_process():
        save_checkpoint(path, state)
    return path


def finished(task: Trainable) -> bool:
    """Whether a trainable with a ``finished`` flag (e.g. an early-stopped fit) has ended before its total."""
    return bool(getattr(task, "finished", False))


def _passed(previous: int, step: int, every: int) -> bool:
    """Whether going from ``previous`` to ``step`` crossed a multiple of ``every``."""
    return every > 0 and step // every > previous // every


def _check_finite(first_bad: Tensor, last_ckpt: str | Path | None, what: str) -> None:
    """Raise :class:`DivergenceError` if any process saw a non-finite loss (``first_bad``: its step, or -1)."""
    never = torch.iinfo(torch.long).max
    step = int(distributed.all_reduce(torch.where(first_bad < 0, never, first_bad), "min"))
    if step != never:
        raise DivergenceError(f"{what} diverged: non-finite loss at step {step}{_last_good(last_ckpt)}")


def _check_finite_state(state: Any, step: int, last_ckpt: str | Path | None, what: str) -> None:
    """Refuse to checkpoint a state with a non-finite float tensor (weights can break after a finite loss)."""
    stack = [state]
    while stack:
        obj = stack.pop()
        if isinstance(obj, Tensor):
            if obj.is_floating_point() and not bool(torch.isfinite(obj).all()):
                raise DivergenceError(f"{what} diverged by step {step} (non-finite weights){_last_good(last_ckpt)}")
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)


def _last_good(path: str | Path | None) -> str:
    return f"; the last good checkpoint is {str(path)!r}" if path else "; no checkpoint was written"


# ---------------------------------------------------------------------- random streams
def capture_rng(generator: torch.Generator | None = None, np_generator: np.random.Generator | None = None) -> dict[str, Any]:
    """Every random stream a trainer draws from, for a checkpoint: torch's and NumPy's global
    generators (dropout, noise layers, SB3), CUDA's when in use, and the trainer's own ones."""
    # numpy's stubs pick the dict overload, but the default (legacy=True) returns this tuple
    name, keys, pos, has_gauss, cached = cast("tuple[str, np.ndarray, int, int, float]", np.random.get_state())
    numpy = {
        "name": name,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": pos,
        "has_gauss": has_gauss,
        "cached": cached,
    }
    cuda = torch.cuda.get_rng_state() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "numpy": numpy, "cuda": cuda}
    if generator is not None:
        state["generator"], state["generator_device"] = generator.get_state(), generator.device.type
    if np_generator is not None:
        state["np_generator"] = json.dumps(np_generator.bit_generator.state)
    return state


def restore_rng(
    state: dict[str, Any],
    generator: torch.Generator | None = None,
    np_generator: np.random.Generator | None = None,
    fallback_seed: int = 0,
) -> None:
    """Put back what :func:`capture_rng` saved. A generator state does not move across device types
    (a CPU checkpoint resumed on a GPU): that generator is reseeded with ``fallback_seed`` instead."""
    torch.set_rng_state(state["torch"])
    s = state["numpy"]
    np.random.set_state((s["name"], s["keys"].numpy().astype(np.uint32), s["pos"], s["has_gauss"], s["cached"]))
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])
    if generator is not None:
        if state.get("generator_device") == generator.device.type:
            generator.set_state(state["generator"])
        else:
            generator.manual_seed(fallback_seed)
    if np_generator is not None:
        np_generator.bit_generator.state = json.loads(state["np_generator"])


def resume_streams(state: dict[str, Any], seed: int, generator: torch.Generator) -> None:
    """Restore the streams a checkpoint saved (:func:`restore_rng`, falling back to ``seed``), then give
    each non-zero rank its own streams derived from ``seed``: the checkpoint holds rank 0's."""
    restore_rng(state, generator, fallback_seed=seed)
    split_streams(seed, generator)


def split_streams(seed: int, generator: torch.Generator | None = None) -> None:
    """Under torchrun, give a non-zero rank its own data, noise and dropout streams derived from
    ``seed`` (rank 0 keeps the streams it has); a no-op in one process."""
    if distributed.rank():
        if generator is not None:
            generator.manual_seed(distributed.rank_seed(seed))
        torch.manual_seed(distributed.rank_seed(seed))
