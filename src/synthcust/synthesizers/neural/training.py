"""One training loop for every neural synthesizer: batches, progress, time budget, early stop.

The model supplies three callables; the loop owns everything else:

* ``step(index) -> float``: one optimisation step on the training rows ``index`` (a ``torch``
  int64 tensor), returning the batch loss;
* ``validate() -> float`` (optional): a validation figure, lower is better (e.g. the negative
  log-likelihood of held-out rows). The best weights seen are kept and restored at the end;
  training stops after ``patience`` epochs without an improvement of at least ``min_delta``;
* ``get_state() / set_state(state)``: a copy of the weights (for keeping the best).

``max_training_time`` (seconds) is checked after every batch, so a budget stops training
mid-epoch; the model then has the best weights validated so far (or the last ones when there
is no validation). A Rich progress bar shows epochs, loss and the validation figure when
``progress`` is true (default: only when stderr is a terminal).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from synthcust.exceptions import ModelError
from synthcust.synthesizers.neural.torchutil import require_torch


@dataclass
class TrainLog:
    """What happened during training (kept on the fitted model as ``training_log_``)."""

    epochs_run: int = 0
    best_epoch: int | None = None
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    stopped: str = "epochs"  # "epochs" | "early_stopping" | "time_budget"
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "train_loss": [round(v, 6) for v in self.train_loss],
            "val_loss": [round(v, 6) for v in self.val_loss],
            "stopped": self.stopped,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainLog:
        return cls(**d)


def check_training_args(
    epochs: int, batch_size: int, max_training_time: float | None, patience: int | None
) -> None:
    """Clear errors for arguments no training can run with."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ModelError(f"epochs must be a whole number >= 1, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
        raise ModelError(f"batch_size must be a whole number >= 2, got {batch_size!r}")
    if max_training_time is not None and not (
        isinstance(max_training_time, int | float) and max_training_time > 0
    ):
        raise ModelError(
            f"max_training_time must be a positive number of seconds (or None for no limit), "
            f"got {max_training_time!r}; a budget of 0 would train nothing"
        )
    if patience is not None and (not isinstance(patience, int) or patience < 1):
        raise ModelError(f"patience must be a whole number >= 1 or None, got {patience!r}")


def train_loop(
    *,
    n_rows: int,
    step: Callable[[Any], float],
    epochs: int,
    batch_size: int,
    generator: Any,
    validate: Callable[[], float] | None = None,
    get_state: Callable[[], Any] | None = None,
    set_state: Callable[[Any], None] | None = None,
    patience: int | None = 10,
    min_delta: float = 1e-4,
    max_training_time: float | None = None,
    progress: bool | None = None,
    description: str = "training",
    drop_last: bool = False,
) -> TrainLog:
    """Run ``step`` over shuffled batches for up to ``epochs`` epochs; see the module doc."""
    torch = require_torch()
    check_training_args(epochs, batch_size, max_training_time, patience)
    if n_rows < 1:
        raise ModelError("no training rows")
    log = TrainLog()
    t0 = time.perf_counter()
    deadline = None if max_training_time is None else t0 + float(max_training_time)
    best, best_state, stale = math.inf, None, 0
    show = sys.stderr.isatty() if progress is None else progress
    bar = ProgressBar(show, epochs, description)
    try:
        for epoch in range(epochs):
            perm = torch.randperm(n_rows, generator=generator)
            total, batches = 0.0, 0
            stop_now = False
            last = n_rows - batch_size + 1 if drop_last and n_rows >= batch_size else n_rows
            for start in range(0, max(last, 1), batch_size):
                idx = perm[start : start + batch_size]
                total += float(step(idx))
                batches += 1
                if deadline is not None and time.perf_counter() > deadline:
                    stop_now = True
                    break
            log.epochs_run = epoch + 1
            log.train_loss.append(total / max(batches, 1))
            note = f"loss {log.train_loss[-1]:.4f}"
            if validate is not None:
                v = float(validate())
                log.val_loss.append(v)
                note += f"  val {v:.4f}"
                if v < best - min_delta:
                    best, stale, log.best_epoch = v, 0, epoch + 1
                    if get_state is not None:
                        best_state = get_state()
                else:
                    stale += 1
            bar.advance(note)
            if stop_now:
                log.stopped = "time_budget"
                break
            if validate is not None and patience is not None and stale >= patience:
                log.stopped = "early_stopping"
                break
    finally:
        bar.close()
    if best_state is not None and set_state is not None:
        set_state(best_state)
    log.seconds = time.perf_counter() - t0
    return log


class ProgressBar:
    """A Rich progress bar of ``total`` epochs, or nothing when ``show`` is false (tests,
    pipes, CI) or another live display is already active.

    ``advance(note)`` moves it one step with a note (the losses); ``close()`` stops it.
    """

    def __init__(self, show: bool, total: int, description: str):
        self.p = None
        if show:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.p = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                transient=False,
            )
            try:
                self.p.start()
            except Exception:  # another live display (e.g. the CLI's own progress) is active
                self.p = None
                return
            self.t = self.p.add_task(description, total=total, note="")

    def advance(self, note: str) -> None:
        if self.p is not None:
            self.p.update(self.t, advance=1, note=note)

    def close(self) -> None:
        if self.p is not None:
            self.p.stop()
