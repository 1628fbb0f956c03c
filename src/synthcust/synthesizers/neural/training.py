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
is no validation). A budget that stops training while the validation loss is still falling
(or with no validation to tell) warns with
:class:`~synthcust.exceptions.TrainingBudgetWarning`, and the log keeps the reason
(:meth:`TrainLog.budget_warning`).

Progress (:class:`Ticker`, also for long sampling loops): a Rich bar when stderr is a terminal;
plain status lines on stderr every :data:`STATUS_INTERVAL` seconds when it is not (logs, CI,
notebooks), once the work has run that long; or messages to the ``progress(message)`` callable
a workflow installs with :func:`progress_to` (the command line and the service show them).
"""

from __future__ import annotations

import math
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from synthcust.exceptions import ModelError, TrainingBudgetWarning
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
    epochs_planned: int | None = None  # the ``epochs`` asked for (None: a log from before)
    budget_s: float | None = None  # the ``max_training_time`` it ran under

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "train_loss": [round(v, 6) for v in self.train_loss],
            "val_loss": [round(v, 6) for v in self.val_loss],
            "stopped": self.stopped,
            "seconds": round(self.seconds, 3),
        }
        if self.epochs_planned is not None:
            d["epochs_planned"] = self.epochs_planned
        if self.budget_s is not None:
            d["budget_s"] = self.budget_s
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainLog:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})

    @property
    def still_improving(self) -> bool:
        """Whether the validation loss was still falling when training ended (no validation:
        ``True``, nothing tells it had converged): its best is one of the last two epochs."""
        if not self.val_loss:
            return True
        return (
            int(min(range(len(self.val_loss)), key=self.val_loss.__getitem__))
            >= len(self.val_loss) - 2
        )

    def budget_warning(self, what: str = "training") -> str | None:
        """The warning for a fit stopped by its time budget before convergence, else ``None``.

        >>> TrainLog(epochs_run=7, val_loss=[0.9, 0.7], stopped="time_budget",
        ...          epochs_planned=300, budget_s=60.0).budget_warning("autoregressive")[:62]
        'autoregressive: stopped by max_training_time=60 s at epoch 7 o'
        """
        if self.stopped != "time_budget" or not self.still_improving:
            return None
        of = f" of {self.epochs_planned}" if self.epochs_planned else ""
        budget = f"={self.budget_s:g} s" if self.budget_s is not None else ""
        why = (
            "validation loss still falling"
            if self.val_loss
            else "no validation split to tell whether it had converged"
        )
        return (
            f"{what}: stopped by max_training_time{budget} at epoch {self.epochs_run}{of} "
            f"({why}); the model may be under-trained: raise max_training_time or lower epochs"
        )


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
    log.epochs_planned = epochs
    log.budget_s = None if max_training_time is None else float(max_training_time)
    bar = Ticker(epochs, description, progress, unit="epoch")
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
                note += f", val {v:.4f}"
                if v < best - min_delta:
                    best, stale, log.best_epoch = v, 0, epoch + 1
                    if get_state is not None:
                        best_state = get_state()
                else:
                    stale += 1
            bar.update(epoch + 1, note)
            if stop_now:
                log.stopped = "time_budget"
                break
            if validate is not None and patience is not None and stale >= patience:
                log.stopped = "early_stopping"
                break
    finally:
        bar.close(_ending(log))
    if best_state is not None and set_state is not None:
        set_state(best_state)
    log.seconds = time.perf_counter() - t0
    message = log.budget_warning(description)
    if message:
        warnings.warn(message, TrainingBudgetWarning, stacklevel=2)
    return log


def _ending(log: TrainLog) -> str:
    if log.stopped == "time_budget":
        return f"stopped by the time budget at epoch {log.epochs_run}"
    if log.stopped == "early_stopping":
        return f"converged at epoch {log.epochs_run} (best {log.best_epoch})"
    return f"done, {log.epochs_run} epochs"


#: Seconds between plain status lines (stderr not a terminal); work shorter than this is quiet.
STATUS_INTERVAL = 10.0
#: Seconds between messages to a terminal-backed ``progress(message)`` callable.
LIVE_INTERVAL = 0.25

_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("synthcust_progress", default=None)


@contextmanager
def progress_to(callback: Callable[[str], None] | None) -> Iterator[None]:
    """Send the progress of long loops run inside the block to ``callback(message)``.

    Workflows install their ``progress`` callable with it, so training epochs and long sampling
    reach the command line's bar or status lines and the service's job status. ``None`` leaves
    the current destination in place.

    >>> seen = []
    >>> with progress_to(seen.append):
    ...     t = Ticker(2, "demo", interval=0.0)
    ...     t.update(1, "loss 0.5")
    >>> seen[0].startswith("demo: epoch 1/2, loss 0.5")
    True
    """
    if callback is None:
        yield
        return
    token = _SINK.set(callback)
    try:
        yield
    finally:
        _SINK.reset(token)


def current_progress() -> Callable[[str], None] | None:
    """The ``progress(message)`` callable installed by :func:`progress_to`, if any."""
    return _SINK.get()


#: Tickers running now (a heartbeat keeps quiet while one reports finer progress).
_ACTIVE = [0]


@contextmanager
def heartbeat(
    description: str, *, interval: float | None = None, stream: Any = None
) -> Iterator[None]:
    """While the block runs, say every ``interval`` seconds that it still runs and for how long.

    For long steps without a loop of their own to count (sampling a model, discovering rules,
    fitting a copula on many rows): ``"sampling 50,000 rows (autoregressive), 20 s so far"``
    goes to the callable installed by :func:`progress_to`, or as a plain line to stderr. The
    first message comes only after ``interval`` (default: 1 s to a callable on a terminal,
    else :data:`STATUS_INTERVAL`), so short steps are quiet; nothing is said while a
    :class:`Ticker` reports finer progress.
    """
    sink = current_progress()
    tty = _isatty(stream or sys.stderr)
    if interval is None:
        interval = 1.0 if (sink is not None and tty) else STATUS_INTERVAL
    if sink is None:

        def sink(message: str) -> None:
            print(f"synthcust: {message}", file=stream or sys.stderr, flush=True)

    stop = threading.Event()
    t0 = time.perf_counter()

    def beat() -> None:
        while not stop.wait(interval):
            if _ACTIVE[0] == 0:
                sink(f"{description}, {time.perf_counter() - t0:.0f} s so far")

    th = threading.Thread(target=beat, name="synthcust-heartbeat", daemon=True)
    th.start()
    try:
        yield
    finally:
        stop.set()
        th.join()


class Ticker:
    """Progress of a loop of ``total`` steps (epochs, rows): a bar, status lines or messages.

    Parameters
    ----------
    total : int
        Steps planned.
    description : str
        What runs (``"autoregressive"``, ``"sampling autoregressive"``).
    progress : bool, callable or None
        ``False``: silent. ``True``: a Rich bar. A callable: ``progress(message)``. ``None``
        (default): the callable installed by :func:`progress_to` if any, else a Rich bar when
        stderr is a terminal, else plain status lines on stderr.
    unit : str
        ``"epoch"`` (messages read ``epoch 12/100``) or a plural noun (``12,000/50,000 rows``).
    interval : float, optional
        Seconds between messages or lines (default: :data:`LIVE_INTERVAL` to a terminal,
        :data:`STATUS_INTERVAL` otherwise). Lines start only once the loop has run that long.
    stream : file, optional
        Where plain lines go (default ``sys.stderr``).
    """

    def __init__(
        self,
        total: int,
        description: str,
        progress: bool | Callable[[str], None] | None = None,
        *,
        unit: str = "epoch",
        interval: float | None = None,
        stream: Any = None,
    ) -> None:
        self.total, self.description, self.unit = total, description, unit
        self.t0 = self.last = time.perf_counter()
        self.done, self.note, self.said, self.plain = 0, "", False, False
        self.stream = stream
        self.bar: Any = None
        self.sink: Callable[[str], None] | None = None
        self.active = True
        _ACTIVE[0] += 1
        tty = _isatty(stream or sys.stderr)
        if progress is False:
            return
        if callable(progress):
            self.sink = progress
        elif progress is None and current_progress() is not None:
            self.sink = current_progress()
        elif progress is True or (progress is None and tty):
            self.bar = _rich_bar(total, description)
            if self.bar is not None:
                return
            self.sink = current_progress()
            if self.sink is None:  # another live display owns the terminal
                return
        else:
            self.sink, self.plain = self._line, True
        if interval is None:
            interval = LIVE_INTERVAL if tty else STATUS_INTERVAL
        self.interval = interval
        # a callable hears at once that work started; plain lines wait until it runs long
        self.last = self.t0 - (0.0 if self.plain else interval)

    def message(self, final: str | None = None) -> str:
        """``"autoregressive: epoch 12/100, loss 0.41, 34 s"`` (or the final message)."""
        secs = time.perf_counter() - self.t0
        if final is not None:
            return f"{self.description}: {final}, {secs:.0f} s"
        if self.unit == "epoch":
            where = f"epoch {self.done}/{self.total}"
        else:
            where = f"{self.done:,}/{self.total:,} {self.unit}"
        note = f", {self.note}" if self.note else ""
        return f"{self.description}: {where}{note}, {secs:.0f} s"

    def update(self, done: int, note: str = "") -> None:
        """``done`` steps of ``total`` so far (``note``: e.g. the losses)."""
        self.done, self.note = done, note
        if self.bar is not None:
            self.bar[0].update(self.bar[1], completed=done, note=note)
            return
        if self.sink is None:
            return
        now = time.perf_counter()
        if now - self.last >= self.interval:
            self.last = now
            self.said = True
            self.sink(self.message())

    def advance(self, note: str = "") -> None:
        """One more step."""
        self.update(self.done + 1, note)

    def close(self, final: str | None = None) -> None:
        """Stop the bar; after any status line, one last line saying how it ended."""
        if self.active:
            self.active = False
            _ACTIVE[0] -= 1
        if self.bar is not None:
            self.bar[0].stop()
            self.bar = None
        elif self.sink is not None and (self.said or not self.plain):
            self.sink(self.message(final or "done"))
        self.sink = None

    def _line(self, message: str) -> None:
        print(f"synthcust: {message}", file=self.stream or sys.stderr, flush=True)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _rich_bar(total: int, description: str) -> tuple[Any, Any] | None:
    """A started Rich progress bar and its task, or ``None`` when another live display (e.g.
    the command line's own progress) is active."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    p = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        transient=False,
    )
    try:
        p.start()
    except Exception:  # another live display (e.g. the CLI's own progress) is active
        return None
    return p, p.add_task(description, total=total, note="")


class ProgressBar:
    """The older interface of :class:`Ticker` (``show``: a bar, or the progress callable a
    workflow installed; nothing otherwise). ``advance(note)`` moves one step."""

    def __init__(self, show: bool, total: int, description: str):
        self.ticker = Ticker(total, description, None if show else current_progress() or False)

    def advance(self, note: str) -> None:
        self.ticker.advance(note)

    def close(self) -> None:
        self.ticker.close()
