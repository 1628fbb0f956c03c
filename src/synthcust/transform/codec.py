"""TableCodec: a customer table <-> two numeric blocks (numbers, category codes).

Models learn numbers only. The codec parses what the schema says (missing markers, numbers
stored as text, datetimes with a format), puts every numeric/datetime column into one float
block (NaN = missing) and every categorical/boolean column into one integer code block
(-1 = missing), and turns model output back into a frame with the original column order,
dtypes and missing-value spelling. Ids are generated fresh, constants repeated, and free text
(which no tabular model can learn) is left out with a note.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError, NotFittedError
from synthcust.schema.formats import RESOLUTIONS, learn_decimals, learn_resolution
from synthcust.schema.model import Column, Kind, Schema
from synthcust.transform.idpattern import learn_id_pattern, make_ids

_PANDAS2 = int(pd.__version__.split(".")[0]) < 3

#: Categories beyond this many (by frequency) are pooled into one "rare" bucket.
MAX_CATEGORIES = 1000


@dataclass
class ColumnSpec:
    """How one column is encoded and restored (JSON-serialisable)."""

    name: str
    kind: str  # numeric | datetime | categorical | id | constant | text
    dtype: str  # the original pandas dtype, restored on output
    integer: bool = False
    decimals: int | None = None  # numeric: samples rounded to the real values' decimals
    datetime_format: str | None = None
    datetime_unit: str | None = None  # "D" or "s" when a datetime is modelled as a number
    datetime_step: int | None = None  # unit "s": every real value is a multiple (60, 3600)
    datetime_resolution: str | None = None  # day | hour | minute | second: samples keep it
    tz: str | None = None
    as_text: bool = False  # numbers/datetimes stored as text in the source
    missing_token: Any = None  # what "missing" looked like in the source (None = NaN)
    markers: list[str] = field(default_factory=list)  # strings read as missing
    categories: list[Any] = field(default_factory=list)
    rare: list[Any] = field(default_factory=list)  # pooled rare categories
    rare_p: list[float] = field(default_factory=list)
    constant: Any = None
    id_prefix: str = ""
    id_width: int = 0
    id_start: int = 1
    id_pattern: dict[str, Any] = field(default_factory=dict)  # see transform.idpattern
    lower: float | None = None
    upper: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


@dataclass
class Encoded:
    """A table as numeric blocks."""

    numeric: np.ndarray  # (n, p) float64, NaN = missing
    codes: np.ndarray  # (n, q) int32, -1 = missing
    numeric_names: list[str]
    categorical_names: list[str]


_ID_RE = re.compile(r"^(\D*?)(\d+)$")


class TableCodec:
    """Fit on a frame + schema; ``encode`` frames into blocks and ``decode`` blocks to frames."""

    def __init__(self, max_categories: int = MAX_CATEGORIES):
        self.max_categories = max_categories

    # ------------------------------------------------------------------ fit / encode
    def fit(self, df: pd.DataFrame, schema: Schema) -> TableCodec:
        missing = [c.name for c in schema if c.name not in df.columns]
        if missing:
            raise DataError(
                f"columns {missing} are in the schema but not in the data; "
                "re-infer the schema or remove them from it"
            )
        self.specs_: list[ColumnSpec] = []
        self.notes_: list[str] = []
        for col in schema:
            self.specs_.append(self._fit_column(df[col.name], col))
        return self

    def _fit_column(self, s: pd.Series, col: Any) -> ColumnSpec:
        spec = ColumnSpec(name=col.name, kind="numeric", dtype=str(s.dtype))
        markers = list(col.missing_markers)
        spec.markers = markers
        spec.missing_token = _missing_token(s, markers)
        kind = col.kind
        if kind == Kind.TEXT:
            spec.kind = "text"
            self.notes_.append(
                f"column {col.name!r} is free text, which the tabular model cannot learn; "
                "it is left out of the synthetic data"
            )
            return spec
        if kind == Kind.ID:
            spec.kind = "id"
            nn = s.dropna()
            if pd.api.types.is_integer_dtype(s.dtype) or (
                pd.api.types.is_float_dtype(s.dtype) and len(nn) and (nn % 1 == 0).all()
            ):
                spec.integer = True
                spec.id_start = int(nn.max()) + 1 if len(nn) else 1
            else:
                spec.id_pattern = learn_id_pattern(nn)
                m = nn.astype(str).str.extract(_ID_RE.pattern)
                if len(nn) and m[1].notna().all() and m[0].nunique() == 1:
                    spec.id_prefix = str(m[0].iloc[0])
                    spec.id_width = int(m[1].str.len().max())
                    # the sequence starts after the real ids: never a real id
                    digits = m[1].str.lstrip("0").replace("", "0")
                    longest = digits[digits.str.len() == digits.str.len().max()]
                    spec.id_start = int(longest.max()) + 1
                else:
                    spec.id_prefix = "ID-"
                    spec.id_width = 8
            return spec
        values = clean_missing(s, markers)
        if kind in (Kind.NUMERIC, Kind.DATETIME):
            return self._fit_numeric(values, col, spec)
        if kind == Kind.CONSTANT:
            nn = values.dropna()
            if len(nn) == 0 or len(nn) == len(values):
                spec.kind = "constant"
                spec.constant = nn.iloc[0] if len(nn) else None
                if isinstance(spec.constant, np.generic):
                    spec.constant = spec.constant.item()
                if isinstance(spec.constant, pd.Timestamp):
                    spec.constant = str(spec.constant)
                return spec
        # categorical / boolean / constant-with-missing
        spec.kind = "categorical"
        vc = values.value_counts(dropna=True, sort=True)
        cats = vc.index.tolist()
        if len(cats) > self.max_categories:
            keep = self.max_categories - 1
            rare_counts = vc.iloc[keep:]
            spec.rare = [to_python(v) for v in rare_counts.index.tolist()]
            spec.rare_p = (rare_counts / rare_counts.sum()).tolist()
            cats = cats[:keep]
            self.notes_.append(
                f"column {col.name!r} has {len(vc):,} categories; the {len(rare_counts):,} "
                f"rarest are pooled into one bucket and drawn by frequency within it"
            )
        spec.categories = [to_python(v) for v in cats]
        return spec

    def _fit_numeric(self, values: pd.Series, col: Any, spec: ColumnSpec) -> ColumnSpec:
        """A numeric or datetime column's spec: bounds, decimals, whole numbers, resolution."""
        x, spec = self._numeric_values(values, col, spec)
        finite = x[np.isfinite(x)]
        if len(finite) == 0:
            spec.kind = "constant"
            spec.constant = None
            return spec
        if spec.kind == "datetime":
            spec.datetime_resolution = _resolution(values, col, spec)
        if spec.kind == "numeric" and not spec.integer:
            # the schema's decimals; a schema from before they were learned: from the data
            dec = getattr(col, "decimals", None)
            spec.decimals = dec if dec is not None else learn_decimals(finite)
        if (
            spec.kind == "numeric"
            and spec.integer
            and not spec.as_text
            and spec.dtype.startswith("float")
            and bool(np.isnan(x).any())
        ):
            # whole numbers with gaps: pandas read them as floats; they come back as
            # whole numbers with gaps (nullable Int64), not as 3.0
            spec.dtype = "Int64"
        spec.lower = float(finite.min()) if col.lower is None else col.lower
        spec.upper = float(finite.max()) if col.upper is None else col.upper
        return spec

    def _numeric_values(self, values: pd.Series, col: Any, spec: ColumnSpec) -> tuple:
        if col.kind == Kind.DATETIME:
            spec.kind = "datetime"
            if pd.api.types.is_datetime64_any_dtype(values.dtype):
                dt = values
            else:
                spec.as_text = True
                spec.datetime_format = col.datetime_format
                dt = pd.to_datetime(values, format=col.datetime_format, errors="coerce")
                bad = values.notna() & dt.isna()
                if bad.any():
                    ex = values[bad].iloc[0]
                    raise DataError(
                        f"column {col.name!r}: value {ex!r} (row {bad.idxmax()}) is not a date in "
                        f"format {col.datetime_format!r} ({int(bad.sum())} such values); fix them, "
                        f"or add {ex!r} to the column's missing_markers in the schema"
                    )
            if getattr(dt.dt, "tz", None) is not None:
                spec.tz = str(dt.dt.tz)
                dt = dt.dt.tz_convert("UTC").dt.tz_localize(None)
            ns = dt.astype("datetime64[ns]").to_numpy().astype("int64").astype(float)
            ns[dt.isna().to_numpy()] = np.nan
            secs = ns / 1e9
            finite = secs[np.isfinite(secs)]
            if len(finite) and np.all(np.mod(finite, 86400) == 0):
                spec.datetime_unit = "D"
                x = secs / 86400.0
            else:
                spec.datetime_unit = "s"
                x = np.round(secs)
                # minute or hour resolution in the data: synthetic times keep it
                whole = x[np.isfinite(x)]
                for step in (3600, 60):
                    if len(whole) and np.all(np.mod(whole, step) == 0):
                        spec.datetime_step = step
                        break
            spec.integer = True
            return x, spec
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            x = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            spec.as_text = not pd.api.types.is_bool_dtype(values.dtype)
            txt = values.astype(str).str.strip().str.replace(",", "", regex=False)
            parsed = pd.to_numeric(txt, errors="coerce")
            bad = values.notna() & parsed.isna()
            if bad.any():
                ex = values[bad].iloc[0]
                raise DataError(
                    f"column {col.name!r}: value {ex!r} is not a number ({int(bad.sum())} such "
                    f"values); fix them, declare {ex!r} a missing marker, or change the "
                    "column's kind to 'categorical' in the schema"
                )
            x = parsed.to_numpy(dtype=float, na_value=np.nan)
        x = x.copy()
        x[~np.isfinite(x)] = np.nan
        finite = x[np.isfinite(x)]
        spec.integer = bool(col.integer or (len(finite) and np.all(np.mod(finite, 1) == 0)))
        return x, spec

    def encode(self, df: pd.DataFrame) -> Encoded:
        """Turn ``df`` into numeric blocks (the frame is not modified)."""
        self._check_fitted()
        nums, num_names, codes, cat_names = [], [], [], []
        for spec in self.specs_:
            if spec.kind in ("numeric", "datetime"):
                s = clean_missing(df[spec.name], spec.markers)
                col = Column(
                    spec.name,
                    Kind.DATETIME if spec.kind == "datetime" else Kind.NUMERIC,
                    integer=spec.integer,
                    datetime_format=spec.datetime_format,
                )
                x, _ = self._numeric_values(s, col, ColumnSpec(spec.name, spec.kind, spec.dtype))
                nums.append(x)
                num_names.append(spec.name)
            elif spec.kind == "categorical":
                s = clean_missing(df[spec.name], spec.markers)
                lookup = {v: i for i, v in enumerate(spec.categories)}
                rare_code = len(spec.categories)
                for v in spec.rare:
                    lookup[v] = rare_code
                arr = s.map(lookup)
                # values unseen at fit time become missing rather than a wrong category
                codes.append(arr.fillna(-1).to_numpy(dtype=np.int32))
                cat_names.append(spec.name)
        n = len(df)
        numeric = np.column_stack(nums) if nums else np.empty((n, 0))
        code_block = (
            np.column_stack(codes).astype(np.int32) if codes else np.empty((n, 0), np.int32)
        )
        return Encoded(numeric, code_block, num_names, cat_names)

    def n_categories(self, name: str) -> int:
        spec = self.spec(name)
        return len(spec.categories) + (1 if spec.rare else 0)

    def spec(self, name: str) -> ColumnSpec:
        for s in self.specs_:
            if s.name == name:
                return s
        raise KeyError(name)

    # ------------------------------------------------------------------ decode
    def decode(self, enc: Encoded, rng: np.random.Generator) -> pd.DataFrame:
        """Turn model output blocks back into a frame like the one fitted."""
        self._check_fitted()
        n = enc.numeric.shape[0] if enc.numeric.size or enc.numeric.shape[0] else enc.codes.shape[0]
        num_idx = {name: i for i, name in enumerate(enc.numeric_names)}
        cat_idx = {name: i for i, name in enumerate(enc.categorical_names)}
        out: dict[str, Any] = {}
        for spec in self.specs_:
            if spec.kind == "text":
                continue
            if spec.kind in ("numeric", "datetime"):
                out[spec.name] = restore_numeric(enc.numeric[:, num_idx[spec.name]], spec)
            elif spec.kind == "categorical":
                out[spec.name] = _restore_categorical(enc.codes[:, cat_idx[spec.name]], spec, rng)
            elif spec.kind == "constant":
                out[spec.name] = _restore_constant(n, spec)
            elif spec.kind == "id":
                out[spec.name] = restore_id(n, spec, rng)
        # concat keeps one block per column: pd.DataFrame(dict) would consolidate same-dtype
        # columns into 2-D blocks, a full extra copy of the output at peak
        cols = [v.rename(k).reset_index(drop=True) for k, v in out.items()]
        if not cols:
            return pd.DataFrame(index=pd.RangeIndex(n))
        return pd.concat(cols, axis=1, copy=False) if _PANDAS2 else pd.concat(cols, axis=1)

    @property
    def output_columns(self) -> list[str]:
        return [s.name for s in self.specs_ if s.kind != "text"]

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "max_categories": self.max_categories,
            "specs": [s.to_dict() for s in self.specs_],
            "notes": list(self.notes_),
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> TableCodec:
        codec = TableCodec(int(d["max_categories"]))
        codec.specs_ = [ColumnSpec(**s) for s in d["specs"]]
        codec.notes_ = list(d.get("notes", []))
        return codec

    def _check_fitted(self) -> None:
        if not hasattr(self, "specs_"):
            raise NotFittedError("TableCodec is not fitted; call fit(df, schema) first")


