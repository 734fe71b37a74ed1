"""Learning-rate schedules: functions of the step alone, so a resumed run needs no scheduler state."""

from __future__ import annotations

import torch


def linear_lr_scale(done: int, total: int, decay_fraction: float = 1.0) -> float:
    """The lr multiplier after ``done`` of ``total`` steps: 1, then linear to 0 over the last
    ``decay_fraction`` of the run."""
    return min(1.0, (total - done) / (total * decay_fraction))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate (a schedule's value at this step)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def linear_int_schedule(step: int, first: int, last: int, low: int, high: int) -> int:
    """An integer that grows linearly from ``low`` at step ``first`` to ``high`` at step ``last``, held
    before and after (MBPO's rollout-length schedule)."""
    if step <= first:
        return low
    if step >= last:
        return high
    return int(low + (high - low) * (step - first) / (last - first))
