"""Oversampling for imbalanced targets: the SMOTE family and generative oversampling.

Every oversampler takes a feature frame ``X`` and class labels ``y`` and returns them with new
rows of the small classes appended (``fit_resample``), so it drops into an
``imblearn.pipeline.Pipeline`` in front of any classifier. :func:`rebalance` does the same on
one table holding the target. The caller's frames are never modified; the output has the same
columns, in the same order and with the same dtypes, original rows first (in their order,
fresh ``RangeIndex``), then the new rows; ``synthetic_mask_`` says which rows are new.

Methods (``method=`` of :func:`make_oversampler` / :func:`rebalance`):

``smote``
    SMOTE (Chawla et al. 2002): a new row lies on the segment between a minority row and one of
    its ``k_neighbors`` nearest same-class neighbours. Numeric features are standardised first
    (so distances do not follow the units of the largest column) and mapped back after. With
    categorical features present it becomes **SMOTE-NC** automatically (a note says so): SMOTE
    cannot interpolate categories.
``smotenc``
    SMOTE-NC: numeric features interpolated, each categorical feature set to the value most
    frequent among the neighbours (distance adds the median numeric spread per differing
    category). Without categorical features it is plain SMOTE; without numeric ones, SMOTE-N.
``smoten``
    SMOTE-N: all features categorical, neighbours by the value difference metric.
``borderline``
    Borderline-SMOTE-1 (Han et al. 2005): only minority rows "in danger" (most of their
    ``m_neighbors`` nearest rows of any class are other classes) seed new rows.
``adasyn``
    ADASYN (He et al. 2008): more new rows around minority rows with more other-class
    neighbours; the counts reached are approximately, not exactly, the ones asked for.
``generative``
    A synthcust synthesizer (default the Gaussian copula) draws the new rows. With
    ``per_class=True`` (default) one model is fitted on each raised class's own rows, so the
    class's joint distribution is not averaged with the majority's (on Credit default this
    lifted minority F1 over the joint model: see the README); with ``per_class=False`` one model
    learns the whole table, target included, and ``sample(n, conditions={target: class})``
    draws them. No neighbours, so it works for any class size >= 1 and every column kind.
``hybrid``
    ``smote_share`` of the new rows of each class from SMOTE (``smote_kind``), the rest from the
    generative model.

Borderline-SMOTE and ADASYN are numeric-only in imbalanced-learn; on mixed data the categorical
features are one-hot encoded (each level scaled to half the median standard deviation of the
standardised numeric features of the minority rows, as SMOTE-NC does), interpolated, and decoded
by taking the level with the largest interpolated weight, so every value stays in the seen set.

Column handling (kinds from :func:`synthcust.schema.infer.infer_schema`, overridable with
``categorical=``):

* numeric dtype columns are interpolated; whole-number columns are rounded, every numeric column
  is clipped to its observed range, and the dtype is kept (``int64`` stays ``int64``);
* datetimes are interpolated as seconds and come back as the same datetime dtype;
* text-like, boolean, ``category`` dtype and 0/1 columns are categorical: values come only from
  the seen set, dtype kept;
* **missing values**: in a categorical column "missing" is a level of its own (a new row can be
  missing where its neighbours are); in a numeric column the gaps are filled with the column
  median for the neighbour search and a missing-indicator (a categorical feature) travels with
  the row, so a new row is missing in that column when the indicator says so;
* **id columns** (unique keys) are not features: new rows get fresh ids (``max + 1, ...`` for
  numbers, ``"synthetic-<n>"`` for text) that clash with no existing id;
* **free-text columns are refused** (the error names them): neither interpolation nor a
  category model makes sense for prose; drop them first (``--drop COL`` on the command line).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"age": rng.integers(18, 70, 300),
...                    "plan": rng.choice(["basic", "pro"], 300),
...                    "churn": np.where(rng.random(300) < 0.1, "yes", "no")})
>>> out = rebalance(df, "churn", method="smote", ratio=1.0, random_state=0)
>>> out["churn"].value_counts().tolist(), str(out["age"].dtype)
([278, 278], 'int64')
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from synthcust._utils.persist import load_bundle, save_bundle
from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError, ModelError, ModelFileError, NotFittedError

__all__ = [
    "METHODS",
    "SMOTE_KINDS",
    "GenerativeOversampler",
    "HybridOversampler",
    "SMOTEOversampler",
    "check_target",
    "fit_per_class",
    "load_oversampler",
    "make_oversampler",
    "rebalance",
    "resample_frame",
    "target_counts",
]

#: a class with fewer rows gets no model of its own in generative oversampling (the joint,
#: class-conditioned model of the whole table draws its rows instead)
MIN_ROWS_PER_CLASS = 20

#: SMOTE-family methods (imbalanced-learn).
SMOTE_KINDS = ("smote", "smotenc", "smoten", "borderline", "adasyn")
#: Every method :func:`make_oversampler` and :func:`rebalance` accept.
METHODS = (*SMOTE_KINDS, "generative", "hybrid")
_KIND = "oversampler"
#: Most distinct whole-number values a numeric target may have to count as class labels.
MAX_CLASSES = 20


# ---------------------------------------------------------------------------------- target
def check_target(y: Any, name: str = "target") -> pd.Series:
    """Validate class labels ``y``: no missing value, at least two classes, not continuous.

    Returns ``y`` as a Series with a fresh ``RangeIndex``.

    Examples
    --------
    >>> check_target(pd.Series(["a", "b", "a"])).tolist()
    ['a', 'b', 'a']
    >>> check_target(pd.Series([0.1, 0.25, 0.3]))
    Traceback (most recent call last):
    ...
    synthcust.exceptions.DataError: target 'target' looks continuous ...
    """
    y = pd.Series(y).reset_index(drop=True)
    if isinstance(y.dtype, pd.CategoricalDtype):  # a declared but absent class is not a class
        y = y.cat.remove_unused_categories()
    label = str(y.name) if y.name is not None else name
    if len(y) == 0:
        raise DataError(f"target {label!r} is empty; there is nothing to rebalance")
    n_missing = int(y.isna().sum())
    if n_missing:
        raise DataError(
            f"target {label!r} is missing in {n_missing:,} row(s); drop those rows or fill them "
            "with a class before rebalancing"
        )
    if pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype):
        v = y.to_numpy(dtype=float)
        n_unique = len(np.unique(v))
        if not np.all(v == np.round(v)) or n_unique > MAX_CLASSES:
            raise DataError(
                f"target {label!r} looks continuous ({n_unique:,} distinct numeric values"
                + ("" if np.all(v == np.round(v)) else ", not whole numbers")
                + "); oversampling needs class labels. Bin it into classes first "
                "(e.g. pandas.qcut) or pick a class column"
            )
    if pd.api.types.is_datetime64_any_dtype(y.dtype):
        raise DataError(f"target {label!r} holds dates; oversampling needs class labels")
    counts = y.value_counts()
    if len(counts) < 2:
        raise DataError(
            f"target {label!r} has a single class ({counts.index[0]!r}, {int(counts.iloc[0]):,} "
            "rows); there is no minority class to raise"
        )
    return y


def target_counts(y: pd.Series, sampling_strategy: float | Mapping[Any, int]) -> dict[Any, int]:
    """Rows each class should have after oversampling.

    ``sampling_strategy`` as a number is the ratio minority / majority wanted afterwards
    (``1.0`` = balanced): every class with fewer than ``ceil(ratio * n_majority)`` rows is raised
    to that count, the others are left alone. As a mapping it gives the count per class (classes
    not named are left alone; a count may not be below the current one).

    Raises
    ------
    DataError
        If the ratio is not in (0, 1] or no class is below it (nothing to do).

    Examples
    --------
    >>> target_counts(pd.Series(["a"] * 8 + ["b"] * 2), 0.5)
    {'a': 8, 'b': 4}
    """
    counts = y.value_counts()
    if isinstance(sampling_strategy, Mapping):
        out = {k: int(v) for k, v in counts.items()}
        for cls, n in sampling_strategy.items():
            if cls not in out:
                raise DataError(
                    f"class {cls!r} in sampling_strategy is not in the target; classes: "
                    f"{sorted(map(str, out))}"
                )
            if isinstance(n, bool) or not float(n).is_integer() or n < out[cls]:
                raise DataError(
                    f"sampling_strategy[{cls!r}] = {n!r}: give a whole number of rows >= the "
                    f"current {out[cls]:,} (oversampling only adds rows)"
                )
            out[cls] = int(n)
        return out
    ratio = sampling_strategy
    if isinstance(ratio, bool) or not isinstance(ratio, int | float | np.number):
        raise DataError(f"ratio must be a number in (0, 1] or a dict of counts, got {ratio!r}")
    ratio = float(ratio)
    if not 0 < ratio <= 1:
        raise DataError(
            f"ratio must be in (0, 1] (minority / majority after resampling; 1.0 = balanced), "
            f"got {ratio:g}"
        )
    n_major = int(counts.max())
    want = math.ceil(ratio * n_major - 1e-9)
    current = float(counts.min()) / n_major
    if not (counts < want).any():
        smallest = counts.idxmin()
        raise DataError(
            f"ratio {ratio:g} is not above the current ratio: the smallest class {smallest!r} "
            f"already has {int(counts.min()):,} rows vs {n_major:,} in the largest "
            f"({current:.3f}); ask for a ratio above {current:.3f} (1.0 = balanced)"
        )
    return {k: max(int(v), want) for k, v in counts.items()}


# ----------------------------------------------------------------------------- column kinds
@dataclass
class _Layout:
    """How each feature column is treated (see the module docstring)."""

    numeric: list[str] = field(default_factory=list)  # numeric dtype and datetimes
    categorical: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    datetime: list[str] = field(default_factory=list)


def _layout(X: pd.DataFrame, categorical: Sequence[str] | None) -> _Layout:
    from synthcust.schema.infer import infer_schema
    from synthcust.schema.model import Kind

    forced = set(categorical or [])
    unknown = sorted(map(str, forced - set(X.columns)))
    if unknown:
        raise DataError(f"categorical columns {unknown} are not in the data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = infer_schema(X, detect_pii=False)
    text = [c.name for c in schema.columns if c.kind == Kind.TEXT and c.name not in forced]
    if text:
        raise DataError(
            f"free-text column(s) {text} cannot be oversampled (SMOTE cannot interpolate prose "
            "and a category model of unique sentences only copies them); drop them first "
            "(df.drop(columns=[...]) or --drop COL), or pass them as categorical= if they are "
            "really labels"
        )
    lay = _Layout()
    kinds = {c.name: c.kind for c in schema.columns}
    for c in X.columns:
        s, kind = X[c], kinds[str(c)]
        if c in forced:
            lay.categorical.append(c)
        elif kind == Kind.ID:
            lay.ids.append(c)
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            lay.numeric.append(c)
            lay.datetime.append(c)
        elif (
            pd.api.types.is_numeric_dtype(s.dtype)
            and not pd.api.types.is_bool_dtype(s.dtype)
            and kind == Kind.NUMERIC
        ):
            lay.numeric.append(c)
        else:  # text labels, booleans (and 0/1), categories, constants
            lay.categorical.append(c)
    if not lay.numeric and not lay.categorical:
        raise DataError("no feature columns to oversample (only id columns besides the target)")
    return lay


def _as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        epoch = pd.Timestamp(0, tz=getattr(s.dt, "tz", None))
        return ((s - epoch) / pd.Timedelta(1, "s")).to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _numeric_back(v: np.ndarray, like: pd.Series) -> pd.Series:
    """Floats -> a Series with ``like``'s dtype: clipped to its range, whole if it is whole."""
    known = _as_float(like)
    ok = ~np.isnan(known)
    v = v.copy()
    if ok.any():
        lo, hi = known[ok].min(), known[ok].max()
        np.clip(v, lo, hi, out=v)  # NaN stays NaN
        if np.all(known[ok] == np.round(known[ok])):
            v = np.round(v)
    if pd.api.types.is_datetime64_any_dtype(like.dtype):
        epoch = pd.Timestamp(0, tz=getattr(like.dt, "tz", None))
        return pd.Series(epoch + pd.to_timedelta(v, unit="s")).astype(like.dtype)
    if np.isnan(v).any() and like.dtype.kind in "iub":
        return pd.Series(v).astype("Int64" if like.dtype.kind != "b" else "boolean")
    return pd.Series(v).astype(like.dtype)