# ---------------------------------------------------------------------- helpers
def to_python(v: Any) -> Any:
    """A NumPy scalar as the Python value (timestamps as text), for JSON."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return str(v)
    return v


def clean_missing(s: pd.Series, markers: list[str]) -> pd.Series:
    """``s`` with its missing markers (``"?"``, ``"n/a"``...) and infinities as missing."""
    if markers and (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
        s = s.where(~s.isin(markers))
    if pd.api.types.is_float_dtype(s.dtype):
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        if not np.isfinite(arr[~np.isnan(arr)]).all():
            s = s.where(np.isfinite(arr))
    return s


def _resolution(values: pd.Series, col: Any, spec: ColumnSpec) -> str | None:
    """The schema's resolution of a datetime column; a schema from before: from the data."""
    res = getattr(col, "resolution", None)
    if res in RESOLUTIONS:
        return str(res)
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = pd.to_datetime(values, format=spec.datetime_format, errors="coerce")
    return learn_resolution(values)


def _missing_token(s: pd.Series, markers: list[str]) -> Any:
    """The most frequent spelling of "missing" in the source column (None = a real NaN)."""
    if not markers:
        return None
    n_nan = int(s.isna().sum())
    counts = s[s.isin(markers)].value_counts()
    if len(counts) and int(counts.iloc[0]) >= n_nan:
        return str(counts.index[0])
    return None


