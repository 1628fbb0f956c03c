"""Input checks and column typing shared by every evaluation module.

:func:`align` is the one gate every evaluation passes: it checks that real, synthetic and
holdout frames can be compared, decides which columns are numeric or categorical (the *real*
data decides), and lists the columns that must be skipped and why, so that reports can say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError


@dataclass
class Aligned:
    """Frames restricted to the comparable columns, with their kinds."""

    real: pd.DataFrame
    synthetic: pd.DataFrame
    holdout: pd.DataFrame | None
    numeric: list[str]  # numeric and datetime columns (datetimes as int64 ns via as_numeric)
    categorical: list[str]  # everything else (strings, categories, booleans)
    skipped: list[str] = field(default_factory=list)  # "column 'x': reason"

    @property
    def columns(self) -> list[str]:
        """The compared columns, in the real data's order."""
        return [c for c in self.real.columns if c in self.numeric or c in self.categorical]


def to_epoch_seconds(s: pd.Series, fmt: str | None = None) -> np.ndarray:
    """Datetimes (or text dates) as float seconds since the epoch, NaN where missing.

    >>> to_epoch_seconds(pd.Series(["1970-01-02", None])).tolist()
    [86400.0, nan]
    """
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = pd.to_datetime(s, format=fmt, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = s.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
    ns[s.isna().to_numpy()] = np.nan
    return ns / 1e9


def is_numeric(s: pd.Series) -> bool:
    """Numbers (not booleans) and datetimes are numeric; everything else is categorical."""
    return (
        pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    ) or pd.api.types.is_datetime64_any_dtype(s.dtype)


def as_numeric(s: pd.Series) -> np.ndarray:
    """Float array of a numeric or datetime column (NaN = missing; datetimes in seconds)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        v = s.astype("datetime64[ns]").to_numpy().astype("int64").astype(float) / 1e9
        v[s.isna().to_numpy()] = np.nan
        return v
    v = s.to_numpy(dtype=float, na_value=np.nan)
    v = v.copy()
    v[~np.isfinite(v)] = np.nan
    return v


def as_category_codes(
    series: list[pd.Series], top: int | None = None
) -> tuple[list[np.ndarray], list[str]]:
    """Shared integer codes for the same categorical column in several frames.

    Categories come from the first series (the real data), most frequent first; with ``top``,
    the rest become ``"(other)"``. Missing is its own category ``"(missing)"``; a category found
    only in a later series gets a code of its own (it counts as invented).
    """
    ref = series[0].astype(object).where(series[0].notna(), "(missing)").astype(str)
    vc = ref.value_counts()
    cats = vc.index.tolist()
    other = None
    if top is not None and len(cats) > top:
        cats = cats[:top]
        other = "(other)"
    lookup = {c: i for i, c in enumerate(cats)}
    names = list(cats) + ([other] if other else [])
    out = []
    for s in series:
        t = s.astype(object).where(s.notna(), "(missing)").astype(str)
        codes = t.map(lookup)
        unknown = codes.isna()
        if unknown.any():
            if other is not None:
                codes = codes.fillna(len(cats))
            else:
                for v in pd.unique(t[unknown]):
                    lookup[v] = len(names)
                    names.append(v)
                codes = t.map(lookup)
        out.append(codes.to_numpy(dtype=np.int64))
    return out, names


def align(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    target: str | None = None,
) -> Aligned:
    """Check the frames can be compared; return them with column kinds and skips.

    Errors (:class:`DataError`): an empty frame, a synthetic frame missing real columns, a
    holdout with different columns, a target missing from one side. Skips (listed, not raised):
    columns all-missing in the real data, columns numeric on one side only, columns with a
    single value in the real data (reported, kept).
    """
    for name, df in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
        if df is None:
            continue
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"the {name} data must be a DataFrame, got {type(df).__name__}")
        if len(df) == 0:
            raise DataError(f"the {name} data has no rows; nothing to evaluate")
        cols = [str(c) for c in df.columns]
        dups = sorted({c for c in cols if cols.count(c) > 1})
        if dups:
            raise DataError(f"the {name} data has duplicate columns {dups}; rename them")
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise DataError(
            f"the synthetic data lacks real columns {missing}; sample from a model of this data "
            "or drop those columns from the real data"
        )
    extra = [c for c in synthetic.columns if c not in real.columns]
    skipped = [f"column {c!r}: only in the synthetic data" for c in extra]
    if holdout is not None:
        hm = [c for c in real.columns if c not in holdout.columns]
        if hm:
            raise DataError(f"the holdout lacks columns {hm} that the real train data has")
    if target is not None:
        for name, df in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
            if df is not None and target not in df.columns:
                raise DataError(f"target {target!r} is not in the {name} data")
    numeric, categorical = [], []
    for c in real.columns:
        r, s = real[c], synthetic[c]
        if r.isna().all():
            skipped.append(f"column {c!r}: all values missing in the real data")
            continue
        if is_numeric(r) != is_numeric(s):
            skipped.append(
                f"column {c!r}: {'numeric' if is_numeric(r) else 'categorical'} in the real data "
                f"but {s.dtype} in the synthetic data"
            )
            continue
        if holdout is not None and is_numeric(r) != is_numeric(holdout[c]):
            skipped.append(f"column {c!r}: types differ between real train and holdout")
            continue
        (numeric if is_numeric(r) else categorical).append(c)
    keep = numeric + categorical
    order = [c for c in real.columns if c in keep]
    return Aligned(
        real=real[order],
        synthetic=synthetic[order],
        holdout=None if holdout is None else holdout[order],
        numeric=numeric,
        categorical=categorical,
        skipped=skipped,
    )
