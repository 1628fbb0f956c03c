"""Personas from a mixed-type customer table: a latent-class mixture model fitted by EM.

Method
------
Each customer belongs to one of ``k`` latent classes (personas). Within a class the columns are
independent (the *local independence* of latent class analysis, as in LatentGOLD or StepMix):

* a **numeric** (or date) column is Yeo-Johnson transformed when it is skewed (lambda by
  maximum likelihood), standardised, and modelled as a Gaussian per class. Ties are not
  squeezed onto one point: a value that occurs more than once owns the *interval* reaching
  half-way to its neighbouring values (open-ended at the smallest and largest value), and
  enters the likelihood as the class's probability of that interval (an interval-censored
  Gaussian: ordinal probit for integer scales, Tobit for a point mass at the minimum). So point
  masses (``spend == 0``, ``pdays == -1``) and small integer scales (ratings 1-5) are modelled
  instead of producing the infinite-density spikes that make a plain Gaussian mixture collapse
  onto tied values. (A marginal rank-Gauss transform was tried and rejected: it squeezes
  well-separated groups together and distorts their within-group shape, so BIC over-splits.)
* its **missingness** has its own probability per class (missing is informative: customers who
  never ordered have no order value);
* a **categorical** (or boolean) column has a categorical distribution per class; "missing" is
  a level; levels beyond ``max_levels`` are pooled as ``(other)``.

Why not a Gaussian mixture on standardised numbers plus one-hot columns: one-hot dummies are
not Gaussian, so that model is misspecified and its BIC meaningless; k-prototypes has no
likelihood at all, so the number of segments cannot be chosen by BIC. The latent-class model
has a proper likelihood over mixed data and missing values, so BIC/ICL are well defined.

EM is fully vectorised: every column is reduced to its distinct *cells* (categories, tied
values, single values read at 1/200 of a standard deviation), stacked over all columns; the
E-step evaluates cells x classes in one pass and gathers them into rows, the M-step aggregates
responsibilities per cell with one sparse product and uses truncated-normal moments for
interval cells. The cost per iteration grows with rows only through that gather and product.

Choosing the number of personas
--------------------------------
For every ``k`` in ``k_range`` (default 2..8) ``n_init`` fits are run, each on a different
random 80% of a selection sample (at most ``selection_rows`` rows), each from a different
k-means++ start. Then, on the selection sample:

* ``bic`` (default): the best fit, refined by EM on the whole sample; k with the lowest BIC.
* ``icl``: BIC plus twice the classification entropy; prefers well-separated personas.
* ``silhouette``: silhouette of the hard labels on the design matrix (standardised numbers and
  one-hot/sqrt(2)); k with the highest value.
* ``stability``: mean adjusted Rand index between the ``n_init`` fits' labels on the sample
  (different subsamples and starts); among the k whose stability is within
  ``stability_tolerance`` (0.05) of the most stable one, the largest (k = 2 is often trivially
  stable).

Only k whose smallest persona holds at least ``min_share`` of the customers are candidates
(when any is). Every figure for every k is kept in ``selection_``. The chosen k is then refitted
on all rows (warm start from the selection fit).

Stable labels
-------------
Personas are ordered by size (largest first) and named ``P1``, ``P2`` ...; ``fit(df,
reference=previous)`` instead aligns them to an earlier model's personas by Hungarian matching
on their agreement, and :func:`align_labels` does the same for any two labelings.

Examples
--------
>>> from synthcust.demo import simulate_customers
>>> df = simulate_customers(600, random_state=0, with_pii=False)
>>> seg = PersonaSegmenter(k=3, random_state=0).fit(df)
>>> seg.personas_
['P1', 'P2', 'P3']
>>> seg.predict(df.head(3)).shape
(3,)
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.optimize import linear_sum_assignment
from scipy.special import log_ndtr, logsumexp
from threadpoolctl import threadpool_limits

from synthcust.exceptions import DataError, ModelFileError, NotFittedError
from synthcust.schema.model import Kind, Schema, unknown_column_message

__all__ = ["CRITERIA", "KDiagnostics", "PersonaSegmenter", "align_labels"]

CRITERIA = ("bic", "icl", "silhouette", "stability")
FORMAT = "synthcust-personas"
FORMAT_VERSION = 1
MIN_ROWS_PER_PERSONA = 5
_LOG2PI = float(np.log(2 * np.pi))
_VAR_FLOOR = 1e-3  # in normal-score units (the column's variance is about 1)
_ALPHA = 0.5  # Dirichlet pseudo-count of categorical and missingness probabilities
_MAX_ATOMS = 4000
_STEPS = 200


# ------------------------------------------------------------------------------- columns
MISSING_LEVEL = "(missing)"
OTHER_LEVEL = "(other)"


@dataclass
class ColumnPlan:
    """Which columns are used and how each is read (JSON-able; learned in ``fit``)."""

    numeric: list[str]
    dates: list[str]  # the numeric columns that hold dates (used as days since 1970)
    categorical: list[str]
    levels: dict[str, list[str]]
    markers: dict[str, list[str]]
    notes: list[str]
    formats: dict[str, str] = dataclasses.field(default_factory=dict)  # dates read from text

    @property
    def used(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @property
    def n_levels(self) -> list[int]:
        return [len(self.levels[c]) for c in self.categorical]

    def clean(
        self, df: pd.DataFrame, check: bool = False, keep_dates: bool = False
    ) -> pd.DataFrame:
        """The used columns: numbers as float (dates as days), categories as text or NaN."""
        if check:
            missing = [c for c in self.used if c not in df.columns]
            if missing:
                raise DataError(
                    f"columns {missing} the personas were built on are not in the table; "
                    f"it has {list(df.columns)[:20]}"
                )
        out = {}
        for c in self.used:
            s = df[c]
            if self.markers.get(c):
                s = s.mask(s.astype(str).str.strip().str.lower().isin(self.markers[c]))
            if c in self.dates:
                t = _to_datetime(s, self.formats.get(c))
                out[c] = t if keep_dates else _days(t)
            elif c in self.numeric:
                out[c] = pd.to_numeric(s, errors="coerce").astype(float)
            else:
                out[c] = s.astype(object).where(s.notna(), None).map(
                    lambda v: None if v is None else str(v)
                )
        return pd.DataFrame(out, index=df.index)

    def codes(self, clean: pd.DataFrame, col: str) -> np.ndarray:
        """Level index per row; missing -> ``(missing)``, unseen -> ``(other)``, else -1."""
        levels = self.levels[col]
        s = clean[col]
        codes = pd.Categorical(s, categories=levels).codes.astype(np.int64)
        if MISSING_LEVEL in levels:
            codes[s.isna().to_numpy()] = levels.index(MISSING_LEVEL)
        if OTHER_LEVEL in levels:
            codes[(codes < 0) & s.notna().to_numpy()] = levels.index(OTHER_LEVEL)
        return codes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ColumnPlan:
        return ColumnPlan(
            list(d["numeric"]), list(d["dates"]), list(d["categorical"]),
            {k: list(v) for k, v in d["levels"].items()},
            {k: list(v) for k, v in d["markers"].items()}, list(d.get("notes", [])),
            {k: str(v) for k, v in (d.get("formats") or {}).items()},
        )


def _to_datetime(s: pd.Series, fmt: str | None) -> pd.Series:
    """Datetimes of ``s``; text parsed with the schema's format, unparseable values missing."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    return pd.to_datetime(s, errors="coerce", format=fmt) if fmt else \
        pd.to_datetime(s, errors="coerce", format="mixed")


