"""New rows drawn by synthcust synthesizers: one per class, or one conditioned on the class."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError
from synthcust.synthesizers.base import REGISTRY, BaseSynthesizer
from synthcust.synthesizers.oversampling.layout import (
    as_float,
    draw_seed,
    numeric_back,
    values_back,
)

__all__ = [
    "MIN_ROWS_PER_CLASS",
    "build_synthesizer",
    "conform",
    "fit_conditional",
    "fit_per_class",
    "generative_rows",
]

#: a class with fewer rows gets no model of its own in generative oversampling (the joint,
#: class-conditioned model of the whole table draws its rows instead)
MIN_ROWS_PER_CLASS = 20


def build_synthesizer(
    synthesizer: Any, params: Mapping[str, Any] | None, random_state: int | None
) -> Any:
    """A fresh, unfitted synthesizer from a registry name or a template instance."""
    if isinstance(synthesizer, BaseSynthesizer):
        kw = {**synthesizer.get_params(), **dict(params or {}), "random_state": random_state}
        return type(synthesizer)(**kw)
    if synthesizer not in REGISTRY:
        raise DataError(
            f"unknown synthesizer {synthesizer!r}; available: {', '.join(sorted(REGISTRY))}"
        )
    return REGISTRY[synthesizer](random_state=random_state, **dict(params or {}))


def generative_rows(
    X: pd.DataFrame,
    y: pd.Series,
    n_new: dict[Any, int],
    synthesizer: Any,
    params: Mapping[str, Any] | None,
    rng: np.random.Generator,
    notes: list[str],
    fitted: Any | None = None,
    per_class: bool = True,
    rules: str = "auto",
) -> tuple[pd.DataFrame, np.ndarray]:
    """New rows (only) of each class in ``n_new``: from one model per class
    (``per_class``; ``fitted`` may hold them, from :func:`fit_per_class`) or by conditional
    sampling of one model of the whole table (``fitted`` from :func:`fit_conditional`)."""
    if not n_new:
        return X.iloc[:0].copy(), np.array([], dtype=object)
    if isinstance(fitted, tuple):
        per_class = False
    elif isinstance(fitted, dict):
        per_class = True
    models: dict[Any, Any] = {}
    if per_class:
        models = fitted or fit_per_class(
            X, y, list(n_new), synthesizer, params, draw_seed(rng), rules
        )
        small = [c for c in n_new if c not in models]
        if small:
            notes.append(
                f"class(es) {small} have fewer than {MIN_ROWS_PER_CLASS} rows: their new rows "
                "come from one model of the whole table, conditioned on the class"
            )
    if any(c not in models for c in n_new):
        model, tcol, label = (
            fitted if isinstance(fitted, tuple) else
            fit_conditional(X, y, synthesizer, params, draw_seed(rng), rules)
        )  # fmt: skip
    parts, ys = [], []
    for cls, n in n_new.items():
        if cls in models:
            syn = models[cls].sample(int(n), random_state=draw_seed(rng))
        else:
            syn = model.sample(int(n), conditions={tcol: label[cls]}, random_state=draw_seed(rng))
        parts.append(conform(syn, X, (y == cls).to_numpy(), notes))
        ys.append(np.full(int(n), cls, dtype=object))
    return pd.concat(parts, ignore_index=True), np.concatenate(ys)


def fit_per_class(
    X: pd.DataFrame,
    y: pd.Series,
    classes: Sequence[Any],
    synthesizer: Any,
    params: Mapping[str, Any] | None,
    seed: int,
    rules: str = "auto",
) -> dict[Any, Any]:
    """One ``synthesizer`` per class in ``classes``, each fitted on that class's rows only; a
    class with fewer than :data:`MIN_ROWS_PER_CLASS` rows gets none (too few to learn from)."""
    models = {}
    yv = np.asarray(y, dtype=object)
    for i, cls in enumerate(classes):
        rows = X.loc[yv == cls].reset_index(drop=True)
        if len(rows) < MIN_ROWS_PER_CLASS:
            continue
        model = build_synthesizer(synthesizer, params, seed + i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models[cls] = model.fit(rows, rules=rules)
    return models


def fit_conditional(
    X: pd.DataFrame,
    y: pd.Series,
    synthesizer: Any,
    params: Mapping[str, Any] | None,
    seed: int,
    rules: str = "auto",
) -> tuple[Any, str, dict[Any, str]]:
    """Fit ``synthesizer`` on ``X`` plus the target (as text labels ``"class=<value>"``, so
    every synthesizer models it as a category). Returns (model, target column, label map)."""
    tcol = "__target__"
    while tcol in X.columns:
        tcol = "_" + tcol
    label = {c: f"class={c}" for c in pd.unique(y)}
    frame = X.copy()
    frame[tcol] = y.map(label).to_numpy(dtype=object)
    model = build_synthesizer(synthesizer, params, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame, rules=rules)
    return model, tcol, label


def conform(syn: pd.DataFrame, X: pd.DataFrame, rows: np.ndarray, notes: list[str]) -> pd.DataFrame:
    """Synthetic rows -> ``X``'s columns and dtypes, values within what ``X[rows]`` shows."""
    out: dict[Any, pd.Series] = {}
    fixed = 0
    n = len(syn)
    for c in X.columns:
        real = X[c]
        cls_real = real[rows] if rows.any() else real
        s = syn[c].reset_index(drop=True) if c in syn.columns else pd.Series([np.nan] * n)
        if pd.api.types.is_bool_dtype(real.dtype) or not (
            pd.api.types.is_numeric_dtype(real.dtype)
            or pd.api.types.is_datetime64_any_dtype(real.dtype)
        ):
            seen = pd.unique(real.dropna().astype(object))
            mode = cls_real.mode(dropna=True)
            fill = mode.iloc[0] if len(mode) else seen[0]
            vals = s.astype(object).to_numpy()
            ok = pd.Series(vals).isin(seen).to_numpy()
            miss = pd.isna(vals)
            bad = ~ok & ~(miss & real.isna().any())
            fixed += int(bad.sum())
            vals = np.where(bad, fill, vals)
            vals = np.where(pd.isna(vals), None, vals).astype(object)
            out[c] = values_back(vals, real)
        else:
            v = as_float(pd.to_datetime(s) if real.dtype.kind == "M" else s)
            miss = np.isnan(v)
            if miss.any() and not real.isna().any():
                fixed += int(miss.sum())
                med = np.nanmedian(as_float(cls_real)) if cls_real.notna().any() else 0.0
                v = np.where(miss, med, v)
            out[c] = numeric_back(v, real)
    if fixed:
        notes.append(
            f"{fixed:,} generated value(s) outside the seen set (or missing where the real "
            "column never is) replaced by the class's most frequent / median value"
        )
    return pd.DataFrame(out)
