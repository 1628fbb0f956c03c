"""Fitting the Gaussian copula from partitioned data with mergeable statistics.

Training data larger than memory is read one partition at a time (on Dask workers, or in
this process with ``scheduler="sync"``). Two passes, each returning small per-partition
summaries that are merged by addition:

1. **Marginals.** Numeric (and datetime) columns: a weighted quantile summary. Values holding
   at least ``1/points`` of a partition's rows are kept exactly with their counts (so point
   masses such as ``capital_gain == 0`` keep their exact share); the remaining values are
   represented by ``points`` evenly spaced order statistics, each weighing its share of the
   rows. Summaries of partitions concatenate; the merged weighted distribution's quantiles are
   within ``1/points`` of the exact ones (rank error), and the copula's quantile function
   (:class:`~synthcust.synthesizers.marginals.EmpiricalMarginal`) is built from it exactly as
   from raw data, with weights. Plus missing counts, minimum and maximum, and whether every
   value is whole. Categorical columns: exact category counts (added up).
2. **Dependence.** Every row is mapped to latent normal scores with the merged marginals (the
   same randomised probability integral transform as the in-memory fit, seeded per
   partition), and each partition returns the sufficient statistics of the pairwise-complete
   Pearson correlation: counts ``M'M``, sums ``Z'M``, sums of squares ``(Z*Z)'M`` and cross
   products ``Z'Z``. Their sum gives the same correlation as on the whole table; the jitter
   correction and the nearest-correlation repair of the in-memory fit follow.

The result is an ordinary :class:`~synthcust.synthesizers.copula.GaussianCopulaSynthesizer`
(sample, condition, save, load). Categories are ordered by optimal scaling as in the in-memory
fit, from mergeable sums (latent moments and per-category latent sums), one more pass per round
(``scaling_iterations``, default 1; the in-memory default is 2). The codec's formats (datetime
units, dtypes) come from the first partition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError, ModelError
from synthcust.io import read_table
from synthcust.scale.cluster import dask_client, run_tasks
from synthcust.scale.dask import partition_files, partition_seed
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Schema
from synthcust.synthesizers.copula import (
    GaussianCopulaSynthesizer,
    flat_slots,
    normal_latent,
    slot_mean_variance,
)
from synthcust.synthesizers.marginals import (
    ATOM_MIN_COUNT,
    ATOM_SHARE,
    MAX_KNOTS,
    CategoricalMarginal,
    EmpiricalMarginal,
)
from synthcust.synthesizers.truncnorm import nearest_correlation
from synthcust.transform.codec import TableCodec, clean_missing, to_python

__all__ = ["fit_copula_partitioned", "weighted_marginal"]

SKETCH_POINTS = 4000


# ============================================================================ sketches
def quantile_summary(x: np.ndarray, points: int = SKETCH_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """A mergeable summary of ``x`` (no NaN): ``(values, counts)``, weights summing to len(x).

    Heavy values (at least ``len(x) / points`` rows) are exact; the rest is represented by
    ``points`` evenly spaced order statistics of the light values, each carrying an equal share
    of their rows.
    """
    x = np.asarray(x, dtype=float)
    if len(x) == 0:
        return np.empty(0), np.empty(0)
    vals, counts = np.unique(x, return_counts=True)
    heavy = counts >= max(len(x) / points, 2)
    lv, lc = vals[~heavy], counts[~heavy]
    out_v, out_w = [vals[heavy]], [counts[heavy].astype(float)]
    n_light = float(lc.sum())
    if n_light > 0:
        if len(lv) <= points:
            out_v.append(lv)
            out_w.append(lc.astype(float))
        else:
            cum = np.cumsum(lc)
            ranks = (np.arange(points) + 0.5) * n_light / points
            idx = np.minimum(np.searchsorted(cum, ranks, side="left"), len(lv) - 1)
            idx[0], idx[-1] = 0, len(lv) - 1  # the extremes are kept exactly
            out_v.append(lv[idx])
            out_w.append(np.full(points, n_light / points))
    v, w = np.concatenate(out_v), np.concatenate(out_w)
    return v, w


def merge_summaries(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate summaries and add up the weights of equal values."""
    v = np.concatenate([p[0] for p in parts]) if parts else np.empty(0)
    w = np.concatenate([p[1] for p in parts]) if parts else np.empty(0)
    if not len(v):
        return v, w
    u, inv = np.unique(v, return_inverse=True)
    return u, np.bincount(inv, weights=w)