def _days(t: pd.Series) -> pd.Series:
    """Datetimes as (float) days since 1970-01-01, NaN where missing."""
    t = t.dt.tz_localize(None) if getattr(t.dt, "tz", None) is not None else t
    v = t.astype("datetime64[s]").astype("int64").astype(float) / 86400.0
    return v.where(t.notna())


def plan_columns(
    df: pd.DataFrame,
    *,
    schema: Schema | None = None,
    columns: list[str] | None = None,
    exclude: list[str] | None = None,
    max_levels: int = 30,
) -> ColumnPlan:
    """Pick the columns personas are built on and learn how to read each.

    Never used: id/key columns, PII (any column the schema marks with a PII kind), free text,
    constant or entirely missing columns. Naming one of those in ``columns`` is an error;
    the automatic choice leaves them out and says so in ``notes``.
    """
    from synthcust.schema.infer import infer_schema

    if schema is None:
        schema = infer_schema(df)
    explicit = columns is not None
    if explicit:
        if not columns:
            raise DataError("columns is empty; name at least one column to segment on")
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise DataError(unknown_column_message(unknown[0], [str(c) for c in df.columns]))
        names = list(dict.fromkeys(columns))
    else:
        skip = set(exclude or [])
        unknown = sorted(skip - set(map(str, df.columns)))
        if unknown:
            raise DataError(unknown_column_message(unknown[0], [str(c) for c in df.columns]))
        names = [c for c in df.columns if c not in skip]
    numeric, dates, cats, notes, why = [], [], [], [], []
    levels: dict[str, list[str]] = {}
    markers: dict[str, list[str]] = {}
    formats: dict[str, str] = {}
    for name in names:
        col = schema[name] if name in schema else None  # noqa: SIM401 (Schema has no get)
        reason = None
        if col is None:
            reason = "not in the schema"
        elif col.pii is not None:
            reason = f"PII: {col.pii.value}"
        elif col.kind in (Kind.ID, Kind.TEXT):
            reason = f"an {col.kind.value} column" if col.kind == Kind.ID else "free text"
        elif col.role is not None and col.role.value == "key":
            reason = "a key column"
        if reason is None:
            mk = [m.strip().lower() for m in col.missing_markers]
            s = df[name]
            if mk:
                s = s.mask(s.astype(str).str.strip().str.lower().isin(mk))
            if s.isna().all():
                reason = "entirely missing"
            elif s.nunique(dropna=True) < 2:
                reason = "constant (one value)"
        if reason is None and col.kind in (Kind.NUMERIC, Kind.DATETIME):
            vals = (
                _days(_to_datetime(s, col.datetime_format))
                if col.kind == Kind.DATETIME
                else pd.to_numeric(s, errors="coerce")
            )
            if vals.notna().sum() == 0:
                reason = "entirely missing (no value reads as a number or date)"
            else:
                numeric.append(name)
                if col.kind == Kind.DATETIME:
                    dates.append(name)
                    if col.datetime_format:
                        formats[name] = col.datetime_format
        elif reason is None:
            text = s.dropna().astype(str)
            vc = text.value_counts()
            if not explicit and len(vc) > 50 and len(vc) > 0.5 * len(text):
                reason = f"near-unique categories ({len(vc):,} distinct)"
            else:
                keep = [str(v) for v in vc.index[: max_levels if len(vc) <= max_levels
                                                  else max_levels - 1]]
                if len(vc) > len(keep):
                    keep.append(OTHER_LEVEL)
                    notes.append(
                        f"column {name!r}: {len(vc) - len(keep) + 1} rare categories pooled "
                        f"as {OTHER_LEVEL!r} (max_levels={max_levels})"
                    )
                if s.isna().any():
                    keep.append(MISSING_LEVEL)
                levels[name] = keep
                cats.append(name)
        if reason is not None:
            if explicit:
                raise DataError(
                    f"column {name!r} cannot be used for personas: it is {reason}; "
                    "leave it out of the columns"
                )
            why.append(f"{name} ({reason})")
        elif col is not None and col.missing_markers:
            markers[name] = [m.strip().lower() for m in col.missing_markers]
    if not numeric and not cats:
        detail = "; ".join(why) if why else "no columns"
        raise DataError(
            f"no usable columns for personas: {detail}. Personas need numeric, categorical, "
            "boolean or date columns that are not ids or PII"
        )
    if why:
        notes.insert(0, "left out (ids, PII and free text are never used): " + ", ".join(why))
    for c in dates:
        notes.append(f"date column {c!r} used as days since 1970-01-01")
    return ColumnPlan(numeric, dates, cats, levels, markers, notes, formats)


