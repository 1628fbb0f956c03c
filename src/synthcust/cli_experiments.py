"""``synthcust`` sub-commands of this area, registered on :data:`synthcust.cli.app` on import."""

from __future__ import annotations

from synthcust.cli import app  # noqa: F401