def _values_back(values: np.ndarray, like: pd.Series) -> pd.Series:
    """Seen values (object array, NaN/None for missing) -> Series with ``like``'s dtype."""
    if isinstance(like.dtype, pd.CategoricalDtype):
        return pd.Series(pd.Categorical(values, dtype=like.dtype))
    s = pd.Series(values, dtype=object)
    try:
        return s.astype(like.dtype)
    except (TypeError, ValueError):  # e.g. missing in a bool column: keep a nullable dtype
        return s.convert_dtypes()


def _new_ids(like: pd.Series, n: int) -> pd.Series:
    """``n`` ids that clash with none in ``like`` (numbers after the max, else text)."""
    if pd.api.types.is_numeric_dtype(like.dtype) and not pd.api.types.is_bool_dtype(like.dtype):
        top = np.nanmax(_as_float(like)) if like.notna().any() else 0
        return pd.Series(np.arange(1, n + 1) + math.floor(top)).astype(like.dtype)
    seen = set(like.dropna().astype(str))
    prefix = "synthetic-"
    while any(str(v).startswith(prefix) for v in seen):
        prefix = "_" + prefix
    vals = np.array([f"{prefix}{i}" for i in range(1, n + 1)], dtype=object)
    return _values_back(vals, like)


# ------------------------------------------------------------------------------ encoding
class _Encoder:
    """Features <-> a float matrix for imbalanced-learn (numbers standardised, category codes)."""

    def __init__(self, X: pd.DataFrame, lay: _Layout):
        self.X, self.lay = X, lay
        num = np.column_stack([_as_float(X[c]) for c in lay.numeric]) if lay.numeric else None
        self.miss_cols: list[str] = []
        cats: list[np.ndarray] = []
        self.uniques: list[np.ndarray] = []
        if num is not None:
            miss = np.isnan(num)
            allgone = miss.all(axis=0)  # an all-missing column: median 0 (never used)
            self.median = np.zeros(num.shape[1])
            if (~allgone).any():
                self.median[~allgone] = np.nanmedian(num[:, ~allgone], axis=0)
            filled = np.where(miss, self.median, num)
            self.mean = filled.mean(axis=0)
            sd = filled.std(axis=0)
            self.sd = np.where(sd > 0, sd, 1.0)
            self.Z = (filled - self.mean) / self.sd
            for j in np.flatnonzero(miss.any(axis=0)):  # missing indicator: a categorical
                self.miss_cols.append(lay.numeric[j])
                cats.append(miss[:, j].astype(np.int64))
                self.uniques.append(np.array([False, True], dtype=object))
        else:
            self.Z = np.empty((len(X), 0))
        for c in lay.categorical:
            codes, uniq = pd.factorize(X[c].astype(object), use_na_sentinel=False)
            cats.append(codes.astype(np.int64))
            self.uniques.append(np.asarray(uniq, dtype=object))
        self.C = np.column_stack(cats) if cats else np.empty((len(X), 0), dtype=np.int64)

    def one_hot(self, scale: float) -> tuple[np.ndarray, list[slice]]:
        """``[Z, one-hot(C) * scale]`` and the slice of each categorical block."""
        blocks, slices, at = [self.Z], [], self.Z.shape[1]
        for j, u in enumerate(self.uniques):
            oh = np.zeros((len(self.C), len(u)))
            oh[np.arange(len(self.C)), self.C[:, j]] = scale
            blocks.append(oh)
            slices.append(slice(at, at + len(u)))
            at += len(u)
        return np.hstack(blocks), slices

    def decode(self, Z: np.ndarray, C: np.ndarray) -> pd.DataFrame:
        """New rows: standardised numbers ``Z`` and category codes ``C`` -> frame like ``X``."""
        cols: dict[Any, pd.Series] = {}
        k = len(self.miss_cols)
        if self.lay.numeric:
            num = Z * self.sd + self.mean
            for j, c in enumerate(self.lay.numeric):
                v = num[:, j]
                if c in self.miss_cols:
                    v = np.where(C[:, self.miss_cols.index(c)] == 1, np.nan, v)
                cols[c] = _numeric_back(v, self.X[c])
        for j, c in enumerate(self.lay.categorical):
            cols[c] = _values_back(self.uniques[k + j][C[:, k + j]], self.X[c])
        return pd.DataFrame({c: cols[c].reset_index(drop=True) for c in self.X.columns})


