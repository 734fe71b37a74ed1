"""Progress bar with the latest metrics, plus optional TensorBoard scalars."""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm


class ProgressLogger:
    """A tqdm bar over ``total`` steps; ``log`` shows metrics and writes them to TensorBoard.

    :param enabled: ``False`` silences the bar (TensorBoard logging still happens when asked).
    :param tensorboard_dir: folder for TensorBoard event files, or ``None``.
    """

    def __init__(
        self, total: int, initial: int = 0, enabled: bool = True, tensorboard_dir: str | Path | None = None, desc: str = ""
    ) -> None:
        self.bar = tqdm(total=total, initial=initial, disable=not enabled, desc=desc, dynamic_ncols=True)
        self.writer = None
        if tensorboard_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(tensorboard_dir))

    def log(self, row: dict[str, float], advance: int = 0, step_key: str = "step") -> None:
        step = int(row[step_key])
        # The bar shows the rate and time itself; the row's own clock columns would only repeat them.
        shown = {k: f"{v:.3g}" for k, v in row.items() if k not in (step_key, "seconds", "steps_per_s")}
        self.bar.set_postfix(shown, refresh=False)
        self.advance(advance)
        if self.writer is not None:
            for k, v in row.items():
                if k != step_key:
                    self.writer.add_scalar(k, v, step)

    def advance(self, n: int) -> None:
        """Move the bar on by ``n`` steps."""
        if self.bar.total is not None and self.bar.n + n >= self.bar.total:
            self.bar.n += n  # the last advance: close() draws the final line once, not twice
        else:
            self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.close()