# ------------------------------------------------------------------------------- encoders
@dataclass
class _NumEncoder:
    """How one numeric column is read, as learned from the training rows (JSON-able).

    Values are Yeo-Johnson transformed (``lam``; 1 = unchanged, used unless the column is
    skewed) and standardised. A value that occurs more than once (a tie: an integer scale, a
    point mass such as ``spend == 0``) is an *interval* reaching half-way to its neighbours, and
    to -inf/+inf at the ends (a Tobit/ordinal-probit reading); other values are points.
    """

    name: str
    lam: float
    center: float
    scale: float
    atoms_x: np.ndarray  # tied values, sorted ...
    atoms_lo: np.ndarray  # ... and the interval each owns (standardised units)
    atoms_hi: np.ndarray
    has_missing: bool

    @staticmethod
    def learn(name: str, x: np.ndarray, transform: bool = True) -> _NumEncoder:
        obs = x[np.isfinite(x)]
        lam = 1.0
        if transform and len(obs) > 2 and abs(float(stats.skew(obs))) > 0.75:
            sub = obs if len(obs) <= 5000 else \
                np.random.default_rng(0).choice(obs, 5000, replace=False)
            with np.errstate(all="ignore"):
                lam = float(np.clip(stats.yeojohnson_normmax(sub), -3, 3))
        t = stats.yeojohnson(obs, lam) if lam != 1.0 else obs
        center = float(np.mean(t))
        scale = float(np.std(t)) or 1.0
        vals, counts = np.unique(obs, return_counts=True)
        tv = (_yj(vals, lam) - center) / scale
        mids = (tv[1:] + tv[:-1]) / 2
        lo = np.concatenate([[-np.inf], mids])
        hi = np.concatenate([mids, [np.inf]])
        tied = np.flatnonzero(counts >= 2)
        if len(tied) > _MAX_ATOMS:
            tied = np.sort(tied[np.argsort(-counts[tied], kind="stable")[:_MAX_ATOMS]])
        return _NumEncoder(name, lam, center, scale, vals[tied], lo[tied], hi[tied],
                           bool(len(obs) < len(x)))

    def cells(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """``(lo, hi, codes, n_atoms)``: cells (atoms first, then points) and each row's cell.

        Missing rows get code ``len(lo)``.
        """
        miss = ~np.isfinite(x)
        na = len(self.atoms_x)
        pos = np.clip(np.searchsorted(self.atoms_x, x), 0, max(na - 1, 0))
        is_atom = ~miss & (na > 0) & (self.atoms_x[pos] == x if na else False)
        pts = ~miss & ~is_atom
        # points are read at a resolution of 1/_STEPS standard deviation (clipped at +-6):
        # a bounded number of cells per column, so EM costs the same for 5,000 or 5,000,000 rows
        z = np.clip((_yj(x[pts], self.lam) - self.center) / self.scale, -6, 6)
        uz, inv = np.unique(np.round(z * _STEPS) / _STEPS, return_inverse=True)
        used, a_inv = np.unique(pos[is_atom], return_inverse=True)  # only atoms that occur
        lo = np.concatenate([self.atoms_lo[used], uz])
        hi = np.concatenate([self.atoms_hi[used], uz])
        codes = np.full(len(x), len(lo), dtype=np.int64)
        codes[is_atom] = a_inv
        codes[pts] = len(used) + inv
        return lo, hi, codes, len(used)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)  # open interval ends (+-inf) as +-1e300: strict JSON has no infinity
        return {k: (np.clip(v, -1e300, 1e300).tolist() if isinstance(v, np.ndarray) else v)
                for k, v in d.items()}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> _NumEncoder:
        arr = {k: np.asarray(d[k], dtype=float) for k in _NUM_ARRAYS}
        for k in ("atoms_lo", "atoms_hi"):
            arr[k][np.abs(arr[k]) >= 1e300] *= np.inf
        return _NumEncoder(
            name=str(d["name"]), lam=float(d["lam"]), center=float(d["center"]),
            scale=float(d["scale"]), has_missing=bool(d["has_missing"]), **arr,
        )


def _yj(x: np.ndarray, lam: float) -> np.ndarray:
    return x if lam == 1.0 else stats.yeojohnson(x, lam)


_NUM_ARRAYS = ("atoms_x", "atoms_lo", "atoms_hi")


# ------------------------------------------------------------------------------- numerics
def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x <= 0, accurate near 0 and for very negative x."""
    with np.errstate(divide="ignore"):
        return np.where(x > -0.6931, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _log_interval(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a < b (either may be infinite), stable in both tails."""
    flip = a > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    lb, la = log_ndtr(hi), log_ndtr(lo)
    with np.errstate(invalid="ignore"):
        return lb + _log1mexp(np.minimum(la - lb, 0.0))


def _log_pdf(z: np.ndarray) -> np.ndarray:
    return -0.5 * z * z - 0.5 * _LOG2PI


@dataclass
class _Data:
    """A table reduced to cells, stacked over columns so one array op serves every column.

    Numeric cells (per column: its tied values, its single values, then one "missing" cell)
    come first, then the categorical levels, then one all-zero cell for unseen levels.
    ``codes[i, j]`` is the cell of row i in column j; ``at`` is the transposed one-hot
    (cells x rows) that aggregates responsibilities per cell in one sparse product.
    """

    n: int
    lo: np.ndarray  # numeric cells: normal-score interval (lo == hi for single values)
    hi: np.ndarray
    cell_col: np.ndarray  # numeric column of each numeric cell
    is_atom: np.ndarray
    is_miss: np.ndarray
    starts: np.ndarray  # first cell of each numeric column
    miss_cell: np.ndarray  # the missing cell of each numeric column
    lev_col: np.ndarray  # categorical column of each level cell
    lev_starts: np.ndarray
    codes: np.ndarray  # (n, columns) global cell index
    at: sparse.csr_matrix

    @property
    def n_cells(self) -> int:
        return len(self.lo) + len(self.lev_col) + 1

    def subset(self, rows: np.ndarray) -> _Data:
        codes = self.codes[rows]
        return dataclasses.replace(
            self, n=len(rows), codes=codes, at=_transposed_onehot(codes, self.n_cells)
        )