# ------------------------------------------------------------------------------- samplers
class _Oversampler(BaseEstimator):
    """Template: ``fit_resample`` validates and plans; subclasses write ``_new_rows``."""

    sampling_strategy: float | Mapping[Any, int]
    categorical: Sequence[str] | None
    random_state: int | None

    def fit_resample(self, X: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, pd.Series]:
        """Return ``X`` and ``y`` with new rows of every class below the ratio appended.

        Parameters
        ----------
        X : pandas.DataFrame
            Features (a NumPy array is wrapped as a frame with columns ``x0, x1, ...``).
        y : array-like
            Class labels, one per row of ``X``.

        Returns
        -------
        (pandas.DataFrame, pandas.Series)
            Original rows first, then the new ones; same columns and dtypes as the input.
        """
        if not isinstance(X, pd.DataFrame):
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise DataError(f"X must be a 2-d table, got shape {arr.shape}")
            X = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        y = check_target(y)
        if len(X) != len(y):
            raise DataError(f"X has {len(X):,} rows but y has {len(y):,}; they must match")
        X = X.reset_index(drop=True)
        self.notes_: list[str] = []
        self.counts_before_ = {k: int(v) for k, v in y.value_counts().items()}
        want = target_counts(y, self.sampling_strategy)
        n_new = {
            k: want[k] - self.counts_before_[k] for k in want if want[k] > self.counts_before_[k]
        }
        lay = _layout(X, self.categorical)
        rng = resolve_rng(self.random_state)
        feats = [c for c in X.columns if c not in set(lay.ids)]
        Xn, yn = self._new_rows(X[feats], y, n_new, lay, rng)
        for c in lay.ids:  # keys are not features: fresh ones that clash with none
            Xn[c] = _new_ids(X[c], len(Xn)).to_numpy()
        X_out = pd.concat([X, Xn[X.columns]], ignore_index=True)
        y_out = pd.Series(
            np.concatenate([y.to_numpy(dtype=object), np.asarray(yn, dtype=object)]),
            name=y.name,
        ).astype(y.dtype)
        self.synthetic_mask_ = np.r_[np.zeros(len(X), bool), np.ones(len(Xn), bool)]
        self.counts_after_ = {k: int(v) for k, v in y_out.value_counts().items()}
        self.n_synthetic_ = len(Xn)
        short = {k: want[k] - self.counts_after_.get(k, 0) for k in n_new}
        short = {k: v for k, v in short.items() if v > 0}
        if short:
            self.notes_.append(
                "fewer rows than asked were generated for "
                + ", ".join(f"class {k!r} ({v:,} short)" for k, v in short.items())
            )
        return X_out, y_out

    def fit(self, X: pd.DataFrame, y: Any) -> Self:
        """Run :meth:`fit_resample` for its side effects (counts, notes); return ``self``."""
        self.fit_resample(X, y)
        return self

    def save(self, path: str | os.PathLike) -> Path:
        """Save the settings and what the last fit did (counts, notes, which rows are new).

        The file is the one model file format (:mod:`synthcust._utils.persist`, kind
        ``"oversampler"``); :func:`load_oversampler` (or ``type(self).load``) reads it back.
        """
        self._check_fitted()
        meta = {
            "oversampler": type(self).__name__,
            "params": {k: _encode_param(v) for k, v in self.get_params().items()},
            "fitted": {
                "counts_before_": list(self.counts_before_.items()),
                "counts_after_": list(self.counts_after_.items()),
                "n_synthetic_": self.n_synthetic_,
                "notes_": list(self.notes_),
            },
        }
        return save_bundle(path, meta, {"synthetic_mask_": self.synthetic_mask_}, kind=_KIND)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Any:
        """Load an oversampler saved by :meth:`save` (never unpickles anything)."""
        obj = load_oversampler(path)
        if not isinstance(obj, cls):
            raise ModelFileError(
                f"{str(path)!r} holds a {type(obj).__name__}, not a {cls.__name__}"
            )
        return obj

    def _check_fitted(self) -> None:
        if not hasattr(self, "counts_before_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call fit(X, y) or fit_resample(X, y) first"
            )

    def _new_rows(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        n_new: dict[Any, int],
        lay: _Layout,
        rng: np.random.Generator,
    ) -> tuple[pd.DataFrame, np.ndarray]:
        raise NotImplementedError


