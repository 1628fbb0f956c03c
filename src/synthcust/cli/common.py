"""What every ``synthcust`` command module shares: consoles, progress, input reading, parsing.

The command modules (``synthcust.cli.*``) import these public names; none of them imports
another command module.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from synthcust.exceptions import SynthcustError
from synthcust.io import read_table

__all__ = [
    "STATE",
    "app",
    "console",
    "err_console",
    "load_json",
    "parse_bounds",
    "parse_pairs",
    "parse_params",
    "progress",
    "read_input",
]

#: The root Typer app. Command modules still registering with ``@app.command()`` use it; a
#: module that is its own sub-app is mounted on it by :mod:`synthcust.cli.root`.
app = typer.Typer(
    name="synthcust",
    help="Synthetic customers you can trust: faithful, PII-free, checked against real data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False)
err_console = Console(stderr=True)
#: Process-wide CLI state: ``STATE["debug"]`` is set by ``--debug``.
STATE: dict[str, Any] = {"debug": False}


class PlainProgress:
    """A stand-in for :class:`rich.progress.Progress` that prints one line per step.

    Used when stderr is not a terminal (logs, CI, pipes): each description change is printed
    with the elapsed seconds, so long steps stay visible without a redrawn bar.
    """

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream
        self._tasks: dict[int, dict[str, Any]] = {}
        self._t0 = time.perf_counter()

    def __enter__(self) -> PlainProgress:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def _say(self, task: dict[str, Any]) -> None:
        stream = self._stream or sys.stderr
        total = task["total"]
        count = f" [{task['completed']:g}/{total:g}]" if total else ""
        print(
            f"synthcust: {task['description']}{count} ({time.perf_counter() - self._t0:.1f}s)",
            file=stream,
            flush=True,
        )

    def add_task(self, description: str, total: float | None = 100.0, **_: Any) -> int:
        tid = len(self._tasks)
        self._tasks[tid] = {"description": description, "total": total, "completed": 0}
        self._say(self._tasks[tid])
        return tid

    def update(
        self,
        task_id: int,
        *,
        description: str | None = None,
        advance: float | None = None,
        completed: float | None = None,
        total: float | None = None,
        **_: Any,
    ) -> None:
        task = self._tasks[task_id]
        if total is not None:
            task["total"] = total
        if advance:
            task["completed"] += advance
        if completed is not None:
            task["completed"] = completed
        if description is not None and description != task["description"]:
            task["description"] = description
            self._say(task)

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def remove_task(self, task_id: int) -> None:
        self._tasks.pop(task_id, None)

    def stop(self) -> None:
        return None

    def start(self) -> None:
        return None


def _force_progress() -> bool:
    return os.environ.get("SYNTHCUST_PROGRESS") == "1"


def progress() -> Any:
    """A progress display for a long step, on stderr.

    A Rich bar when stderr is a terminal (or ``SYNTHCUST_PROGRESS=1``), else plain lines
    (``synthcust: fitting ... (3.2s)``) so logs and pipes still show what is happening;
    ``SYNTHCUST_PROGRESS=0`` silences it.
    """
    if os.environ.get("SYNTHCUST_PROGRESS") == "0":
        return Progress(console=err_console, disable=True)
    if err_console.is_terminal or _force_progress():
        return Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        )
    return PlainProgress()


def read_input(path: str, table: str | None = None, query: str | None = None) -> pd.DataFrame:
    """Read DATA (a CSV/Parquet/DuckDB file or a SQLAlchemy URL) as a frame."""
    return read_table(path, table=table, query=query)


def load_json(path: Path | str, what: str) -> Any:
    """Read a JSON file; a missing or malformed file is a :class:`SynthcustError` naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SynthcustError(f"{what} file {str(path)!r} does not exist") from e
    except json.JSONDecodeError as e:
        raise SynthcustError(
            f"{what} file {str(path)!r} is not valid JSON (line {e.lineno}: {e.msg})"
        ) from e


def parse_pairs(items: list[str] | None, what: str) -> dict[str, str]:
    """``["A=1", "B=x"]`` -> ``{"A": "1", "B": "x"}``; an item without ``=`` is an error."""
    out: dict[str, str] = {}
    for it in items or []:
        if "=" not in it:
            raise SynthcustError(f"cannot read {what} {it!r}; write NAME=VALUE")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _number_or_text(x: str) -> Any:
    try:
        return float(x)
    except ValueError:
        return x  # a date, read by the model


def parse_bounds(items: list[str] | None) -> dict[str, tuple[Any, Any]]:
    """``COL=LOW..HIGH`` (numbers or dates) -> ``{col: (low, high)}``."""
    out: dict[str, tuple[Any, Any]] = {}
    for col, rng in parse_pairs(items, "bound").items():
        if ".." not in rng:
            raise SynthcustError(f"cannot read bound {col}={rng!r}; write COL=LOW..HIGH")
        lo, hi = (x.strip() for x in rng.split("..", 1))
        out[col] = (_number_or_text(lo), _number_or_text(hi))
    return out


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``NAME=VALUE`` synthesizer parameters; values read as JSON when they parse, else text."""
    out: dict[str, Any] = {}
    for k, v in parse_pairs(items, "parameter").items():
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out
