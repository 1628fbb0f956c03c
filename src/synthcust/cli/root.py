"""The ``synthcust`` command line: the root app, its sub-apps, and the error handling.

Each command group is its own module with its own Typer sub-app, mounted here without a name so
that its commands stay top-level (``synthcust fit``, ``synthcust sample``, ...); groups with a
name (``synthcust constraints ...``) are mounted under it. Every error is one readable line
naming the column/value and what to do, with a non-zero exit code; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Annotated

import typer
from rich.markup import escape

from synthcust import __version__
from synthcust.cli import (
    behaviour,
    constraints,
    demo,
    evaluate,
    experiments,
    fit,
    journeys,
    llm,
    oversample,
    personas,
    privacy,
    relational,
    sample,
    schema,
    service,
)
from synthcust.cli.common import STATE, app, console, err_console
from synthcust.exceptions import SynthcustError

__all__ = ["app", "main"]


def _version(value: bool) -> None:
    if value:
        console.print(f"synthcust {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    STATE["debug"] = debug


def _mount(module: ModuleType, name: str | None = None) -> None:
    """Mount a command module's own sub-app, once (a module that registers on the root app
    itself, :data:`synthcust.cli.common.app`, is left as it is)."""
    sub = getattr(module, "app", None)
    mounted = any(info.typer_instance is sub for info in app.registered_groups)
    if isinstance(sub, typer.Typer) and sub is not app and not mounted:
        app.add_typer(sub, name=name)


_CORE = (schema, fit, sample, evaluate, demo, privacy, constraints)
for _module in _CORE:
    _mount(_module, "constraints" if _module is constraints else None)
for _module in (behaviour, experiments, journeys, llm, oversample, personas, relational, service):
    _mount(_module)
# ``synthcust --help`` lists the core commands first, then the other groups as imported
_first = [getattr(m, "app", None) for m in _CORE]
app.registered_groups.sort(
    key=lambda info: _first.index(info.typer_instance) if info.typer_instance in _first else 99
)


def main() -> None:
    """Entry point: run the app, turning every synthcust error into one line and exit code 1."""
    try:
        # without standalone mode click returns an Exit's code instead of exiting with it
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except SynthcustError as e:
        if STATE["debug"]:
            raise
        err_console.print(f"[red]error[/red]: {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (typer.Exit, SystemExit) as e:
        code = getattr(e, "exit_code", getattr(e, "code", 0))
        sys.exit(code or 0)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as e:  # usage errors and anything unexpected
        if hasattr(e, "show") and hasattr(e, "exit_code"):  # a usage error (bad option...)
            e.show()
            sys.exit(e.exit_code)
        if STATE["debug"] or "--debug" in sys.argv:
            raise
        err_console.print(
            f"[red]internal error[/red]: {type(e).__name__}: {e} "
            "(this is a bug in synthcust; rerun with --debug for the traceback and report it)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    main()