def _encode_param(v: Any) -> Any:
    """A parameter as JSON: a template synthesizer by name and settings, mappings as pairs."""
    from synthcust.synthesizers.base import BaseSynthesizer

    if isinstance(v, BaseSynthesizer):
        return {"__synthesizer__": v.name, "params": v.get_params()}
    if isinstance(v, Mapping):
        return {"__pairs__": [[k, x] for k, x in v.items()]}
    if isinstance(v, tuple):
        return list(v)
    return v


def _decode_param(v: Any) -> Any:
    from synthcust.synthesizers.base import REGISTRY

    if isinstance(v, dict) and "__synthesizer__" in v:
        return REGISTRY[v["__synthesizer__"]](**v["params"])
    if isinstance(v, dict) and "__pairs__" in v:
        return {k: x for k, x in v["__pairs__"]}
    return v


def load_oversampler(path: str | os.PathLike) -> _Oversampler:
    """Load any oversampler saved with ``save`` (SMOTE, generative or hybrid).

    Raises
    ------
    ModelFileError
        When ``path`` is not an oversampler model file (another kind, corrupt, newer).
    """
    meta, arrays = load_bundle(path, kind=_KIND)
    classes = {c.__name__: c for c in (SMOTEOversampler, GenerativeOversampler, HybridOversampler)}
    cls = classes.get(meta.get("oversampler", ""))
    if cls is None:
        raise ModelFileError(
            f"{str(path)!r} holds an unknown oversampler {meta.get('oversampler')!r}; "
            "upgrade synthcust"
        )
    try:
        obj = cls(**{k: _decode_param(v) for k, v in meta["params"].items()})
        fitted = meta["fitted"]
        obj.counts_before_ = {k: int(v) for k, v in fitted["counts_before_"]}
        obj.counts_after_ = {k: int(v) for k, v in fitted["counts_after_"]}
        obj.n_synthetic_ = int(fitted["n_synthetic_"])
        obj.notes_ = list(fitted["notes_"])
        obj.synthetic_mask_ = np.asarray(arrays["synthetic_mask_"], dtype=bool)
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{str(path)!r}: oversampler file is corrupt ({e}); re-fit") from e
    return obj


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