def restore_numeric(x: np.ndarray, spec: ColumnSpec) -> pd.Series:
    """Encoded numbers back to the column as it was (bounds, integers, dates, dtype)."""
    x = x.astype(float, copy=True)
    miss = np.isnan(x)
    if spec.lower is not None or spec.upper is not None:
        np.clip(x, spec.lower, spec.upper, out=x, where=~miss)
    if spec.integer:
        np.round(x, out=x)
    elif spec.decimals is not None and spec.kind == "numeric":
        np.round(x, spec.decimals, out=x)
    if spec.kind == "datetime":
        if spec.datetime_step:
            x = np.round(x / spec.datetime_step) * spec.datetime_step
        scale = 86400.0 if spec.datetime_unit == "D" else 1.0
        ns = np.where(miss, 0, x * scale * 1e9).astype("int64")
        vals = pd.Series(ns.view("datetime64[ns]"))
        vals[miss] = pd.NaT
        if spec.tz:
            vals = vals.dt.tz_localize("UTC").dt.tz_convert(spec.tz)
        if spec.datetime_resolution in RESOLUTIONS:
            vals = round_datetimes(vals, spec.datetime_resolution)
        if spec.as_text:
            txt = vals.dt.strftime(spec.datetime_format or "%Y-%m-%d")
            return _with_missing(txt, miss, spec)
        try:
            return vals.astype(spec.dtype)
        except (TypeError, ValueError):
            return vals
    if spec.as_text:
        filled = np.where(miss, 0.0, x)
        txt = pd.Series(
            filled.astype(np.int64).astype(str) if spec.integer else np.char.mod("%.12g", filled)
        )
        return _with_missing(txt, miss, spec)
    s = pd.Series(x)
    if miss.any():
        if spec.dtype.startswith(("int", "Int", "uint", "UInt")):
            return s.astype("Int64") if spec.dtype[0] == "I" else s
        return s.astype(spec.dtype) if spec.dtype.startswith("float") else s
    try:
        return s.astype(spec.dtype)
    except (TypeError, ValueError):
        return s


