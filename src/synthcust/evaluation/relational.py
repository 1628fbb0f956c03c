"""Relational evaluation: do synthetic customers have realistic purchase histories?

Pure functions of real tables (train, and a holdout of customers the synthesizer never saw)
and synthetic tables, described by a
:class:`~synthcust.schema.relational.RelationalSpec` (root = customers, its
child = orders, the order's child = order lines). Every figure is
computed for synthetic vs real train, and, when a holdout is given, for real holdout vs real
train as the reference (what two samples of real customers agree on).

Figures (all in :func:`evaluate_relational`):

* **Children per parent**: 1 - TVD of the orders-per-customer distribution over the bins
  1, 2, 3, 4, 5, 6-10, 11-20, 21-50, 51+ (0 too when it occurs), and the KS statistic.
* **RFM**: per customer, recency (days from the last order to the real data's last order
  date), frequency (orders) and monetary (total amount). 1 - TVD of the joint distribution
  over 4 x 4 x 4 cells at the real train quartiles; KS per dimension; the largest difference
  between the real and synthetic Spearman correlation matrices of the three.
* **Inter-purchase time**: days between consecutive orders of a customer; KS statistic and
  the medians.
* **Basket composition** (with order lines): lines per order (KS, 1 - TVD over bins), and
  1 - TVD of the top-20 products' shares of lines (the rest pooled as "other").
* **Parent-child correlation**: for each categorical customer column, the correlation ratio
  eta of log(1 + monetary) by category (real vs synthetic) and the mean log(1 + monetary) of
  its top categories; for numeric customer columns, the Spearman correlation with monetary.
* **Privacy at the customer level**: each customer becomes one feature vector (its own
  columns + RFM + mean gap + lines per order) and :func:`synthcust.evaluation.privacy.
  evaluate_privacy` computes exact copies, DCR share (synthetic vs holdout distance to train;
  ideal 0.5) and the membership-inference AUC on those vectors.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust.evaluation.common import to_epoch_seconds
from synthcust.evaluation.privacy import evaluate_privacy
from synthcust.evaluation.results import Metric, SectionResult, jsonable
from synthcust.exceptions import DataError
from synthcust.schema.relational import RelationalSpec, check_spec

__all__ = [
    "RelationalReport",
    "customer_features",
    "evaluate_relational",
]

COUNT_BINS = [0, 1, 2, 3, 4, 5, 6, 11, 21, 51, np.inf]
COUNT_LABELS = ["0", "1", "2", "3", "4", "5", "6-10", "11-20", "21-50", "51+"]
DAY = 86400.0


# ============================================================================ tables
@dataclass(frozen=True)
class _Roles:
    root: str
    pk: str
    child: str
    fk: str
    child_pk: str | None
    time: str | None
    lines: str | None
    line_fk: str | None


def _roles(spec: RelationalSpec, tables: Mapping[str, pd.DataFrame]) -> _Roles:
    root = check_spec(spec, tables)
    kids = spec.children_of(root)
    if not kids:
        raise DataError(f"table {root!r} has no child table: nothing relational to evaluate")
    r = kids[0]
    grand = spec.children_of(r.child)
    time_col = spec.order_by.get(r.child)
    return _Roles(
        root=root,
        pk=r.parent_key,
        child=r.child,
        fk=r.child_key,
        child_pk=grand[0].parent_key if grand else spec.primary_keys.get(r.child),
        time=time_col,
        lines=grand[0].child if grand else None,
        line_fk=grand[0].child_key if grand else None,
    )


def _order_amounts(
    tables: Mapping[str, pd.DataFrame], ro: _Roles, amount: str | None
) -> pd.Series | None:
    """One amount per order row: a child column, or ``"QTY*PRICE"`` summed over its lines."""
    if amount is None:
        return None
    orders = tables[ro.child]
    if "*" in amount:
        if ro.lines is None or ro.child_pk is None:
            raise DataError(
                f"amount {amount!r} multiplies line columns but there is no lines table"
            )
        q, p = (a.strip() for a in amount.split("*", 1))
        lines = tables[ro.lines]
        for c in (q, p):
            if c not in lines.columns:
                raise DataError(f"amount {amount!r}: table {ro.lines!r} has no column {c!r}")
        val = pd.to_numeric(lines[q], errors="coerce") * pd.to_numeric(lines[p], errors="coerce")
        per = val.groupby(lines[ro.line_fk].to_numpy()).sum()
        return orders[ro.child_pk].map(per).fillna(0.0).astype(float)
    if amount not in orders.columns:
        raise DataError(
            f"amount column {amount!r} is not in table {ro.child!r}; its columns are "
            f"{[str(c) for c in orders.columns]} (or write QTY*PRICE for line columns)"
        )
    return pd.to_numeric(orders[amount], errors="coerce").astype(float)


def customer_features(
    tables: Mapping[str, pd.DataFrame],
    spec: RelationalSpec,
    *,
    amount: str | None = None,
    as_of: float | None = None,
) -> pd.DataFrame:
    """One row per customer: its own columns plus recency, frequency, monetary and more.

    ``recency_days``: days from the last order to ``as_of`` (seconds since the epoch; default
    the last order in these tables). ``frequency``: number of orders. ``monetary``: total
    ``amount``. ``mean_gap_days``: mean days between consecutive orders. ``lines_per_order``:
    mean lines per order (with a lines table).
    """
    ro = _roles(spec, tables)
    cust = tables[ro.root]
    orders = tables[ro.child]
    key = orders[ro.fk].to_numpy()
    out = cust.drop(columns=[ro.pk]).reset_index(drop=True).copy()
    ids = cust[ro.pk]
    freq = ids.map(pd.Series(key).value_counts()).fillna(0).to_numpy(dtype=float)
    out["frequency"] = freq
    if ro.time is not None:
        t = to_epoch_seconds(orders[ro.time])
        g = pd.Series(t).groupby(key)
        last = ids.map(g.max()).to_numpy(dtype=float)
        ref = float(np.nanmax(t)) if as_of is None else float(as_of)
        out["recency_days"] = (ref - last) / DAY
        first = ids.map(g.min()).to_numpy(dtype=float)
        out["mean_gap_days"] = np.where(freq > 1, (last - first) / np.maximum(freq - 1, 1), np.nan)
        out["mean_gap_days"] /= DAY
    amt = _order_amounts(tables, ro, amount)
    if amt is not None:
        out["monetary"] = ids.map(amt.groupby(key).sum()).fillna(0.0).to_numpy(dtype=float)
    if ro.lines is not None and ro.child_pk is not None:
        n_lines = orders[ro.child_pk].map(tables[ro.lines][ro.line_fk].value_counts()).fillna(0)
        per = n_lines.groupby(key).mean()
        out["lines_per_order"] = ids.map(per).to_numpy(dtype=float)
    for c in [c for c in out.columns if c not in cust.columns]:
        out[c] = out[c].astype(float)
    return out


# ============================================================================ small measures
def _tvd_acc(a: np.ndarray, b: np.ndarray) -> float:
    pa, pb = a / max(a.sum(), 1e-12), b / max(b.sum(), 1e-12)
    return float(1.0 - 0.5 * np.abs(pa - pb).sum())


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a[np.isfinite(a)]), np.sort(b[np.isfinite(b)])
    if not len(a) or not len(b):
        return float("nan")
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def _count_hist(n: np.ndarray) -> np.ndarray:
    return np.histogram(n, bins=COUNT_BINS)[0].astype(float)


def _qbins(real: np.ndarray, k: int) -> np.ndarray:
    edges = np.unique(np.nanquantile(real, np.linspace(0, 1, k + 1)))
    return edges if len(edges) > 1 else np.array([edges[0] - 0.5, edges[0] + 0.5])


def _binned(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index per value, values outside the real range in the first/last bin."""
    return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)


