"""Load a benchmark script of bench/ as a module, and skip data-driven tests without the data.

bench/ is not a package: its scripts run as ``python bench/NAME.py``. The tests that run them on
their ``--quick`` settings import them through :func:`load_script`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
#: The real datasets (../shared/data beside the repository); never copied into it.
DATA_DIR = ROOT.parent / "shared" / "data"

#: Skip a test when Adult (the datasets' marker file) is not there.
needs_data = pytest.mark.skipif(
    not (DATA_DIR / "adult" / "adult_train.csv.gz").is_file(),
    reason=f"benchmark data not found at {DATA_DIR} (../shared/data next to the repo)",
)


if str(BENCH) not in sys.path:  # the scripts import each other, as when run from bench/
    sys.path.insert(0, str(BENCH))


def load_script(name: str) -> ModuleType:
    """``bench/NAME.py`` as the module ``NAME`` (registered once in ``sys.modules``, since the
    scripts' dataclasses look their module up)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