def _transposed_onehot(codes: np.ndarray, width: int) -> sparse.csr_matrix:
    n, p = codes.shape
    rows = np.repeat(np.arange(n), p)
    m = sparse.csr_matrix((np.ones(n * p), (codes.ravel(), rows)), shape=(width, n))
    m.sum_duplicates()
    return m


def _onehot(codes: np.ndarray, width: int) -> sparse.csr_matrix:
    return _transposed_onehot(codes[:, None], width).T.tocsr()


@dataclass
class _Params:
    """Mixture parameters: numeric ones (numeric columns, k), levels (level cells, k)."""

    log_w: np.ndarray
    mu: np.ndarray
    sd: np.ndarray
    log_miss: np.ndarray  # log P(missing); -inf where a column had no missing value
    log_theta: np.ndarray

    @property
    def k(self) -> int:
        return len(self.log_w)

    def permute(self, order: np.ndarray) -> _Params:
        return _Params(
            self.log_w[order], self.mu[:, order], self.sd[:, order],
            self.log_miss[:, order], self.log_theta[:, order],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "log_w": self.log_w.tolist(),
            "mu": self.mu.tolist(),
            "sd": self.sd.tolist(),
            "log_miss": np.maximum(self.log_miss, -1e300).tolist(),
            "log_theta": self.log_theta.tolist(),
        }

    @staticmethod
    def from_dict(d: dict[str, Any], n_num: int, n_lev: int) -> _Params:
        k = len(d["log_w"])

        def arr(key: str, rows: int) -> np.ndarray:
            return np.asarray(d[key], dtype=float).reshape(rows, k)

        lm = arr("log_miss", n_num)
        lm[lm <= -1e300] = -np.inf
        return _Params(
            np.asarray(d["log_w"], dtype=float), arr("mu", n_num), arr("sd", n_num), lm,
            arr("log_theta", n_lev),
        )


class _Mixture:
    """EM for the latent-class model; ``has_missing`` per numeric column."""

    def __init__(self, has_missing: np.ndarray, n_levels: list[int]):
        self.has_missing = np.asarray(has_missing, bool)
        self.n_levels = list(n_levels)

    def n_params(self, k: int) -> int:
        num = len(self.has_missing) * 2 * k + int(self.has_missing.sum()) * k
        return (k - 1) + num + sum(k * (c - 1) for c in self.n_levels)

    def cell_loglik(self, p: _Params, d: _Data) -> np.ndarray:
        """log P(cell | class) for every cell, (cells, k)."""
        k = p.k
        out = np.zeros((d.n_cells, k))
        col = d.cell_col
        mu, sd = p.mu[col], p.sd[col]
        pts = ~d.is_atom & ~d.is_miss
        z = (d.lo[pts, None] - mu[pts]) / sd[pts]
        out[: len(col)][pts] = _log_pdf(z) - np.log(sd[pts])
        at = d.is_atom
        if at.any():
            out[: len(col)][at] = _interval_loglik(d.lo[at], d.hi[at], mu[at], sd[at])
        hm = self.has_missing[col]
        obs = ~d.is_miss & hm
        out[: len(col)][obs] += _log1mexp(p.log_miss[col[obs]])
        mc = d.is_miss & hm
        out[: len(col)][mc] = p.log_miss[col[mc]]
        out[len(col) : len(col) + len(d.lev_col)] = p.log_theta
        return out

    def joint(self, p: _Params, d: _Data) -> np.ndarray:
        """log P(row, class) as an (n, k) array."""
        table = self.cell_loglik(p, d)
        ll = np.broadcast_to(p.log_w, (d.n, p.k)).copy()
        for j in range(d.codes.shape[1]):
            ll += table[d.codes[:, j]]
        return ll

    def e_step(self, p: _Params, d: _Data) -> tuple[np.ndarray, float]:
        ll = self.joint(p, d)
        lse = logsumexp(ll, axis=1)
        return np.exp(ll - lse[:, None]), float(lse.sum())

    def m_step(self, r: np.ndarray, d: _Data, old: _Params | None = None) -> _Params:
        k = r.shape[1]
        nk = r.sum(axis=0) + 1e-10
        s = np.asarray(d.at @ r)  # responsibility mass per cell, (cells, k)
        nc = len(d.lo)
        s_num = s[:nc]
        m1 = np.repeat(np.where(np.isfinite(d.lo), d.lo, 0.0)[:, None], k, axis=1)
        at = d.is_atom
        if at.any():
            if old is None:  # first M-step: interval midpoints (half a unit beyond open ends)
                a, b = d.lo[at], d.hi[at]
                c = np.where(np.isfinite(a) & np.isfinite(b), (a + b) / 2,
                             np.where(np.isfinite(a), a + 0.5, b - 0.5))
                m1[at] = c[:, None]
                m2 = m1 * m1
            else:
                m2 = m1 * m1
                col = d.cell_col[at]
                m1[at], m2[at] = _interval_moments(d.lo[at], d.hi[at], old.mu[col], old.sd[col])
        else:
            m2 = m1 * m1
        w = s_num * ~d.is_miss[:, None]
        if nc:
            n_obs = np.add.reduceat(w, d.starts, axis=0) + 1e-10
            mu = np.add.reduceat(w * m1, d.starts, axis=0) / n_obs
            var = np.add.reduceat(w * m2, d.starts, axis=0) / n_obs - mu * mu
            sd = np.sqrt(np.maximum(var, _VAR_FLOOR))
            miss = s_num[d.miss_cell]
            log_miss = np.where(
                self.has_missing[:, None], np.log((miss + _ALPHA) / (nk + 2 * _ALPHA)), -np.inf
            )
        else:
            mu = sd = log_miss = np.zeros((0, k))
        s_lev = s[nc : nc + len(d.lev_col)]
        if len(d.lev_col):
            tot = np.add.reduceat(s_lev, d.lev_starts, axis=0)[d.lev_col]
            nlev = np.asarray(self.n_levels, dtype=float)[d.lev_col][:, None]
            log_theta = np.log((s_lev + _ALPHA) / (tot + _ALPHA * nlev))
        else:
            log_theta = np.zeros((0, k))
        return _Params(np.log(nk / nk.sum()), mu, sd, log_miss, log_theta)

    def em(
        self, d: _Data, p: _Params, max_iter: int, tol: float
    ) -> tuple[_Params, np.ndarray, float, int]:
        """EM from ``p`` until the log-likelihood gains less than ``tol`` (relative)."""
        r, ll = self.e_step(p, d)
        it = 0
        for it in range(1, max_iter + 1):  # noqa: B007
            p = self.m_step(r, d, p)
            r, new = self.e_step(p, d)
            done = abs(new - ll) <= tol * abs(ll)
            ll = new
            if done:
                break
        return p, r, ll, it