def round_datetimes(vals: pd.Series, resolution: str) -> pd.Series:
    """Datetimes rounded to ``resolution`` (``day``, ``hour``, ``minute``, ``second``) on their
    wall-clock time, so that local dates stay dates in a time-zone-aware column.

    >>> round_datetimes(pd.Series(pd.to_datetime(["2024-01-05 10:31:40"])), "minute")[0]
    Timestamp('2024-01-05 10:32:00')
    """
    freq = RESOLUTIONS[resolution][1]
    tz = getattr(vals.dt, "tz", None)
    if tz is None:
        return vals.dt.round(freq)
    local = vals.dt.tz_localize(None).dt.round(freq)
    return local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")


def _with_missing(txt: pd.Series, miss: np.ndarray, spec: ColumnSpec) -> pd.Series:
    fill = spec.missing_token if spec.missing_token is not None else None
    out = txt.astype(object)
    out[miss] = fill if fill is not None else np.nan
    return astype_safe(out, spec.dtype)


def astype_safe(s: pd.Series, dtype: str) -> pd.Series:
    """``s.astype(dtype)``, or ``s`` unchanged when the values do not fit ``dtype``."""
    try:
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s


def _restore_categorical(
    codes: np.ndarray, spec: ColumnSpec, rng: np.random.Generator
) -> pd.Series:
    cats = list(spec.categories)
    n_main = len(cats)
    codes = codes.astype(np.int64, copy=True)
    if spec.rare:
        rare_rows = codes == n_main
        k = int(rare_rows.sum())
        if k:
            pick = rng.choice(
                len(spec.rare), size=k, p=np.asarray(spec.rare_p) / np.sum(spec.rare_p)
            )
            codes[rare_rows] = n_main + pick
        cats = cats + list(spec.rare)
    miss = codes < 0
    token = spec.missing_token
    if token is not None and miss.any():
        if token in cats:
            codes[miss] = cats.index(token)
        else:
            cats = [*cats, token]
            codes[miss] = len(cats) - 1
        miss = codes < 0
    dtype = spec.dtype
    if dtype == "category":
        return pd.Series(pd.Categorical.from_codes(codes, categories=cats))
    values = np.asarray(cats, dtype=object)[np.where(miss, 0, codes)]
    s = pd.Series(values, dtype=object)
    if miss.any():
        s[miss] = np.nan
        if dtype == "bool":
            return s.astype("boolean")
        if dtype.startswith("int"):
            return s.astype("Int64")
    return astype_safe(s, dtype)