def weighted_marginal(
    vals: np.ndarray, weights: np.ndarray, integer: bool, n_rows: float
) -> EmpiricalMarginal:
    """:meth:`EmpiricalMarginal.fit` on a weighted distribution (``vals`` sorted, unique)."""
    w = weights / weights.sum()
    cum = np.cumsum(w)
    cum[-1] = 1.0
    start = cum - w
    atom = (w >= ATOM_SHARE) & (weights * n_rows / weights.sum() >= ATOM_MIN_COUNT)
    P = np.concatenate([[0.0], start[atom], cum])
    X = np.concatenate([vals[:1], vals[atom], vals])
    is_atom = np.concatenate([[True], np.ones(int(atom.sum()), bool), atom])
    order = np.lexsort((P, X))
    P, X, is_atom = P[order], X[order], is_atom[order]
    P = np.maximum.accumulate(P)
    if len(P) > MAX_KNOTS:
        free = np.flatnonzero(~is_atom)
        keep_n = max(MAX_KNOTS - int(is_atom.sum()), 2)
        pick = free[np.unique(np.linspace(0, len(free) - 1, keep_n).round().astype(int))]
        keep = np.zeros(len(P), bool)
        keep[pick] = True
        keep[is_atom] = True
        keep[[0, -1]] = True
        P, X = P[keep], X[keep]
    return EmpiricalMarginal(P, X, integer)


# ============================================================================ partitions
def _partitions(source: Any) -> tuple[list[Any], Callable[[Any], pd.DataFrame]]:
    """(items, load): items travel to workers; ``load(item)`` gives the partition's frame."""
    try:
        import dask.dataframe as dd

        if isinstance(source, dd.DataFrame):
            return list(source.to_delayed()), _load_delayed
    except ImportError:  # pragma: no cover
        pass
    if isinstance(source, pd.DataFrame):
        raise DataError(
            "fit_copula_partitioned reads partitions (files or a Dask DataFrame); for a pandas "
            "frame in memory use GaussianCopulaSynthesizer().fit(df)"
        )
    return [str(p) for p in partition_files(source)], _load_file


def _load_file(path: str) -> pd.DataFrame:
    if path.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    return read_table(path)


def _load_delayed(part: Any) -> pd.DataFrame:
    return part.compute(scheduler="sync") if hasattr(part, "compute") else part


def _summarise(load: Callable, item: Any, codec_d: dict, points: int) -> dict[str, Any]:
    """Pass 1 on one partition: numeric sketches, category counts, missing counts."""
    df = load(item)
    codec = TableCodec.from_dict(codec_d)
    enc = codec.encode(df)
    out: dict[str, Any] = {"n": len(df), "num": {}, "cat": {}}
    for j, name in enumerate(enc.numeric_names):
        x = enc.numeric[:, j]
        ok = x[~np.isnan(x)]
        v, w = quantile_summary(ok, points)
        whole = bool(np.all(np.mod(ok, 1) == 0)) if len(ok) else True
        lo, hi = (float(ok.min()), float(ok.max())) if len(ok) else (np.nan, np.nan)
        out["num"][name] = (v, w, int(len(x) - len(ok)), whole, lo, hi)
    for spec in codec.specs_:
        if spec.kind == "categorical":
            s = clean_missing(df[spec.name], spec.markers)
            vc = s.value_counts(dropna=True)
            out["cat"][spec.name] = (
                [to_python(v) for v in vc.index.tolist()],
                vc.to_numpy(dtype=np.int64),
                int(s.isna().sum()),
            )
    return out