def _shares(x: np.ndarray, edges: np.ndarray) -> list[float]:
    x = x[np.isfinite(x)]
    c = np.bincount(_binned(x, edges), minlength=len(edges) - 1).astype(float)
    return (c / max(c.sum(), 1)).tolist()


def _eta(values: np.ndarray, groups: pd.Series) -> float:
    """Correlation ratio: share of the variance of ``values`` explained by ``groups``."""
    ok = np.isfinite(values) & groups.notna().to_numpy()
    v, g = values[ok], groups[ok].astype(str).to_numpy()
    if len(v) < 3 or v.var() == 0:
        return float("nan")
    means = pd.Series(v).groupby(g).transform("mean").to_numpy()
    return float(np.sqrt(np.sum((means - v.mean()) ** 2) / np.sum((v - v.mean()) ** 2)))


def _status(value: float | None, ref: float | None, higher_better: bool = True) -> str:
    if value is None or ref is None or not np.isfinite(value) or not np.isfinite(ref):
        return "info"
    gap = (ref - value) if higher_better else (value - ref)
    return "pass" if gap <= 0.05 else ("warn" if gap <= 0.15 else "fail")


# ============================================================================ the evaluation
@dataclass
class RelationalReport:
    """Sections of the relational evaluation plus what was compared (rendered to HTML/JSON)."""

    sections: dict[str, SectionResult]
    meta: dict[str, Any] = field(default_factory=dict)

    def metric(self, key: str) -> Metric:
        """The metric ``key`` of whichever section has it (KeyError if none)."""
        for s in self.sections.values():
            for m in s.metrics:
                if m.key == key:
                    return m
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """Meta and every section, JSON-safe (rendered by reporting.relational)."""
        return {
            "meta": jsonable(self.meta),
            "sections": {k: s.to_dict() for k, s in self.sections.items()},
        }