_NARROW = 0.05  # intervals narrower than this many class sds use the midpoint rule


def _interval_loglik(
    lo: np.ndarray, hi: np.ndarray, mu: np.ndarray, sd: np.ndarray
) -> np.ndarray:
    """log P(lo < x < hi) under N(mu, sd^2) per (cell, class); lo, hi are (cells,).

    Intervals narrower than ``_NARROW`` sds use density x width (relative error below 1e-4),
    the rest the exact, tail-stable difference of normal CDFs.
    """
    w = (hi - lo)[:, None] / sd
    narrow = w < _NARROW
    with np.errstate(invalid="ignore"):
        mid = np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2, 0.0)
        out = _log_pdf((mid[:, None] - mu) / sd) + np.log(np.where(narrow, w, 1.0))
    wide = ~narrow
    if wide.any():
        lo_b = np.broadcast_to(lo[:, None], mu.shape)[wide]
        hi_b = np.broadcast_to(hi[:, None], mu.shape)[wide]
        out[wide] = _log_interval((lo_b - mu[wide]) / sd[wide], (hi_b - mu[wide]) / sd[wide])
    return out


def _interval_moments(
    lo: np.ndarray, hi: np.ndarray, mu: np.ndarray, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """E[x], E[x^2] of N(mu, sd^2) truncated to each cell, (cells, k); midpoint rule if narrow."""
    w = (hi - lo)[:, None] / sd
    narrow = w < _NARROW
    with np.errstate(invalid="ignore"):
        mid = np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2, 0.0)
    e1 = np.broadcast_to(mid[:, None], mu.shape).copy()
    e2 = e1 * e1 + np.where(narrow, (w * sd) ** 2 / 12, 0.0)
    wide = ~narrow
    if wide.any():
        lo_b = np.broadcast_to(lo[:, None], mu.shape)[wide]
        hi_b = np.broadcast_to(hi[:, None], mu.shape)[wide]
        e1[wide], e2[wide] = _trunc_moments(lo_b, hi_b, mu[wide], sd[wide])
    return e1, e2


