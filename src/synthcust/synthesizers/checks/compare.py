"""Comparing model outputs and reading a model's parameters and fitted attributes."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "assert_same",
    "fitted_attributes",
    "is_fitted_name",
    "model_params",
    "same",
    "snapshot",
]


def same(a: Any, b: Any) -> bool:
    """Whether two model outputs are identical (frames, arrays, dicts, lists, scalars)."""
    try:
        assert_same(a, b)
    except AssertionError:
        return False
    return True


def assert_same(a: Any, b: Any, where: str = "output") -> None:
    """Raise ``AssertionError`` (naming the first difference) unless ``a`` and ``b`` are equal.

    Frames and Series must match in values, dtypes, index and names; arrays in shape, dtype
    and values (missing values equal each other); mappings and sequences item by item.
    """
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        _expect(isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame), where, a, b)
        pd.testing.assert_frame_equal(a, b, obj=where)
    elif isinstance(a, pd.Series) or isinstance(b, pd.Series):
        _expect(isinstance(a, pd.Series) and isinstance(b, pd.Series), where, a, b)
        pd.testing.assert_series_equal(a, b, obj=where)
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        _expect(a.shape == b.shape and a.dtype == b.dtype, where, a.shape, b.shape)
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, Mapping) and isinstance(b, Mapping):
        _expect(list(a) == list(b), f"{where} keys", list(a), list(b))
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        # a tuple comes back from a JSON model file as a list: the same value
        _expect(len(a) == len(b), where, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        _expect(a == b or (np.isnan(a) and np.isnan(b)), where, a, b)
    else:
        try:
            equal = bool(a == b)
        except (TypeError, ValueError):  # objects without a plain ==: compare their state
            equal = type(a) is type(b) and same(vars(a), vars(b))
        _expect(equal, where, a, b)


def _expect(ok: bool, where: str, a: Any, b: Any) -> None:
    if not ok:
        raise AssertionError(f"{where} differs: {_short(a)} != {_short(b)}")


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 200 else text[:200] + "..."


def fitted_attributes(model: Any) -> dict[str, Any]:
    """The attributes ``fit`` learned: public names ending in ``_`` (sorted by name)."""
    return {k: v for k, v in sorted(vars(model).items()) if is_fitted_name(k)}


def is_fitted_name(name: str) -> bool:
    return name.endswith("_") and not name.startswith("_")


def model_params(model: Any) -> dict[str, Any]:
    if hasattr(model, "get_params"):
        return dict(model.get_params())
    sig = inspect.signature(type(model).__init__)
    names = [
        p.name
        for p in sig.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    missing = [k for k in names if not hasattr(model, k)]
    if missing:
        raise AssertionError(
            f"{type(model).__name__}.__init__ does not store its argument(s) {missing} as "
            "attributes of the same name"
        )
    return {k: getattr(model, k) for k in names}


def snapshot(x: Any) -> Any:
    if isinstance(x, pd.DataFrame | pd.Series | np.ndarray):
        return x.copy()
    if isinstance(x, Mapping):
        return {k: snapshot(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(snapshot(v) for v in x)
    try:
        return copy.deepcopy(x)
    except Exception:
        return x