class SMOTEOversampler(_Oversampler):
    """SMOTE, SMOTE-NC, SMOTE-N, Borderline-SMOTE-1 or ADASYN (imbalanced-learn) on frames.

    Parameters
    ----------
    kind : {"smote", "smotenc", "smoten", "borderline", "adasyn"}
        The method (see the module docstring for what each does and how categoricals are
        handled).
    sampling_strategy : float or dict
        Ratio minority / majority after resampling (``1.0`` = balanced), or rows per class.
    k_neighbors : int
        Same-class neighbours to interpolate with (ADASYN's ``n_neighbors``); every class that is
        raised needs at least ``k_neighbors + 1`` rows.
    m_neighbors : int
        Borderline-SMOTE only: neighbours (any class) deciding whether a row is in danger.
    categorical : list of str, optional
        Columns to treat as categorical whatever their dtype.
    random_state : int, optional
        Seed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> X = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)})
    >>> y = pd.Series(np.where(X["x"] > 1.2, 1, 0), name="y")
    >>> Xr, yr = SMOTEOversampler(sampling_strategy=0.5, random_state=0).fit_resample(X, y)
    >>> yr.value_counts().sort_index().tolist()
    [186, 93]
    """

    def __init__(
        self,
        kind: str = "smote",
        sampling_strategy: float | Mapping[Any, int] = 1.0,
        k_neighbors: int = 5,
        m_neighbors: int = 10,
        categorical: Sequence[str] | None = None,
        random_state: int | None = None,
    ):
        self.kind = kind
        self.sampling_strategy = sampling_strategy
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.categorical = categorical
        self.random_state = random_state

    def _new_rows(self, X, y, n_new, lay, rng):  # type: ignore[no-untyped-def]
        return smote_rows(
            X, y, n_new, lay, self.kind, self.k_neighbors, self.m_neighbors, rng, self.notes_
        )