def evaluate_relational(
    real: Mapping[str, pd.DataFrame],
    synthetic: Mapping[str, pd.DataFrame],
    spec: RelationalSpec,
    *,
    holdout: Mapping[str, pd.DataFrame] | None = None,
    amount: str | None = None,
    product: str | None = None,
    max_rows: int = 5000,
    random_state: int = 0,
) -> RelationalReport:
    """Compare synthetic customers and their orders (and lines) with real ones.

    Parameters
    ----------
    real, synthetic, holdout: ``{table: frame}`` with the tables ``spec`` describes; the
        holdout holds real customers the synthesizer never saw (and their orders).
    amount: an order column holding the order's value, or ``"QTY*PRICE"`` (line columns).
    product: a lines column naming the product (for basket composition).
    max_rows: customers per side used by the privacy distances.

    Examples
    --------
    >>> from synthcust.schema.relational import Relationship, RelationalSpec
    >>> rng = np.random.default_rng(0)
    >>> def tables(seed):
    ...     r = np.random.default_rng(seed)
    ...     c = pd.DataFrame({"cid": range(300), "tier": r.choice(["a", "b"], 300)})
    ...     n = r.integers(1, 6, 300)
    ...     days = pd.to_timedelta(r.integers(0, 99, n.sum()), "D")
    ...     o = pd.DataFrame({"cid": np.repeat(c.cid, n), "amount": r.gamma(2, 9, n.sum()),
    ...         "at": pd.Timestamp("2024-01-01") + days})
    ...     return {"customers": c, "orders": o}
    >>> spec = RelationalSpec((Relationship("customers", "orders", "cid", "cid"),),
    ...                       {"customers": "cid"}, {"orders": "at"})
    >>> rep = evaluate_relational(tables(0), tables(1), spec, holdout=tables(2), amount="amount")
    >>> rep.metric("children_per_parent_accuracy").value > 0.9
    True
    """
    t0 = time.perf_counter()
    ro = _roles(spec, real)
    _roles(spec, synthetic)
    if holdout is not None:
        _roles(spec, holdout)
    sides = {"synthetic": synthetic} | ({"holdout": holdout} if holdout is not None else {})
    # one reference date for every side: the real train data's last order
    as_of = None
    if ro.time is not None:
        as_of = float(np.nanmax(to_epoch_seconds(real[ro.child][ro.time])))
    feats = {"real": customer_features(real, spec, amount=amount, as_of=as_of)}
    for k, v in sides.items():
        feats[k] = customer_features(v, spec, amount=amount, as_of=as_of)
    secs: dict[str, SectionResult] = {}
    secs["children"] = _children_section(feats, ro)
    secs["rfm"] = _rfm_section(feats)
    secs["gaps"] = _gap_section(real, sides, ro)
    secs["basket"] = _basket_section(real, sides, ro, product)
    secs["parent_child"] = _parent_child_section(feats, real[ro.root], ro)
    secs["privacy"] = _privacy_section(feats, max_rows, random_state)
    meta = {
        "tables": {
            side: {t: len(df) for t, df in tabs.items()}
            for side, tabs in {"real": real, **sides}.items()
        },
        "customers": ro.root,
        "orders": ro.child,
        "lines": ro.lines,
        "amount": amount,
        "product": product,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    return RelationalReport(secs, meta)


def _metric(
    key: str, label: str, vals: dict[str, float | None], method: str, higher: bool = True
) -> Metric:
    v, ref = vals.get("synthetic"), vals.get("holdout")
    return Metric(
        key=key,
        label=label,
        value=v,
        reference=ref,
        better="higher" if higher else "lower",
        status=_status(v, ref, higher),  # type: ignore[arg-type]
        method=method,
    )


def _children_section(feats: dict[str, pd.DataFrame], ro: _Roles) -> SectionResult:
    real_n = feats["real"]["frequency"].to_numpy()
    h_real = _count_hist(real_n)
    acc, ks, dist = {}, {}, {"labels": COUNT_LABELS, "real": (h_real / h_real.sum()).tolist()}
    means = {"real": float(real_n.mean())}
    for side in feats:
        if side == "real":
            continue
        n = feats[side]["frequency"].to_numpy()
        h = _count_hist(n)
        acc[side] = _tvd_acc(h_real, h)
        ks[side] = _ks(real_n, n)
        dist[side] = (h / max(h.sum(), 1)).tolist()
        means[side] = float(n.mean())
    sec = SectionResult(
        "children",
        method=f"{ro.child} per {ro.root}: shares over the bins {', '.join(COUNT_LABELS)}.",
    )
    sec.metrics += [
        _metric(
            "children_per_parent_accuracy",
            f"{ro.child} per {ro.root}: 1 - TVD",
            acc,
            "1 - total variation distance of the binned count distributions",
        ),
        _metric("children_per_parent_ks", "count KS statistic", ks, "two-sample KS D", False),
    ]
    sec.tables["mean_count"] = pd.DataFrame([means])
    sec.extra["distribution"] = dist
    return sec


def _rfm_section(feats: dict[str, pd.DataFrame]) -> SectionResult:
    dims = [c for c in ("recency_days", "frequency", "monetary") if c in feats["real"].columns]
    sec = SectionResult(
        "rfm",
        method="Per customer: recency (days from the last order to the real data's last order), "
        "frequency (orders), monetary (total amount).",
    )
    if len(dims) < 2:
        sec.skipped.append("RFM needs an order date and an amount (pass amount=...)")
        return sec
    real = feats["real"][dims].to_numpy(dtype=float)
    edges = [_qbins(real[:, j], 4) for j in range(len(dims))]

    def joint(x: np.ndarray) -> np.ndarray:
        x = x[np.isfinite(x).all(axis=1)]
        idx = np.zeros(len(x), dtype=np.int64)
        for j, e in enumerate(edges):
            idx = idx * (len(e) - 1) + _binned(x[:, j], e)
        return np.bincount(idx, minlength=int(np.prod([len(e) - 1 for e in edges]))).astype(float)

    j_real = joint(real)
    c_real = pd.DataFrame(real, columns=dims).corr("spearman").to_numpy()
    acc, corr_d = {}, {}
    ks: dict[str, dict[str, float]] = {d: {} for d in dims}
    dists: dict[str, dict[str, Any]] = {}
    for j, d in enumerate(dims):
        dists[d] = {"edges": _qbins(real[:, j], 10).tolist(), "real": None}
        dists[d]["real"] = _shares(real[:, j], np.asarray(dists[d]["edges"]))
    for side, f in feats.items():
        if side == "real":
            continue
        x = f[dims].to_numpy(dtype=float)
        acc[side] = _tvd_acc(j_real, joint(x))
        c = pd.DataFrame(x, columns=dims).corr("spearman").to_numpy()
        corr_d[side] = float(np.nanmax(np.abs(c - c_real)))
        for j, d in enumerate(dims):
            ks[d][side] = _ks(real[:, j], x[:, j])
            dists[d][side] = _shares(x[:, j], np.asarray(dists[d]["edges"]))
    sec.metrics.append(
        _metric(
            "rfm_joint_accuracy",
            "RFM joint: 1 - TVD",
            acc,
            f"1 - TVD of the joint distribution over {len(j_real)} cells at the real quartiles",
        )
    )
    for d in dims:
        sec.metrics.append(_metric(f"ks_{d}", f"{d} KS statistic", ks[d], "two-sample KS D", False))
    sec.metrics.append(
        _metric(
            "rfm_spearman_max_diff",
            "RFM Spearman correlation: max |difference|",
            corr_d,
            "largest absolute difference between the 3x3 Spearman correlation matrices",
            False,
        )
    )
    sec.extra["distributions"] = dists
    return sec


def _gaps(tables: Mapping[str, pd.DataFrame], ro: _Roles) -> np.ndarray:
    o = tables[ro.child]
    t = to_epoch_seconds(o[ro.time])  # type: ignore[index]
    df = pd.DataFrame({"k": o[ro.fk].to_numpy(), "t": t}).sort_values(["k", "t"], kind="stable")
    gap = df.groupby("k", sort=False)["t"].diff().to_numpy() / DAY
    return gap[np.isfinite(gap)]


def _gap_section(
    real: Mapping[str, pd.DataFrame], sides: dict[str, Mapping[str, pd.DataFrame]], ro: _Roles
) -> SectionResult:
    sec = SectionResult(
        "gaps", method=f"Days between consecutive {ro.child} of the same {ro.root}."
    )
    if ro.time is None:
        sec.skipped.append(f"inter-purchase time needs an order date column in {ro.child!r}")
        return sec
    g_real = _gaps(real, ro)
    ks, med = {}, {"real": float(np.median(g_real)) if len(g_real) else float("nan")}
    edges = _qbins(g_real, 10) if len(g_real) else np.array([0.0, 1.0])
    dist: dict[str, Any] = {"edges": edges.tolist(), "real": _shares(g_real, edges)}
    for side, tabs in sides.items():
        g = _gaps(tabs, ro)
        ks[side] = _ks(g_real, g)
        med[side] = float(np.median(g)) if len(g) else float("nan")
        dist[side] = _shares(g, edges)
    sec.metrics.append(
        _metric("gap_ks", "inter-purchase days: KS statistic", ks, "two-sample KS D", False)
    )
    sec.tables["median_gap_days"] = pd.DataFrame([med])
    sec.extra["distribution"] = dist
    return sec


def _basket_section(
    real: Mapping[str, pd.DataFrame],
    sides: dict[str, Mapping[str, pd.DataFrame]],
    ro: _Roles,
    product: str | None,
) -> SectionResult:
    sec = SectionResult("basket", method="Lines per order, and the products lines hold.")
    if ro.lines is None or ro.line_fk is None:
        sec.skipped.append("basket composition needs an order-lines table")
        return sec

    def per_order(tabs: Mapping[str, pd.DataFrame]) -> np.ndarray:
        return tabs[ro.lines][ro.line_fk].value_counts().to_numpy(dtype=float)  # type: ignore[index]

    n_real = per_order(real)
    edges = _qbins(n_real, 10)
    acc, ks = {}, {}
    dist: dict[str, Any] = {"edges": edges.tolist(), "real": _shares(n_real, edges)}
    h_real = np.asarray(dist["real"])
    for side, tabs in sides.items():
        n = per_order(tabs)
        dist[side] = _shares(n, edges)
        acc[side] = _tvd_acc(h_real, np.asarray(dist[side]))
        ks[side] = _ks(n_real, n)
    sec.metrics += [
        _metric("lines_per_order_accuracy", "lines per order: 1 - TVD", acc, "decile bins"),
        _metric("lines_per_order_ks", "lines per order: KS", ks, "two-sample KS D", False),
    ]
    sec.extra["lines_per_order"] = dist
    if product is not None:
        if product not in real[ro.lines].columns:
            raise DataError(f"product column {product!r} is not in table {ro.lines!r}")
        vc = real[ro.lines][product].astype(str).value_counts(normalize=True)
        top = vc.index[:20].tolist()

        def shares(tabs: Mapping[str, pd.DataFrame]) -> np.ndarray:
            s = tabs[ro.lines][product].astype(str).value_counts(normalize=True)  # type: ignore[index]
            v = s.reindex(top).fillna(0.0).to_numpy()
            return np.append(v, max(0.0, 1.0 - v.sum()))

        s_real = shares(real)
        pacc: dict[str, float | None] = {}
        prod = {"labels": [*top, "other"], "real": s_real.tolist()}
        for side, tabs in sides.items():
            s = shares(tabs)
            pacc[side] = _tvd_acc(s_real, s)
            prod[side] = s.tolist()
        sec.metrics.append(
            _metric(
                "top_products_accuracy",
                "top-20 product shares: 1 - TVD",
                pacc,
                "shares of lines holding each of the real top-20 products, the rest pooled",
            )
        )
        sec.extra["top_products"] = prod
    return sec


def _parent_child_section(
    feats: dict[str, pd.DataFrame], cust: pd.DataFrame, ro: _Roles
) -> SectionResult:
    sec = SectionResult(
        "parent_child",
        method=f"How {ro.root} columns relate to what they buy: correlation ratio eta of "
        "log(1 + monetary) by category; Spearman correlation for numeric columns.",
    )
    if "monetary" not in feats["real"].columns:
        sec.skipped.append("parent-child correlations need an amount (pass amount=...)")
        return sec
    cols = [c for c in cust.columns if c != ro.pk]
    rows = []
    diffs: dict[str, list[float]] = {}
    for c in cols:
        s_real = feats["real"][c]
        numeric = pd.api.types.is_numeric_dtype(s_real.dtype) and s_real.nunique() > 10
        vals: dict[str, float] = {}
        for side, f in feats.items():
            m = np.log1p(np.clip(f["monetary"].to_numpy(dtype=float), 0, None))
            if numeric:
                vals[side] = float(pd.Series(f[c].to_numpy(dtype=float)).corr(
                    pd.Series(m), method="spearman"))  # fmt: skip
            else:
                vals[side] = _eta(m, f[c])
        rows.append({"column": c, "measure": "spearman" if numeric else "eta", **vals})
        for side in vals:
            if side != "real":
                diffs.setdefault(side, []).append(abs(vals[side] - vals["real"]))
        if not numeric:
            top = s_real.astype(str).value_counts().index[:8]
            means: dict[str, Any] = {"labels": list(top)}
            for side, f in feats.items():
                m = np.log1p(np.clip(f["monetary"].to_numpy(dtype=float), 0, None))
                g = pd.Series(m).groupby(f[c].astype(str).to_numpy()).mean()
                means[side] = g.reindex(top).fillna(0.0).tolist()
            sec.extra[f"mean_log_monetary_by_{c}"] = means
    sec.tables["associations"] = pd.DataFrame(rows)
    sec.metrics.append(
        _metric(
            "parent_child_max_diff",
            "customer column vs spend: max |difference|",
            {k: float(np.nanmax(v)) if v else None for k, v in diffs.items()},
            "largest |real - other| over customer columns of eta / Spearman with log spend",
            False,
        )
    )
    return sec


def _privacy_section(
    feats: dict[str, pd.DataFrame], max_rows: int, random_state: int
) -> SectionResult:
    sec = SectionResult(
        "privacy",
        method="One feature vector per customer (its columns, RFM, mean gap, lines per order); "
        "distances as in the single-table privacy section.",
    )
    if "holdout" not in feats:
        sec.skipped.append("customer-level DCR needs a real holdout of customers")
        return sec
    res = evaluate_privacy(
        feats["real"],
        feats["synthetic"],
        feats["holdout"],
        max_rows=max_rows,
        random_state=random_state,
    )
    keep = {"exact_copy_rate", "dcr_share", "dcr_median_ratio", "mia_auc"}
    sec.metrics = [m for m in res.metrics if m.key in keep]
    sec.extra = {k: v for k, v in res.extra.items() if isinstance(v, dict) and "edges" in v}
    return sec
