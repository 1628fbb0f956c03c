"""A lock around building Python ASTs, for CPython 3.11 before 3.11.8.

CPython 3.11.0-3.11.7 keeps the AST constructor's recursion depth in shared state, so two
threads parsing at once (``ast.parse``, ``ast.literal_eval``; NumPy's ``np.load`` parses every
array header with ``ast.literal_eval``) can fail with ``SystemError: AST constructor recursion
depth mismatch`` (python/cpython#106905, fixed in 3.11.8 and 3.12). synthcust parses in threads
(Dask thread workers loading a model, the service's job threads), so its own parsing goes
through :data:`AST_LOCK`. Parsing is microseconds; the lock costs nothing measurable.
"""

from __future__ import annotations

import threading

AST_LOCK = threading.RLock()