def _trunc_moments(
    lo: np.ndarray, hi: np.ndarray, mu: np.ndarray, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """E[x] and E[x^2] of N(mu, sd^2) truncated to [lo, hi] (arrays of one shape)."""
    a = (lo - mu) / sd
    b = (hi - mu) / sd
    lz = _log_interval(a, b)
    fa, fb = np.isfinite(a), np.isfinite(b)
    with np.errstate(over="ignore", invalid="ignore"):
        ra = np.where(fa, np.exp(_log_pdf(np.where(fa, a, 0)) - lz), 0.0)
        rb = np.where(fb, np.exp(_log_pdf(np.where(fb, b, 0)) - lz), 0.0)
        m = np.nan_to_num(ra - rb)
        v = 1 + np.where(fa, a * ra, 0) - np.where(fb, b * rb, 0) - m * m
    m = np.clip(m, a, b)
    v = np.clip(np.nan_to_num(v), 0.0, 1.0)
    e1 = mu + sd * m
    return e1, e1 * e1 + sd * sd * v


def _kmeans(
    x: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 4
) -> np.ndarray:
    """Labels of the best of ``n_init`` k-means runs: the EM's starting partition."""
    best, best_in = None, np.inf
    for _ in range(n_init):
        lab, inertia = _kmeans_once(x, k, rng)
        if inertia < best_in:
            best, best_in = lab, inertia
    assert best is not None
    return best


def _kmeans_once(
    x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 25
) -> tuple[np.ndarray, float]:
    """k-means++ start and Lloyd steps; (labels, inertia)."""
    n = len(x)
    sq = (x * x).sum(axis=1)
    centers = [x[rng.integers(n)]]
    d2 = ((x - centers[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        tot = d2.sum()
        c = x[rng.choice(n, p=d2 / tot)] if tot > 0 else x[rng.integers(n)]
        centers.append(c)
        d2 = np.minimum(d2, ((x - c) ** 2).sum(axis=1))
    cen = np.array(centers)
    lab = np.zeros(n, dtype=np.int64)
    for it in range(iters):
        dist = sq[:, None] - 2 * x @ cen.T + (cen * cen).sum(axis=1)
        new = dist.argmin(axis=1)
        if it and np.array_equal(new, lab):
            break
        lab = new
        counts = np.bincount(lab, minlength=k)
        sums = np.asarray(_onehot(lab, k).T @ x)
        filled = counts > 0
        cen[filled] = sums[filled] / counts[filled, None]
    dist = sq[:, None] - 2 * x @ cen.T + (cen * cen).sum(axis=1)
    return lab, float(dist[np.arange(n), lab].sum())


# ------------------------------------------------------------------------------- public
@dataclass(frozen=True)
class KDiagnostics:
    """The figures of one candidate number of personas, measured on the selection sample."""

    k: int
    loglik: float
    n_params: int
    bic: float
    icl: float
    silhouette: float
    stability: float
    min_share: float


def align_labels(labels: np.ndarray, reference: np.ndarray) -> dict[Any, Any]:
    """Map each label of ``labels`` to the ``reference`` label it agrees with most.

    Hungarian matching on the contingency table (maximum total agreement); labels left
    unmatched (more classes than the reference) map to themselves.

    >>> m = align_labels(np.array([1, 1, 0, 0]), np.array(["a", "a", "b", "b"]))
    >>> {int(k): str(v) for k, v in m.items()}
    {0: 'b', 1: 'a'}
    """
    a, ai = np.unique(np.asarray(labels), return_inverse=True)
    b, bi = np.unique(np.asarray(reference), return_inverse=True)
    table = np.zeros((len(a), len(b)))
    np.add.at(table, (ai, bi), 1)
    rows, cols = linear_sum_assignment(-table)
    out = {a[i]: a[i] for i in range(len(a))}
    out.update({a[r]: b[c] for r, c in zip(rows, cols, strict=True)})
    return out


def _no_nan(d: dict[str, Any]) -> dict[str, Any]:
    """NaN as None, so the JSON is strict (no NaN tokens)."""
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in d.items()}


class PersonaSegmenter:
    """Latent-class personas for a mixed-type customer table (see the module docstring).

    Parameters
    ----------
    k: number of personas; ``None`` chooses it over ``k_range`` by ``criterion``.
    k_range: smallest and largest k tried (inclusive).
    criterion: ``bic`` | ``icl`` | ``silhouette`` | ``stability``.
    columns: columns to segment on (default: every usable one, see ``exclude``).
    exclude: columns to leave out of the automatic choice.
    schema: a :class:`~synthcust.schema.Schema` (default: inferred; ids, PII, free text and
        constant columns are never used).
    n_init: fits per k (different subsamples and starts).
    selection_rows: rows of the sample on which k is chosen (the final fit uses all rows).
    min_share: smallest persona share for a k to be a candidate.
    stability_tolerance: see ``criterion="stability"``.
    max_levels: categorical levels kept per column (the rest pooled as ``(other)``).
    max_iter, tol: EM limits (relative log-likelihood change).
    random_state: seed of subsamples and starts.
    """

    def __init__(
        self,
        k: int | None = None,
        *,
        k_range: tuple[int, int] = (2, 8),
        criterion: str = "bic",
        columns: list[str] | None = None,
        exclude: list[str] | None = None,
        schema: Any = None,
        n_init: int = 4,
        selection_rows: int = 4000,
        min_share: float = 0.02,
        stability_tolerance: float = 0.05,
        max_levels: int = 30,
        max_iter: int = 300,
        tol: float = 1e-6,
        random_state: int | None = None,
    ):
        self.k = k
        self.k_range = k_range
        self.criterion = criterion
        self.columns = columns
        self.exclude = exclude
        self.schema = schema
        self.n_init = n_init
        self.selection_rows = selection_rows
        self.min_share = min_share
        self.stability_tolerance = stability_tolerance
        self.max_levels = max_levels
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, reference: PersonaSegmenter | None = None) -> PersonaSegmenter:
        """Choose k (unless given), fit the mixture on every row, and label the rows.

        ``reference``: an earlier fitted segmenter; the new personas take the ids of the
        earlier ones they agree with most (Hungarian matching on this table's rows).
        """
        # one BLAS thread: the products are small and threads only contend (10x slower)
        with threadpool_limits(1):
            return self._fit(df, reference)

    def _fit(self, df: pd.DataFrame, reference: PersonaSegmenter | None) -> PersonaSegmenter:
        if self.criterion not in CRITERIA:
            raise DataError(
                f"unknown criterion {self.criterion!r}; use one of {', '.join(CRITERIA)}"
            )
        if not isinstance(df, pd.DataFrame) or len(df) == 0:
            raise DataError("the customer table is empty; give at least a few rows")
        n = len(df)
        k_lo, k_hi = self._k_candidates(n)
        plan = plan_columns(
            df, schema=self.schema, columns=self.columns, exclude=self.exclude,
            max_levels=self.max_levels,
        )
        clean = plan.clean(df)
        encs = [_NumEncoder.learn(c, clean[c].to_numpy(dtype=float), c not in plan.dates)
                for c in plan.numeric]
        self.plan_, self.encoders_ = plan, encs
        self.notes_ = list(plan.notes)
        data = self._data(clean)
        mix = _Mixture(np.array([e.has_missing for e in encs], bool), plan.n_levels)
        rng = np.random.default_rng(self.random_state)
        sel = np.sort(rng.choice(n, self.selection_rows, replace=False)) \
            if n > self.selection_rows else np.arange(n)
        dsel = self._data(clean.iloc[sel]) if len(sel) < n else data  # only its own cells
        xsel = self._design(dsel)
        diags, fits = [], {}
        for k in range(k_lo, k_hi + 1):
            diag, p = self._select_fit(mix, dsel, xsel, k, rng)
            diags.append(diag)
            fits[k] = p
        self.selection_ = diags
        chosen = self.k if self.k is not None else self._choose(diags)
        p = fits[chosen]
        p, r, ll, it = mix.em(data, p, self.max_iter, self.tol)
        if it >= self.max_iter:
            self.notes_.append(
                f"EM stopped after {it} iterations before converging (tol {self.tol})"
            )
        order = np.lexsort((np.arange(chosen), -r.sum(axis=0)))  # size desc, stable
        p, r = p.permute(order), r[:, order]
        self.params_, self.mixture_ = p, mix
        self.k_ = chosen
        self.personas_ = [f"P{i + 1}" for i in range(chosen)]
        self.loglik_ = ll
        self.n_rows_ = n
        self.chosen_by_ = "given" if self.k is not None else self.criterion
        hard = r.argmax(axis=1)
        empty = [self.personas_[i] for i in range(chosen) if not (hard == i).any()]
        if empty:
            self.notes_.append(
                f"personas {empty} hold no customer as their most likely persona; try a smaller k"
            )
        if reference is not None:
            self._align_to(reference, df, hard)
        self.labels_ = np.asarray(self.personas_, dtype=object)[hard]
        return self

    def _align_to(self, reference: PersonaSegmenter, df: pd.DataFrame, hard: np.ndarray) -> None:
        ref = reference.predict(df)
        mapping = align_labels(hard, ref)
        used = set(mapping.values())
        spare = iter(f"P{i}" for i in range(1, 10 * self.k_ + 10) if f"P{i}" not in used)
        ids = []
        for i in range(self.k_):
            v = mapping.get(i, i)
            ids.append(v if isinstance(v, str) else next(spare))
        self.personas_ = ids

    def _k_candidates(self, n: int) -> tuple[int, int]:
        if self.k is not None:
            k = int(self.k)
            if k < 2:
                raise DataError(f"k={k}: personas need k >= 2 (one persona is everyone)")
            if k * MIN_ROWS_PER_PERSONA > n:
                raise DataError(
                    f"k={k} personas need at least {k * MIN_ROWS_PER_PERSONA} rows "
                    f"({MIN_ROWS_PER_PERSONA} per persona) but the table has {n}; "
                    f"use k <= {max(n // MIN_ROWS_PER_PERSONA, 1)}"
                )
            return k, k
        lo, hi = (int(v) for v in self.k_range)
        if lo < 2 or hi < lo:
            raise DataError(f"k_range {self.k_range}: need 2 <= low <= high, e.g. (2, 8)")
        top = n // MIN_ROWS_PER_PERSONA
        if top < lo:
            raise DataError(
                f"{n} rows are too few for {lo} personas ({MIN_ROWS_PER_PERSONA} rows per "
                f"persona needed); give at least {lo * MIN_ROWS_PER_PERSONA} rows"
            )
        return lo, min(hi, top)

    def _data(self, clean: pd.DataFrame) -> _Data:
        plan = self.plan_
        lo_, hi_, col_, atom_, miss_, codes_ = [], [], [], [], [], []
        offset = 0
        starts, miss_cell = [], []
        for j, e in enumerate(self.encoders_):
            lo, hi, codes, na = e.cells(clean[e.name].to_numpy(dtype=float))
            m = len(lo) + 1  # + the missing cell
            starts.append(offset)
            miss_cell.append(offset + m - 1)
            lo_.append(np.append(lo, 0.0))
            hi_.append(np.append(hi, 0.0))
            col_.append(np.full(m, j))
            atom_.append(np.arange(m) < na)
            miss_.append(np.arange(m) == m - 1)
            codes_.append(codes + offset)
            offset += m
        cat = np.concatenate([np.zeros(0, int), *[np.full(m, j) for j, m in
                                                  enumerate(plan.n_levels)]])
        lev_starts = np.concatenate([[0], np.cumsum(plan.n_levels)[:-1]]).astype(int) \
            if plan.n_levels else np.zeros(0, int)
        unseen = offset + len(cat)
        for j, c in enumerate(plan.categorical):
            cc = plan.codes(clean, c)
            codes_.append(np.where(cc >= 0, cc + offset + lev_starts[j], unseen))

        def cat_(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        codes = np.column_stack(codes_).astype(np.int64)
        return _Data(
            len(clean), cat_(lo_, float), cat_(hi_, float), cat_(col_, np.int64),
            cat_(atom_, bool), cat_(miss_, bool), np.asarray(starts, np.int64),
            np.asarray(miss_cell, np.int64), cat.astype(np.int64), lev_starts, codes,
            _transposed_onehot(codes, unseen + 1),
        )

    @staticmethod
    def _design(d: _Data) -> np.ndarray:
        """Rows as numbers for k-means starts and silhouettes: standardised, one-hot/sqrt 2."""
        lo, hi = d.lo, d.hi
        mid = np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2,
                       np.where(np.isfinite(lo), lo + 0.5, hi - 0.5))
        mid = np.where(d.is_miss, 0.0, np.nan_to_num(mid))
        p_num = len(d.starts)
        cols = [mid[d.codes[:, :p_num]]]
        nc = len(lo)
        for j in range(p_num, d.codes.shape[1]):
            lev = d.codes[:, j] - nc
            width = len(d.lev_col)
            ok = lev < width
            block = np.zeros((d.n, width))
            block[np.flatnonzero(ok), lev[ok]] = 1 / np.sqrt(2)
            cols.append(block[:, d.lev_col == j - p_num])
        return np.hstack(cols) if cols else np.zeros((d.n, 0))

    def _select_fit(
        self, mix: _Mixture, d: _Data, x: np.ndarray, k: int, rng: np.random.Generator
    ) -> tuple[KDiagnostics, _Params]:
        from sklearn.metrics import adjusted_rand_score, silhouette_score

        runs, labels = [], []
        m = d.n
        for _ in range(max(self.n_init, 1)):
            rows = np.sort(rng.choice(m, max(int(0.8 * m), k * MIN_ROWS_PER_PERSONA),
                                      replace=False))
            seed = int(rng.integers(2**31 - 1))
            r0 = np.eye(k)[_kmeans(x[rows], k, np.random.default_rng(seed))] * 0.9 + 0.1 / k
            sub = d.subset(rows)
            p = mix.m_step(r0, sub)
            p, _, _, _ = mix.em(sub, p, 150, 1e-5)
            r, ll = mix.e_step(p, d)
            runs.append((ll, p))
            labels.append(r.argmax(axis=1))
        best = int(np.argmax([ll for ll, _ in runs]))
        p, r, ll, _ = mix.em(d, runs[best][1], 100, 1e-6)
        hard = r.argmax(axis=1)
        npar = mix.n_params(k)
        bic = -2 * ll + npar * np.log(m)
        ent = -float((r * np.log(np.clip(r, 1e-300, None))).sum())
        pairs = [(i, j) for i in range(len(labels)) for j in range(i + 1, len(labels))]
        stab = float(np.mean([adjusted_rand_score(labels[i], labels[j]) for i, j in pairs])) \
            if pairs else float("nan")
        sil = float("nan")
        if len(np.unique(hard)) > 1 and x.shape[1] > 0:
            sil = float(silhouette_score(x, hard, sample_size=min(m, 2000),
                                         random_state=int(rng.integers(2**31 - 1))))
        share = np.bincount(hard, minlength=k) / m
        diag = KDiagnostics(k, ll, npar, float(bic), float(bic + 2 * ent), sil, stab,
                            float(share.min()))
        return diag, p

    def _choose(self, diags: list[KDiagnostics]) -> int:
        ok = [d for d in diags if d.min_share >= self.min_share] or diags
        if len(ok) < len(diags):
            dropped = [d.k for d in diags if d not in ok]
            self.notes_.append(
                f"k in {dropped} not considered: their smallest persona holds less than "
                f"{self.min_share:.0%} of the customers"
            )
        c = self.criterion
        if c == "bic":
            return min(ok, key=lambda d: d.bic).k
        if c == "icl":
            return min(ok, key=lambda d: d.icl).k
        if c == "silhouette":
            return max(ok, key=lambda d: np.nan_to_num(d.silhouette, nan=-2)).k
        best = max(np.nan_to_num(d.stability, nan=-2) for d in ok)
        return max(d.k for d in ok if np.nan_to_num(d.stability, nan=-2)
                   >= best - self.stability_tolerance)

    # -- using ---------------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError("this PersonaSegmenter is not fitted; call fit(df) first")

    def predict_proba(self, df: pd.DataFrame) -> pd.DataFrame:
        """Posterior probability of each persona for each row (columns = persona ids)."""
        self._check()
        clean = self.plan_.clean(df, check=True)
        with threadpool_limits(1):
            r, _ = self.mixture_.e_step(self.params_, self._data(clean))
        return pd.DataFrame(r, index=df.index, columns=self.personas_)

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """The most likely persona id of each row (new rows, synthetic rows ...)."""
        proba = self.predict_proba(df)
        return np.asarray(self.personas_, dtype=object)[proba.to_numpy().argmax(axis=1)]

    def clean(self, df: pd.DataFrame) -> pd.DataFrame:
        """The used columns of ``df`` as the model sees them (numbers, dates, category text)."""
        self._check()
        return self.plan_.clean(df, check=True, keep_dates=True)

    @property
    def columns_(self) -> list[str]:
        self._check()
        return self.plan_.used

    def selection_frame(self) -> pd.DataFrame:
        """The figures of every candidate k (one row each)."""
        self._check()
        return pd.DataFrame([asdict(d) for d in self.selection_])

    # -- persistence (JSON, never pickle) --------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        self._check()
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "params": {
                "k": self.k, "k_range": list(self.k_range), "criterion": self.criterion,
                "n_init": self.n_init, "selection_rows": self.selection_rows,
                "min_share": self.min_share, "stability_tolerance": self.stability_tolerance,
                "max_levels": self.max_levels, "max_iter": self.max_iter, "tol": self.tol,
                "random_state": self.random_state,
            },
            "k": self.k_,
            "personas": self.personas_,
            "chosen_by": self.chosen_by_,
            "loglik": self.loglik_,
            "n_rows": self.n_rows_,
            "notes": self.notes_,
            "selection": [_no_nan(asdict(d)) for d in self.selection_],
            "plan": self.plan_.to_dict(),
            "encoders": [e.to_dict() for e in self.encoders_],
            "model": self.params_.to_dict(),
        }

    @staticmethod
    def from_dict(d: dict[str, Any], where: str = "") -> PersonaSegmenter:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise ModelFileError(f"{where or 'input'} is not a synthcust persona model")
        if int(d.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelFileError(
                f"{where or 'persona model'} is from a newer synthcust (format version "
                f"{d['format_version']}); upgrade synthcust"
            )
        try:
            pr = dict(d["params"])
            pr["k_range"] = tuple(pr["k_range"])
            seg = PersonaSegmenter(**pr)
            seg.plan_ = ColumnPlan.from_dict(d["plan"])
            seg.encoders_ = [_NumEncoder.from_dict(e) for e in d["encoders"]]
            seg.params_ = _Params.from_dict(
                d["model"], len(seg.encoders_), sum(seg.plan_.n_levels)
            )
            seg.mixture_ = _Mixture(
                np.array([e.has_missing for e in seg.encoders_], bool), seg.plan_.n_levels
            )
            seg.k_ = int(d["k"])
            seg.personas_ = [str(p) for p in d["personas"]]
            seg.chosen_by_ = str(d["chosen_by"])
            seg.loglik_ = float(d["loglik"])
            seg.n_rows_ = int(d["n_rows"])
            seg.notes_ = list(d.get("notes", []))
            seg.selection_ = [
                KDiagnostics(**{k: np.nan if v is None else v for k, v in s.items()})
                for s in d["selection"]
            ]
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(
                f"{where or 'persona model'} is incomplete or corrupt ({e}); refit it"
            ) from e
        return seg

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model as JSON (atomically)."""
        from synthcust.io.atomic import atomic_write_text

        p = Path(path)
        atomic_write_text(p, json.dumps(self.to_dict(), allow_nan=False) + "\n")
        return p

    @staticmethod
    def load(path: str | os.PathLike) -> PersonaSegmenter:
        p = Path(path)
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ModelFileError(f"persona model {str(p)!r} does not exist") from e
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ModelFileError(f"persona model {str(p)!r} is not valid JSON ({e})") from e
        return PersonaSegmenter.from_dict(d, repr(str(p)))