def _moments(
    load: Callable, item: Any, model_d: dict, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pass 2 on one partition: sufficient statistics of the latents' correlation."""
    m = _model_from(model_d)
    df = load(item)
    enc = m.codec_.encode(df)
    Z = _latents(m, enc, np.random.default_rng(seed))
    M = (~np.isnan(Z)).astype(float)
    Z0 = np.nan_to_num(Z)
    return M.T @ M, Z0.T @ M, (Z0 * Z0).T @ M, Z0.T @ Z0


def _scaling_sums(load: Callable, item: Any, model_d: dict, seed: int) -> dict[str, Any]:
    """Optimal-scaling pass on one partition: latent moments and per-category latent sums."""
    m = _model_from(model_d)
    enc = m.codec_.encode(load(item))
    Z = np.nan_to_num(_latents(m, enc, np.random.default_rng(seed)))
    per_cat = []
    for q in range(len(m.cat_names_)):
        k = m.n_cats_[q]
        c = np.where(enc.codes[:, q] < 0, k, enc.codes[:, q])
        cnt = np.bincount(c, minlength=k + 1).astype(float)
        sums = np.column_stack(
            [np.bincount(c, weights=Z[:, j], minlength=k + 1) for j in range(Z.shape[1])]
        )
        per_cat.append((cnt, sums))
    return {"n": len(Z), "s1": Z.sum(axis=0), "s2": Z.T @ Z, "cat": per_cat}


def _discriminant_order_from_sums(
    cnt: np.ndarray, sums: np.ndarray, s1: np.ndarray, s2: np.ndarray, n: int, skip: int
) -> np.ndarray:
    """The in-memory fit's ``_discriminant_order`` computed from merged sums.

    Categories are ordered along the first linear discriminant of the other latents
    (between-category over total covariance), each scoring its mean's projection on it.
    """
    others = np.array([j for j in range(len(s1)) if j != skip], dtype=np.int64)
    k = len(cnt)
    if len(others) == 0:
        return np.arange(k)
    means = sums[:, others] / np.maximum(cnt, 1)[:, None]
    mu = s1[others] / n
    p = cnt / n
    dm = means - mu
    B = (dm * p[:, None]).T @ dm
    S = s2[np.ix_(others, others)] / n - np.outer(mu, mu) + 1e-6 * np.eye(len(others))
    L = np.linalg.cholesky(S)
    Li = np.linalg.inv(L)
    _, v = np.linalg.eigh(Li @ B @ Li.T)
    scores = dm @ (Li.T @ v[:, -1])
    scores[cnt == 0] = 0.0
    return np.argsort(scores, kind="stable")


def _latents(m: GaussianCopulaSynthesizer, enc: Any, rng: np.random.Generator) -> np.ndarray:
    X, C = enc.numeric, enc.codes
    n = len(X) if X.shape[0] else len(C)
    z_num = np.full((n, len(m.num_names_)), np.nan)
    for j, marg in enumerate(m.num_marg_):
        ok = ~np.isnan(X[:, j])
        z_num[ok, j] = normal_latent(marg.cdf_interval(X[ok, j], rng))
    z_cat = np.empty((n, len(m.cat_names_)))
    for q in range(len(m.cat_names_)):
        k = m.n_cats_[q]
        slot_of = np.empty(k + 1, dtype=np.int64)
        slot_of[m.cat_order_[q]] = np.arange(k + 1)
        slots = slot_of[np.where(C[:, q] < 0, k, C[:, q])]
        marg = m.cat_marg_[q]
        hi = marg.cum[slots]
        lo = hi - marg.probs[slots]
        z_cat[:, q] = normal_latent(lo + rng.random(n) * (hi - lo))
    z_miss = np.empty((n, len(m.miss_idx_)))
    for k, j in enumerate(m.miss_idx_):
        isna = np.isnan(X[:, j])
        p = m.miss_p_[j]
        z_miss[:, k] = normal_latent(np.where(isna, rng.random(n) * p, p + rng.random(n) * (1 - p)))
    return np.hstack([z_num, z_cat, z_miss])


def _model_dict(m: GaussianCopulaSynthesizer) -> dict[str, Any]:
    state, arrays = m._state()
    return {"schema": m.schema_.to_dict(), "codec": m.codec_.to_dict(), "state": state,
            "arrays": arrays, "n": m.n_training_rows_, "rs": m.random_state}  # fmt: skip


def _model_from(d: dict[str, Any]) -> GaussianCopulaSynthesizer:
    m = GaussianCopulaSynthesizer(random_state=d["rs"], scaling_iterations=0)
    m.schema_ = Schema.from_dict(d["schema"])
    m.codec_ = TableCodec.from_dict(d["codec"])
    m.plan_ = None
    m.n_training_rows_ = int(d["n"])
    m._from_state(d["state"], d["arrays"])
    return m


# ============================================================================ the fit
def fit_copula_partitioned(
    source: Any,
    *,
    schema: Schema | None = None,
    scheduler: Any = "sync",
    workers: int = 2,
    random_state: int = 0,
    points: int = SKETCH_POINTS,
    scaling_iterations: int = 1,
    timeout: float = 10.0,
    processes: bool = True,
) -> GaussianCopulaSynthesizer:
    """Fit a Gaussian copula from partitioned data (files or a Dask DataFrame).

    Parameters
    ----------
    source: a folder of ``.parquet`` files, a glob, a list of files (Parquet/CSV), or a
        ``dask.dataframe.DataFrame``. One partition is in memory at a time per worker.
    schema: the table's schema (default: inferred from the first partition).
    scheduler, workers, timeout, processes: where to run (see :mod:`synthcust.scale.cluster`).
    random_state: seed of the model and of each partition's jitter (``[seed, i]``).
    points: quantile-summary size per partition and numeric column (rank error ~1/points).
    scaling_iterations: rounds of optimal scaling of categories (one more pass each; 0 =
        order categories by frequency).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> rng = np.random.default_rng(0)
    >>> for i in range(3):
    ...     x = rng.normal(size=500)
    ...     pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=500),
    ...                   "c": rng.choice(["a", "b"], 500)}).to_parquet(d / f"p{i}.parquet")
    >>> m = fit_copula_partitioned(d, random_state=0)
    >>> s = m.sample(2000, random_state=1)
    >>> bool(s[["x", "y"]].corr().iloc[0, 1] > 0.8)
    True
    """
    items, load = _partitions(source)
    first = load(items[0])
    if len(first) < 2:
        raise DataError("the first partition has fewer than 2 rows; repartition the data")
    if schema is None:
        schema = infer_schema(first, detect_pii=False)
    if schema.constraints:
        raise ModelError(
            "constraints are not supported by the partitioned fit yet; fit in memory, or drop "
            "the schema's constraints"
        )
    codec = TableCodec().fit(first, schema)
    del first
    with dask_client(scheduler, workers, timeout=timeout, processes=processes) as client:
        codec_d = codec.to_dict()
        s1 = run_tasks(_summarise, [(load, it, codec_d, points) for it in items], client)
        n_total = int(sum(s["n"] for s in s1))
        model, counts = _assemble(codec, schema, s1, n_total, random_state)
        off = len(model.num_names_)
        for it in range(scaling_iterations if model.cat_names_ else 0):
            md = _model_dict(model)
            args = [(load, x, md, _seed(random_state + 1 + it, i)) for i, x in enumerate(items)]
            ss = run_tasks(_scaling_sums, args, client)
            s1_, s2_ = sum(r["s1"] for r in ss), sum(r["s2"] for r in ss)
            for q in range(len(model.cat_names_)):
                cnt = sum(r["cat"][q][0] for r in ss)
                sums = sum(r["cat"][q][1] for r in ss)
                order = _discriminant_order_from_sums(cnt, sums, s1_, s2_, n_total, off + q)
                model.cat_order_[q] = order
                model.cat_marg_[q] = CategoricalMarginal(counts[q][order])
        model.scaling_iterations = scaling_iterations
        md = _model_dict(model)
        args = [(load, it, md, _seed(random_state, i)) for i, it in enumerate(items)]
        s2 = run_tasks(_moments, args, client)
    N, A, Q, XY = (sum(s[i] for s in s2) for i in range(4))
    model.corr_ = _corr(model, N, A, Q, XY)
    return model


def _seed(random_state: int, i: int) -> int:
    return partition_seed(random_state, i)


def _assemble(
    codec: TableCodec, schema: Schema, s1: list[dict], n_total: int, random_state: int
) -> tuple[GaussianCopulaSynthesizer, list[np.ndarray]]:
    """Merged marginals and categories -> a copula with everything but its correlation.

    Also returns each categorical column's counts per code (missing last), for re-ordering.
    """
    m = GaussianCopulaSynthesizer(random_state=random_state, scaling_iterations=0)
    m.schema_, m.codec_, m.plan_, m.n_training_rows_ = schema, codec, None, n_total
    m.num_names_ = [s.name for s in codec.specs_ if s.kind in ("numeric", "datetime")]
    m.cat_names_ = [s.name for s in codec.specs_ if s.kind == "categorical"]
    m.num_marg_, miss = [], []
    for name in m.num_names_:
        parts = [s["num"][name] for s in s1]
        v, w = merge_summaries([(p[0], p[1]) for p in parts])
        n_miss = sum(p[2] for p in parts)
        spec = codec.spec(name)
        if spec.kind == "numeric":
            spec.integer = bool(spec.integer and all(p[3] for p in parts))
        lo = np.nanmin([p[4] for p in parts])
        hi = np.nanmax([p[5] for p in parts])
        col = schema[name] if name in schema else None  # noqa: SIM401
        spec.lower = float(lo) if col is None or col.lower is None else col.lower
        spec.upper = float(hi) if col is None or col.upper is None else col.upper
        if not len(v):
            raise DataError(f"column {name!r} has no values in any partition; drop it")
        m.num_marg_.append(weighted_marginal(v, w, spec.integer, n_total - n_miss))
        miss.append(n_miss / n_total)
    m.miss_p_ = np.asarray(miss, dtype=float)
    m.miss_idx_ = np.flatnonzero(m.miss_p_ > 0)
    m.cat_order_, m.cat_marg_, m.n_cats_ = [], [], []
    all_counts: list[np.ndarray] = []
    for name in m.cat_names_:
        counts: dict[Any, int] = {}
        n_miss = 0
        for s in s1:
            vals, cnt, nm = s["cat"][name]
            n_miss += nm
            for v_, c_ in zip(vals, cnt.tolist(), strict=True):
                counts[v_] = counts.get(v_, 0) + c_
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        spec = codec.spec(name)
        cap = codec.max_categories
        if len(ranked) > cap:
            keep, rare = ranked[: cap - 1], ranked[cap - 1 :]
            tot = float(sum(c for _, c in rare))
            spec.rare = [v for v, _ in rare]
            spec.rare_p = [c / tot for _, c in rare]
            cnt = [c for _, c in keep] + [int(tot)]
        else:
            keep = ranked
            spec.rare, spec.rare_p = [], []
            cnt = [c for _, c in keep]
        spec.categories = [v for v, _ in keep]
        k = len(cnt)
        full = np.asarray([*cnt, n_miss], dtype=float)
        order = np.argsort(-full, kind="stable")  # slot -> code (k = missing)
        m.n_cats_.append(k)
        m.cat_order_.append(order)
        m.cat_marg_.append(CategoricalMarginal(full[order]))
        all_counts.append(full)
    d = len(m.num_names_) + len(m.cat_names_) + len(m.miss_idx_)
    m.corr_ = np.eye(d)  # placeholder until pass 2 measures the dependence
    return m, all_counts


def _corr(m: GaussianCopulaSynthesizer, N, A, Q, XY) -> np.ndarray:
    """Pairwise-complete correlation from merged sums, then the in-memory fit's corrections."""
    d = N.shape[0]
    if d == 0:
        return np.zeros((0, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        Nn = np.maximum(N, 1)
        mi, mj = A / Nn, A.T / Nn
        cov = XY / Nn - mi * mj
        R = cov / np.sqrt((Q / Nn - mi**2) * (Q.T / Nn - mj**2))
    R[(N < 10) | ~np.isfinite(R)] = 0.0
    off = len(m.num_names_) + len(m.cat_names_)
    for k, j in enumerate(m.miss_idx_):
        R[int(j), off + k] = R[off + k, int(j)] = 0.0
    np.fill_diagonal(R, 1.0)
    R = np.clip(R, -1, 1)
    v = np.concatenate(
        [
            [slot_mean_variance(flat_slots(mg.P, mg.X)) for mg in m.num_marg_],
            [
                slot_mean_variance(np.column_stack([mg.cum - mg.probs, mg.cum]))
                for mg in m.cat_marg_
            ],
            [slot_mean_variance(np.array([[0.0, p], [p, 1.0]])) for p in m.miss_p_[m.miss_idx_]],
        ]
    )
    scale = np.sqrt(np.maximum(v, 1e-3))
    R = R / np.outer(scale**2, scale**2)
    np.fill_diagonal(R, 1.0)
    return nearest_correlation(np.clip(R, -0.995, 0.995) + np.diag(np.full(len(R), 0.005)))
