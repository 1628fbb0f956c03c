"""The ``synthcust`` command line: one Typer sub-app per command group, no logic of its own."""

from synthcust.cli.root import app, main

__all__ = ["app", "main"]
