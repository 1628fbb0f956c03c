"""synthcust: synthetic customers you can trust.

The public face, loaded on first use so that ``import synthcust`` stays cheap:

>>> import synthcust
>>> sorted(n for n in synthcust.__all__ if n.islower() and n[0] != '_')[:4]
['available_synthesizers', 'default_synthesizer', 'evaluate', 'fit']
>>> synthcust.SynthcustError.__name__
'SynthcustError'

``synthcust.fit(df)`` learns a customer table (PII found and handled first) and returns a
:class:`~synthcust.synthesizers.fitted.SynthModel`; ``model.sample(n)`` draws synthetic
customers; ``synthcust.split`` and ``synthcust.evaluate`` measure them against real data held
out from training. See :mod:`synthcust.api`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("synthcust")
except PackageNotFoundError:  # pragma: no cover - running from a source tree not installed
    __version__ = "0+unknown"

_API = (
    "SynthModel",
    "available_synthesizers",
    "default_synthesizer",
    "evaluate",
    "fit",
    "load",
    "sample",
    "split",
)
_ERRORS = (
    "ConditionError",
    "ConstraintError",
    "DataError",
    "ModelError",
    "ModelFileError",
    "NotFittedError",
    "PIIError",
    "ParameterError",
    "ReadError",
    "SchemaError",
    "SegmentError",
    "SynthcustError",
    "WriteError",
)
_LAZY = {
    **dict.fromkeys(_API, "synthcust.api"),
    **dict.fromkeys(_ERRORS, "synthcust.exceptions"),
    "Schema": "synthcust.schema.model",
}

__all__ = ["__version__", *_API, *_ERRORS, "Schema"]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'synthcust' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
