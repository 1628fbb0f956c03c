"""Run the ``synthcust`` command line in-process, as a user would, for the tests."""

from __future__ import annotations

import sys

from synthcust.cli.common import STATE
from synthcust.cli.root import main as cli_main


def run(args, capsys, monkeypatch) -> tuple[int, str, str]:
    """``synthcust *args`` through :func:`synthcust.cli.main`: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["synthcust", *map(str, args)])
    # plain progress lines (stderr is not a terminal here) would precede the one error line
    monkeypatch.setenv("SYNTHCUST_PROGRESS", "0")
    STATE["debug"] = False
    try:
        cli_main()
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out, err = capsys.readouterr()
    return code, out, err