def _dense_inverse_ohe() -> Any:
    """SMOTE-NC's default one-hot encoder, decoding from a dense matrix.

    imbalanced-learn hands the encoder a sparse matrix to decode and scipy's sparse row-wise
    ``argmax`` is a Python loop per row (5 s of 8 on Bank); the dense one is vectorised.
    """
    from scipy import sparse
    from sklearn.preprocessing import OneHotEncoder

    class DenseInverseOneHotEncoder(OneHotEncoder):
        def inverse_transform(self, X: Any) -> Any:
            return super().inverse_transform(X.toarray() if sparse.issparse(X) else X)

    return DenseInverseOneHotEncoder(handle_unknown="ignore")


def smote_rows(
    X: pd.DataFrame,
    y: pd.Series,
    n_new: dict[Any, int],
    lay: _Layout,
    kind: str,
    k: int,
    m: int,
    rng: np.random.Generator,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray]:
    """New rows (only) from one SMOTE-family method; ``notes`` gets what was decided."""
    from imblearn.over_sampling import ADASYN, SMOTE, SMOTEN, SMOTENC, BorderlineSMOTE

    if kind not in SMOTE_KINDS:
        raise DataError(f"unknown SMOTE kind {kind!r}; use one of {', '.join(SMOTE_KINDS)}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise DataError(f"k_neighbors must be a whole number >= 1, got {k!r}")
    counts = y.value_counts()
    for cls in n_new:
        have = int(counts[cls])
        if have <= k:
            fix = (
                f"the largest workable k_neighbors is {have - 1} (--k-neighbors {have - 1})"
                if have >= 2
                else "no k works with a single row"
            )
            raise DataError(
                f"class {cls!r} has only {have} row(s), too few for k_neighbors={k}: "
                f"{kind} interpolates between a row and its k nearest same-class neighbours, so "
                f"it needs k + 1 rows; {fix}, or use method='generative', which needs no "
                "neighbours"
            )
    enc = _Encoder(X, lay)
    n_num, n_cat = enc.Z.shape[1], enc.C.shape[1]
    has_cat = bool(lay.categorical)
    if kind == "smote" and has_cat:
        kind = "smotenc" if lay.numeric else "smoten"
        notes.append(
            f"categorical features {lay.categorical} present: SMOTE cannot interpolate them, "
            f"so {kind.upper().replace('SMOTENC', 'SMOTE-NC').replace('SMOTEN', 'SMOTE-N')} "
            "was used"
        )
    elif kind == "smotenc" and not has_cat:
        kind = "smote"
        notes.append("no categorical feature: SMOTE-NC is plain SMOTE here")
    elif kind == "smotenc" and not lay.numeric:
        kind = "smoten"
        notes.append("no numeric feature: SMOTE-NC needs one, SMOTE-N was used")
    elif kind == "smoten" and lay.numeric:
        raise DataError(
            f"smoten is for tables whose features are all categorical; {lay.numeric} are "
            "numeric. Use method='smotenc' (numbers interpolated, categories voted)"
        )
    codes_y, classes = pd.factorize(y)
    cls_code = {c: i for i, c in enumerate(classes)}
    strategy = {cls_code[c]: int(counts[c]) + n for c, n in n_new.items()}
    seed = _seed(rng)
    onehot: list[slice] | None = None
    if kind == "smoten":
        M = enc.C.astype(float)
        sampler: Any = SMOTEN(sampling_strategy=strategy, k_neighbors=k, random_state=seed)
    elif kind == "smotenc":
        M = np.hstack([enc.Z, enc.C.astype(float)])
        sampler = SMOTENC(
            categorical_features=list(range(n_num, n_num + n_cat)),
            categorical_encoder=_dense_inverse_ohe(),
            sampling_strategy=strategy,
            k_neighbors=k,
            random_state=seed,
        )
    else:
        scale = 1.0
        if n_cat:
            minority = np.isin(codes_y, list(strategy))
            sd = enc.Z[minority].std(axis=0) if n_num else np.array([])
            scale = float(np.median(sd)) / 2 if sd.size and np.median(sd) > 0 else 0.5
            notes.append(
                f"{kind}: categorical features {lay.categorical} one-hot encoded (each level "
                "weighted half the median numeric spread, as SMOTE-NC does) and decoded to "
                "the level with the largest interpolated weight"
            )
        M, onehot = enc.one_hot(scale) if n_cat else (enc.Z, [])
        if kind == "borderline":
            sampler = BorderlineSMOTE(
                sampling_strategy=strategy, k_neighbors=k, m_neighbors=m, random_state=seed
            )
        elif kind == "adasyn":
            sampler = ADASYN(sampling_strategy=strategy, n_neighbors=k, random_state=seed)
        else:
            sampler = SMOTE(sampling_strategy=strategy, k_neighbors=k, random_state=seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Mr, yr = sampler.fit_resample(M, codes_y)
    except (ValueError, RuntimeError) as e:
        raise ModelError(
            f"{kind} could not oversample this data ({e}); try method='smote' or 'generative'"
        ) from e
    new, y_new = Mr[len(M) :], np.asarray(yr[len(M) :])
    if kind == "smoten":
        Zn, Cn = np.empty((len(new), 0)), np.rint(new).astype(np.int64)
    elif kind == "smotenc":
        Zn, Cn = new[:, :n_num], np.rint(new[:, n_num:]).astype(np.int64)
    else:
        Zn = new[:, :n_num]
        Cn = (
            np.column_stack([new[:, s].argmax(axis=1) for s in onehot]).astype(np.int64)
            if onehot
            else np.zeros((len(new), 0), dtype=np.int64)
        )
    if kind == "borderline" and len(new) < sum(n_new.values()):
        notes.append(
            "borderline: classes with no row in danger (no other class among its "
            "m_neighbors) get no new rows"
        )
    return enc.decode(Zn, Cn), np.asarray(classes, dtype=object)[y_new]


class GenerativeOversampler(_Oversampler):
    """New minority rows drawn by conditional sampling from a synthcust synthesizer.

    The synthesizer (``"copula"`` by default; any name of
    :data:`synthcust.synthesizers.REGISTRY`, or an unfitted instance to copy the settings of) is
    fitted once per ``fit_resample``: on each raised class's own rows (``per_class=True``,
    default), or on the whole table with the target as a column, the rows of class ``c`` then
    coming from ``sample(n, conditions={target: c})``. Values are then conformed to the input:
    whole-number columns rounded, numbers clipped to the observed range, a category the real
    data never shows (or a missing value where the real column has none) replaced by the most
    frequent value of that class (counted in ``notes_``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> X = pd.DataFrame({"age": rng.integers(18, 70, 400),
    ...                   "plan": rng.choice(["basic", "pro", "team"], 400)})
    >>> y = pd.Series(np.where(rng.random(400) < 0.1, "yes", "no"), name="churn")
    >>> Xr, yr = GenerativeOversampler(random_state=0).fit_resample(X, y)
    >>> (yr == "yes").sum() == (yr == "no").sum(), set(Xr["plan"]) <= {"basic", "pro", "team"}
    (np.True_, True)
    """

    def __init__(
        self,
        synthesizer: Any = "copula",
        synthesizer_params: Mapping[str, Any] | None = None,
        sampling_strategy: float | Mapping[Any, int] = 1.0,
        categorical: Sequence[str] | None = None,
        random_state: int | None = None,
        per_class: bool = True,
    ):
        self.synthesizer = synthesizer
        self.synthesizer_params = synthesizer_params
        self.sampling_strategy = sampling_strategy
        self.categorical = categorical
        self.random_state = random_state
        self.per_class = per_class

    def _new_rows(self, X, y, n_new, lay, rng):  # type: ignore[no-untyped-def]
        return generative_rows(
            X, y, n_new, self.synthesizer, self.synthesizer_params, rng, self.notes_,
            per_class=self.per_class,
        )  # fmt: skip


def build_synthesizer(
    synthesizer: Any, params: Mapping[str, Any] | None, random_state: int | None
) -> Any:
    """A fresh, unfitted synthesizer from a registry name or a template instance."""
    from synthcust.synthesizers import REGISTRY, BaseSynthesizer

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
        models = fitted or fit_per_class(X, y, list(n_new), synthesizer, params, _seed(rng))
        small = [c for c in n_new if c not in models]
        if small:
            notes.append(
                f"class(es) {small} have fewer than {MIN_ROWS_PER_CLASS} rows: their new rows "
                "come from one model of the whole table, conditioned on the class"
            )
    if any(c not in models for c in n_new):
        model, tcol, label = (
            fitted if isinstance(fitted, tuple) else
            fit_conditional(X, y, synthesizer, params, _seed(rng))
        )  # fmt: skip
    parts, ys = [], []
    for cls, n in n_new.items():
        if cls in models:
            syn = models[cls].sample(int(n), random_state=_seed(rng))
        else:
            syn = model.sample(int(n), conditions={tcol: label[cls]}, random_state=_seed(rng))
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
            models[cls] = model.fit(rows)
    return models


def fit_conditional(
    X: pd.DataFrame, y: pd.Series, synthesizer: Any, params: Mapping[str, Any] | None, seed: int
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
        model.fit(frame)
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
            out[c] = _values_back(vals, real)
        else:
            v = _as_float(pd.to_datetime(s) if real.dtype.kind == "M" else s)
            miss = np.isnan(v)
            if miss.any() and not real.isna().any():
                fixed += int(miss.sum())
                med = np.nanmedian(_as_float(cls_real)) if cls_real.notna().any() else 0.0
                v = np.where(miss, med, v)
            out[c] = _numeric_back(v, real)
    if fixed:
        notes.append(
            f"{fixed:,} generated value(s) outside the seen set (or missing where the real "
            "column never is) replaced by the class's most frequent / median value"
        )
    return pd.DataFrame(out)


class HybridOversampler(_Oversampler):
    """``smote_share`` of each class's new rows from SMOTE (``smote_kind``), the rest generative.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> X = pd.DataFrame({"x": rng.normal(size=300), "z": rng.normal(size=300)})
    >>> y = pd.Series(np.where(X["x"] > 1.0, "a", "b"))
    >>> Xr, yr = HybridOversampler(random_state=0).fit_resample(X, y)
    >>> int((yr == "a").sum()) == int((yr == "b").sum())
    True
    """

    def __init__(
        self,
        smote_share: float = 0.5,
        smote_kind: str = "smote",
        synthesizer: Any = "copula",
        synthesizer_params: Mapping[str, Any] | None = None,
        sampling_strategy: float | Mapping[Any, int] = 1.0,
        k_neighbors: int = 5,
        categorical: Sequence[str] | None = None,
        random_state: int | None = None,
        per_class: bool = True,
    ):
        self.smote_share = smote_share
        self.smote_kind = smote_kind
        self.synthesizer = synthesizer
        self.synthesizer_params = synthesizer_params
        self.sampling_strategy = sampling_strategy
        self.k_neighbors = k_neighbors
        self.categorical = categorical
        self.random_state = random_state
        self.per_class = per_class

    def _new_rows(self, X, y, n_new, lay, rng):  # type: ignore[no-untyped-def]
        if not 0 <= self.smote_share <= 1:
            raise DataError(f"smote_share must be in [0, 1], got {self.smote_share}")
        part_s = {c: round(self.smote_share * n) for c, n in n_new.items()}
        part_g = {c: n - part_s[c] for c, n in n_new.items()}
        part_s = {c: n for c, n in part_s.items() if n > 0}
        part_g = {c: n for c, n in part_g.items() if n > 0}
        frames, ys = [], []
        if part_s:
            Xs, ys_ = smote_rows(
                X, y, part_s, lay, self.smote_kind, self.k_neighbors, 10, rng, self.notes_
            )
            frames.append(Xs)
            ys.append(ys_)
        if part_g:
            Xg, yg = generative_rows(
                X, y, part_g, self.synthesizer, self.synthesizer_params, rng, self.notes_,
                per_class=self.per_class,
            )  # fmt: skip
            frames.append(Xg)
            ys.append(yg)
        return pd.concat(frames, ignore_index=True), np.concatenate(ys)


def make_oversampler(
    method: str,
    *,
    sampling_strategy: float | Mapping[Any, int] = 1.0,
    k_neighbors: int = 5,
    synthesizer: Any = "copula",
    synthesizer_params: Mapping[str, Any] | None = None,
    smote_share: float = 0.5,
    categorical: Sequence[str] | None = None,
    random_state: int | None = None,
) -> _Oversampler:
    """The oversampler for ``method`` (one of :data:`METHODS`).

    Examples
    --------
    >>> type(make_oversampler("borderline")).__name__
    'SMOTEOversampler'
    """
    if method in SMOTE_KINDS:
        return SMOTEOversampler(
            method,
            sampling_strategy=sampling_strategy,
            k_neighbors=k_neighbors,
            categorical=categorical,
            random_state=random_state,
        )
    if method == "generative":
        return GenerativeOversampler(
            synthesizer,
            synthesizer_params,
            sampling_strategy=sampling_strategy,
            categorical=categorical,
            random_state=random_state,
        )
    if method == "hybrid":
        return HybridOversampler(
            smote_share,
            synthesizer=synthesizer,
            synthesizer_params=synthesizer_params,
            sampling_strategy=sampling_strategy,
            k_neighbors=k_neighbors,
            categorical=categorical,
            random_state=random_state,
        )
    raise DataError(f"unknown oversampling method {method!r}; use one of {', '.join(METHODS)}")


def resample_frame(
    df: pd.DataFrame, target: str, sampler: _Oversampler
) -> tuple[pd.DataFrame, _Oversampler]:
    """Run ``sampler`` on a table holding its target; the fitted sampler says what it did."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if target not in df.columns:
        raise DataError(
            f"target {target!r} is not a column; columns: {', '.join(map(str, df.columns))}"
        )
    if df.shape[1] < 2:
        raise DataError(f"the table has no feature column besides the target {target!r}")
    Xr, yr = sampler.fit_resample(df.drop(columns=[target]), df[target].rename(target))
    Xr[target] = yr.to_numpy()
    Xr[target] = Xr[target].astype(df[target].dtype)
    return Xr[list(df.columns)], sampler


def rebalance(
    df: pd.DataFrame,
    target: str,
    method: str = "smote",
    ratio: float = 1.0,
    **kwargs: Any,
) -> pd.DataFrame:
    """Rebalance ``df`` on ``target`` so every class has at least ``ratio`` x the majority.

    Same columns, order and dtypes out as in; original rows first, new rows after. ``kwargs``
    go to :func:`make_oversampler` (``k_neighbors``, ``synthesizer``, ``smote_share``,
    ``categorical``, ``random_state``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=100), "y": [1] * 10 + [0] * 90})
    >>> rebalance(df, "y", "smote", 0.5, random_state=0)["y"].value_counts().tolist()
    [90, 45]
    """
    out, _ = resample_frame(df, target, make_oversampler(method, sampling_strategy=ratio, **kwargs))
    return out
