"""Kept for compatibility: the CLI now lives in :mod:`synthcust.cli.root` (root app, ``main``),
:mod:`synthcust.cli.common` (shared helpers) and one module per command group."""

from __future__ import annotations

from synthcust.cli.common import STATE, app, console, err_console
from synthcust.cli.root import main

__all__ = ["STATE", "app", "console", "err_console", "main"]