def _restore_constant(n: int, spec: ColumnSpec) -> pd.Series:
    if spec.constant is None:
        val = spec.missing_token if spec.missing_token is not None else np.nan
        return astype_safe(pd.Series([val] * n, dtype=object), spec.dtype)
    s = pd.Series(np.repeat(np.asarray([spec.constant], dtype=object), n))
    if spec.dtype.startswith("datetime"):
        return pd.to_datetime(s).astype(spec.dtype)
    return astype_safe(s, spec.dtype)


def restore_id(n: int, spec: ColumnSpec, rng: np.random.Generator | None = None) -> pd.Series:
    """``n`` fresh ids in the column's style, unique and never a real id.

    String ids with a learned pattern (:mod:`synthcust.transform.idpattern`) are drawn in it
    (``rng``; ``None``: a fixed seed); otherwise ids are sequential after the real ones, with
    the real prefix and zero padding (``ID-00000001`` when the ids have no such structure).
    """
    if spec.id_pattern and not spec.integer:
        drawn = make_ids(n, spec.id_pattern, rng if rng is not None else np.random.default_rng(0))
        if drawn is not None:
            return astype_safe(pd.Series(drawn, dtype=object), spec.dtype)
    seq = np.arange(spec.id_start, spec.id_start + n)
    if spec.integer:
        return astype_safe(pd.Series(seq), spec.dtype)
    width = max(spec.id_width, len(str(spec.id_start + n - 1)))
    txt = pd.Series(seq).astype(str).str.zfill(width)
    return astype_safe(spec.id_prefix + txt, spec.dtype)
