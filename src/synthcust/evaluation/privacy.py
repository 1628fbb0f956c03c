"""Privacy risk of synthetic data, measured against real train and real holdout rows.

Every figure follows ``docs/methods/metrics.md#privacy``. Rows are compared in the Gower-like
embedding
of :mod:`synthcust.evaluation.distances` (fitted on real train; L2 distance; one unit = one
robust spread of a numeric column = one category mismatch), and for exact copies by hashing the
normalised rows. The real holdout is the yardstick throughout: it shows how close *real people
who were not trained on* sit to the training rows, so a synthetic figure is judged against it.

Metrics of :func:`evaluate_privacy` (section ``"privacy"``):

* ``exact_copy_rate``: share of synthetic rows identical to some train row on every compared
  column (all rows, by hash). Its ``reference`` is the same share for holdout rows: real data
  often repeats itself (Adult has duplicate rows), so a synthetic row equal to a train row is
  not in itself proof of copying. The gate flags copies *beyond* the holdout baseline:
  ``rate > holdout rate + max_exact_copy_rate + margin``, where ``margin`` is two standard errors
  of the difference of the two rates under "both copy at the holdout rate" (with that rate taken
  as at least ``1 / n_holdout``, so a baseline of 0 still allows for chance). The metric's
  ``threshold`` holds this effective bar.
* ``dcr_share``: fraction of synthetic rows closer to train than to holdout, with train
  subsampled to the holdout's size so both reference sets are equally large and 0.5 is the fair
  value; ties (equal distances, e.g. a row equal to rows of both) count half. Above ~0.55 the
  model is memorising.
  Because only a holdout-sized share of train is in the reference set, a copy of the whole
  train set scores only ``0.5 + 0.5 * n_holdout / n_train`` (0.625 for an 80/20 split), and
  memorisation signals are diluted by the same factor.
* ``dcr_share_adjusted`` (info, not gated): the same comparison against all train rows, whose
  fair value is ``n_train / (n_train + n_holdout)``; its odds are multiplied by
  ``n_holdout / n_train`` so that 0.5 is fair again and a full copy scores ~1.
* ``dcr_median_ratio`` / ``dcr_p5_ratio``: median and 5th percentile of the distance from each
  synthetic row to its closest train row, divided by the same for holdout rows (1 = as close as
  real people; well below 1 = closer than real people, a memorisation warning even without
  copies). Plot data (shares of rows per distance bin) is in
  ``extra["distance_to_closest_train_row"]``, quantiles in ``tables["dcr_quantiles"]``.
* ``nndr``: median nearest-neighbour distance ratio, distance to the closest train row divided by
  the distance to the second closest (``0/0`` counts as 1: both neighbours are identical rows).
  Low values mean a row singles out one training record; ``reference`` is the holdout's median.
* ``mia_auc``: a distance-based membership-inference attack. Equal numbers of train members and
  holdout non-members are scored by minus their distance to the closest synthetic row; ROC AUC
  of telling them apart (0.5 = no leak).
* ``attribute_inference_advantage`` (with ``sensitive``): an attacker knowing every other column
  of a real row predicts its sensitive value from its k nearest synthetic rows (k = 1..5;
  majority vote, ties to the nearest, for categories; mean for numbers). Accuracy (categorical)
  or normalised MAE (numeric: MAE divided by the MAE of always guessing the train median) on
  train members vs holdout non-members; the advantage is members' minus non-members' accuracy
  (or non-members' minus members' normalised MAE), the worst k is reported; 0 = no extra risk.

Sampling: at most ``max_rows`` query rows (synthetic rows for DCR, holdout rows for the holdout
DCR), ``max_rows // 2`` members plus as many non-members for the attacks, and at most
``4 * max_rows`` reference rows (train for DCR, synthetic for the attacks). Samples are drawn with
``random_state`` from the rows in hash order, so the result does not depend on row or column
order. Sizes are in ``extra["sample_sizes"]`` and the metrics' notes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from synthcust.evaluation.common import align, as_numeric
from synthcust.evaluation.distances import (
    MixedEmbedding,
    category_strings,
    nearest_neighbors,
    row_hashes,
)
from synthcust.evaluation.privacy_gate import (
    GATED,
    GateDecision,
    GateThresholds,
    judge,
    privacy_gate,
)
from synthcust.evaluation.results import Metric, SectionResult
from synthcust.exceptions import DataError

__all__ = ["GateDecision", "GateThresholds", "evaluate_privacy", "privacy_gate"]


#: Reference sets are capped at this many times ``max_rows``.
REFERENCE_FACTOR = 4
#: Standard errors of sampling allowance on the exact-copy excess.
COPY_Z = 2.0
#: Largest k of the attribute-inference attack.
K_MAX = 5
#: Distances closer than this (in robust-spread units) are ties.
TIE_TOL = 1e-9


def _pick(order: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` row positions drawn from rows listed in hash order (all of them if fewer)."""
    if n >= len(order):
        return order
    return order[np.sort(rng.choice(len(order), size=n, replace=False))]


def _ratio(a: float, b: float) -> float | None:
    if b > 0:
        return a / b
    return 1.0 if a == 0 else None


def _histogram(syn: np.ndarray, hold: np.ndarray, bins: int = 30) -> tuple[dict[str, Any], float]:
    """Shares of rows per distance bin (0 to the 99th percentile; the rest in the last bin)."""
    both = np.concatenate([syn, hold])
    hi = float(np.quantile(both, 0.99))
    if hi <= 0:
        hi = float(both.max()) if both.max() > 0 else 1.0
    edges = np.linspace(0.0, hi, bins + 1)
    hist = {
        "edges": edges,
        "synthetic": np.histogram(np.clip(syn, 0, hi), edges)[0] / len(syn),
        "holdout": np.histogram(np.clip(hold, 0, hi), edges)[0] / len(hold),
    }
    return hist, hi


def _vote(labels: np.ndarray) -> np.ndarray:
    """Most frequent label per row; ties go to the label seen first (the nearest)."""
    counts = (labels[:, :, None] == labels[:, None, :]).sum(axis=2)
    j = counts.argmax(axis=1)
    return labels[np.arange(len(labels)), j]


def _attribute_inference(
    sensitive: str,
    is_numeric: bool,
    train: pd.DataFrame,
    candidates: pd.DataFrame,
    n_members: int,
    synth_ref: pd.DataFrame,
    neighbours: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-k member / non-member scores of the nearest-synthetic-neighbour attack."""
    member = np.zeros(len(candidates), dtype=bool)
    member[:n_members] = True
    rows = []
    if is_numeric:
        truth = as_numeric(candidates[sensitive])
        values = as_numeric(synth_ref[sensitive])[neighbours]
        tv = as_numeric(train[sensitive])
        tv = tv[~np.isnan(tv)]
        med = float(np.median(tv)) if tv.size else 0.0
        mad = float(np.mean(np.abs(tv - med))) if tv.size else 0.0
        mad = mad if mad > 0 else 1.0
        valid = ~np.isnan(truth)
        for k in range(1, neighbours.shape[1] + 1):
            v = values[:, :k]
            cnt = (~np.isnan(v)).sum(axis=1)
            pred = np.where(cnt > 0, np.nansum(v, axis=1) / np.maximum(cnt, 1), med)
            err = np.abs(pred - truth) / mad
            m = float(err[valid & member].mean()) if (valid & member).any() else np.nan
            n = float(err[valid & ~member].mean()) if (valid & ~member).any() else np.nan
            rows.append({"k": k, "members": m, "non_members": n, "advantage": n - m})
        info = {
            "kind": "numeric",
            "score": "MAE / mean absolute deviation from the train median (lower = better)",
            "baseline": 1.0,
        }
    else:
        truth_s = category_strings(candidates[sensitive]).to_numpy(dtype=object)
        ref_s = category_strings(synth_ref[sensitive]).to_numpy(dtype=object)
        codes, _ = pd.factorize(np.concatenate([truth_s, ref_s]))
        truth, ref_codes = codes[: len(truth_s)], codes[len(truth_s) :]
        labels = ref_codes[neighbours]
        for k in range(1, neighbours.shape[1] + 1):
            hit = _vote(labels[:, :k]) == truth
            m, n = float(hit[member].mean()), float(hit[~member].mean())
            rows.append({"k": k, "members": m, "non_members": n, "advantage": m - n})
        mode = category_strings(train[sensitive]).value_counts().index[0]
        info = {
            "kind": "categorical",
            "score": "accuracy (higher = better)",
            "baseline": float(np.mean(truth_s == mode)),
            "baseline_note": f"accuracy of always guessing the most common train value {mode!r}",
        }
    return pd.DataFrame(rows).set_index("k"), info


def evaluate_privacy(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    sensitive: str | None = None,
    max_rows: int = 10_000,
    random_state: int = 0,
    thresholds: GateThresholds | None = None,
) -> SectionResult:
    """Privacy risk of ``synthetic`` against the real ``train`` it was fitted on.

    See the module docstring for the exact definitions. Gated metrics (exact copies, DCR share,
    MIA AUC) get status ``pass``/``fail`` against ``thresholds``; :func:`privacy_gate` turns the
    result into a decision with reasons.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     return pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(list("abc"), n)})
    >>> train, holdout, synth = draw(400), draw(100), draw(400)
    >>> res = evaluate_privacy(train, synth, holdout)
    >>> res.metric("exact_copy_rate").value, res.metric("dcr_share").status
    (0.0, 'pass')
    >>> copied = evaluate_privacy(train, train, holdout)
    >>> copied.metric("exact_copy_rate").value, privacy_gate(copied).passed
    (1.0, False)
    """
    th = thresholds if thresholds is not None else GateThresholds()
    a, numeric, categorical, max_rows = _checked(train, synthetic, holdout, sensitive, max_rows)
    r = _Run.start(a, numeric, categorical, max_rows, random_state)
    copies = _exact_copies(r)
    dcr = _dcr(r)
    mia = _membership(r)
    metrics = [*_copy_metrics(r, copies, dcr, th), *_distance_metrics(r, dcr, mia, th)]
    tables, extra = _details(r, copies, dcr, mia)
    if sensitive is not None:
        metrics.append(_attribute_metric(r, mia, sensitive, tables, extra))
    result = SectionResult(
        name="privacy",
        metrics=metrics,
        tables=tables,
        skipped=list(a.skipped),
        extra=extra,
        method=(
            "Rows compared in a Gower-like embedding fitted on real train (numeric: robust "
            "z-scores with a missing flag; categorical: scaled one-hot) with L2 distance, and by "
            "hashing for exact copies; real holdout rows are the yardstick. Samples drawn with "
            f"random_state={random_state}: "
            + ", ".join(f"{k} {v:,}" for k, v in extra["sample_sizes"].items())
        ),
    )
    failures = judge(result, th)
    result.metrics = [
        dataclasses.replace(m, status="fail" if failures.get(m.key) else "pass")
        if m.key in GATED
        else m
        for m in result.metrics
    ]
    return result


def _checked(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    sensitive: str | None,
    max_rows: Any,
) -> tuple[Any, list[str], list[str], int]:
    """The aligned frames, numeric and categorical columns (sorted), and ``max_rows``."""
    if holdout is None:
        raise DataError(
            "privacy needs a real holdout (rows the synthesizer never saw) as the yardstick; "
            "split the real data with train_holdout_split first"
        )
    if isinstance(max_rows, bool) or not isinstance(max_rows, int | np.integer) or max_rows < 2:
        raise DataError(f"max_rows must be an integer >= 2, got {max_rows!r}")
    max_rows = int(max_rows)
    if sensitive is not None and isinstance(train, pd.DataFrame) and sensitive not in train:
        raise DataError(
            f"sensitive column {sensitive!r} is not in the real train data; "
            f"pick one of {[str(c) for c in train.columns]}"
        )
    a = align(train, synthetic, holdout)
    assert a.holdout is not None
    cols = sorted(a.columns, key=str)  # fixed order: results do not depend on column order
    if not cols:
        raise DataError(
            "no column can be compared between real and synthetic data: " + "; ".join(a.skipped)
        )
    numeric = [c for c in cols if c in a.numeric]
    categorical = [c for c in cols if c in a.categorical]
    if sensitive is not None:
        if sensitive not in cols:
            why = [s for s in a.skipped if repr(sensitive) in s]
            raise DataError(
                f"sensitive column {sensitive!r} cannot be compared"
                + (f" ({why[0]})" if why else "")
            )
        if len(cols) < 2:
            raise DataError(
                f"attribute inference on {sensitive!r} needs other columns the attacker knows"
            )
    return a, numeric, categorical, max_rows


@dataclass
class _Run:
    """The frames of one privacy evaluation, their row hashes and hash orders (rows are drawn
    in hash order, so results depend on neither row nor column order), the embedding and the
    one random generator every draw takes from, in a fixed sequence."""

    tr: pd.DataFrame
    sy: pd.DataFrame
    ho: pd.DataFrame
    numeric: list[str]
    h_tr: np.ndarray
    h_sy: np.ndarray
    h_ho: np.ndarray
    emb: MixedEmbedding
    rng: np.random.Generator
    max_rows: int

    @classmethod
    def start(
        cls, a: Any, numeric: list[str], categorical: list[str], max_rows: int, random_state: int
    ) -> _Run:
        cols = [*numeric, *categorical]
        cols = sorted(cols, key=str)
        tr, sy, ho = a.real[cols], a.synthetic[cols], a.holdout[cols]
        rng = np.random.default_rng(random_state)
        hashes = [row_hashes(df, numeric, categorical) for df in (tr, sy, ho)]
        emb = MixedEmbedding().fit(tr, numeric, categorical)
        return cls(tr, sy, ho, numeric, *hashes, emb, rng, max_rows)

    @property
    def n_tr(self) -> int:
        return len(self.tr)

    @property
    def n_sy(self) -> int:
        return len(self.sy)

    @property
    def n_ho(self) -> int:
        return len(self.ho)

    @property
    def ref_cap(self) -> int:
        return REFERENCE_FACTOR * self.max_rows

    def pick(self, which: str, n: int) -> np.ndarray:
        """``n`` row positions of ``"tr"``, ``"sy"`` or ``"ho"``, drawn in hash order."""
        order = np.argsort(getattr(self, f"h_{which}"), kind="stable")
        return _pick(order, n, self.rng)

    def embed(self, df: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
        return self.emb.transform(df.iloc[pos])


def _exact_copies(r: _Run) -> dict[str, Any]:
    """1. exact copies, all rows, by hash."""
    copies_sy = np.isin(r.h_sy, r.h_tr)
    copies_ho = np.isin(r.h_ho, r.h_tr)
    rate_sy, rate_ho = float(copies_sy.mean()), float(copies_ho.mean())
    p = max(rate_ho, 1.0 / r.n_ho)
    margin = COPY_Z * float(np.sqrt(p * (1 - p) * (1.0 / r.n_sy + 1.0 / r.n_ho)))
    return {
        "rate_sy": rate_sy,
        "rate_ho": rate_ho,
        "margin": margin,
        "count_sy": int(copies_sy.sum()),
        "count_ho": int(copies_ho.sum()),
    }


def _dcr(r: _Run) -> dict[str, Any]:
    """2. DCR share against equal-size train and holdout reference sets; 3. DCR distribution
    and NNDR against (up to ref_cap) train rows."""
    q_sy = r.pick("sy", r.max_rows)
    e_q = r.embed(r.sy, q_sy)
    m_eq = min(r.n_tr, r.n_ho, r.ref_cap)
    e_t_eq = r.embed(r.tr, r.pick("tr", m_eq))
    e_h_eq = r.embed(r.ho, r.pick("ho", m_eq))
    d_t = nearest_neighbors(e_q, e_t_eq, 1)[0][:, 0]
    d_h = nearest_neighbors(e_q, e_h_eq, 1)[0][:, 0]
    tie = np.abs(d_t - d_h) <= TIE_TOL
    share = float(np.mean((d_t < d_h) & ~tie) + 0.5 * np.mean(tie))
    t_all = r.pick("tr", r.ref_cap)
    e_t = r.embed(r.tr, t_all)
    k2 = min(2, len(t_all))
    dd_sy = nearest_neighbors(e_q, e_t, k2)[0]
    q_ho = r.pick("ho", r.max_rows)
    dd_ho = nearest_neighbors(r.embed(r.ho, q_ho), e_t, k2)[0]
    dcr_sy, dcr_ho = dd_sy[:, 0], dd_ho[:, 0]
    # the same comparison against all (up to ref_cap) train rows, undiluted by subsampling;
    # the fair value is n_t / (n_t + m_eq), so its odds are rescaled to make 0.5 fair again
    tie_f = np.abs(dcr_sy - d_h) <= TIE_TOL
    s_f = float(np.mean((dcr_sy < d_h) & ~tie_f) + 0.5 * np.mean(tie_f))
    n_t = len(t_all)
    nndr_sy = nndr_ho = None
    if k2 == 2:
        with np.errstate(invalid="ignore", divide="ignore"):
            r_sy = np.where(dd_sy[:, 1] > 0, dd_sy[:, 0] / dd_sy[:, 1], 1.0)
            r_ho = np.where(dd_ho[:, 1] > 0, dd_ho[:, 0] / dd_ho[:, 1], 1.0)
        nndr_sy, nndr_ho = float(np.median(r_sy)), float(np.median(r_ho))
    return {
        "n_queries": len(q_sy),
        "m_eq": m_eq,
        "share": share,
        "share_raw": s_f,
        "share_adj": s_f * m_eq / (s_f * m_eq + (1 - s_f) * n_t),
        "n_t": n_t,
        "n_ho_queries": len(q_ho),
        "k2": k2,
        "dcr_sy": dcr_sy,
        "dcr_ho": dcr_ho,
        "med_sy": float(np.median(dcr_sy)),
        "med_ho": float(np.median(dcr_ho)),
        "p5_sy": float(np.quantile(dcr_sy, 0.05)),
        "p5_ho": float(np.quantile(dcr_ho, 0.05)),
        "nndr_sy": nndr_sy,
        "nndr_ho": nndr_ho,
    }


def _membership(r: _Run) -> dict[str, Any]:
    """4. membership inference from the synthetic data only."""
    m_att = min(r.n_tr, r.n_ho, max(1, r.max_rows // 2))
    mem, non = r.pick("tr", m_att), r.pick("ho", m_att)
    s_ref = r.pick("sy", r.ref_cap)
    e_s = r.embed(r.sy, s_ref)
    e_cand = np.vstack([r.embed(r.tr, mem), r.embed(r.ho, non)])
    labels = np.r_[np.ones(m_att), np.zeros(m_att)]
    d_c = nearest_neighbors(e_cand, e_s, 1)[0][:, 0]
    return {
        "m_att": m_att,
        "mem": mem,
        "non": non,
        "s_ref": s_ref,
        "e_s": e_s,
        "e_cand": e_cand,
        "auc": float(roc_auc_score(labels, -d_c)),
    }


def _copy_metrics(
    r: _Run, c: dict[str, Any], d: dict[str, Any], th: GateThresholds
) -> list[Metric]:
    rate_sy, rate_ho, margin = c["rate_sy"], c["rate_ho"], c["margin"]
    n_sy, n_ho, m_eq, n_t, s_f = r.n_sy, r.n_ho, d["m_eq"], d["n_t"], d["share_raw"]
    return [
        Metric(
            key="exact_copy_rate",
            label="Exact copies of training rows",
            value=rate_sy,
            reference=rate_ho,
            threshold=rate_ho + th.max_exact_copy_rate + margin,
            better="lower",
            method=(
                "share of synthetic rows equal to a train row on every compared column (row "
                "hashes of normalised values, all rows); reference: the same share for real "
                "holdout rows; the bar is the holdout share + allowed excess "
                f"({th.max_exact_copy_rate:g}) + {COPY_Z:g} standard errors ({margin:.2g})"
            ),
            note=(
                f"{c['count_sy']:,} of {n_sy:,} synthetic rows; {c['count_ho']:,} "
                f"of {n_ho:,} holdout rows coincide with train rows by chance"
            ),
        ),
        Metric(
            key="dcr_share",
            label="DCR share (closer to train than to holdout)",
            value=d["share"],
            threshold=th.max_dcr_share,
            better="closer_to:0.5",
            method=(
                "fraction of synthetic rows whose closest train row is closer than their closest "
                "holdout row (equal-size reference sets, ties count half; Gower-like L2 "
                "distance); 0.5 is ideal, above ~0.55 memorising"
            ),
            note=f"{d['n_queries']:,} synthetic rows vs {m_eq:,} train and {m_eq:,} holdout rows",
        ),
        Metric(
            key="dcr_share_adjusted",
            label="DCR share against all train rows (size-adjusted)",
            value=d["share_adj"],
            better="closer_to:0.5",
            method=(
                "as the DCR share but against all train rows instead of a holdout-sized sample, "
                "its odds multiplied by n_holdout / n_train so that 0.5 stays the fair value; not "
                "diluted by the subsample, so a copy of the whole train set scores ~1"
            ),
            note=(
                f"raw share {s_f:.3f} against {n_t:,} train vs {m_eq:,} holdout rows "
                f"(fair value {n_t / (n_t + m_eq):.3f})"
            ),
        ),
    ]


def _distance_metrics(
    r: _Run, d: dict[str, Any], mia: dict[str, Any], th: GateThresholds
) -> list[Metric]:
    med_sy, med_ho, p5_sy, p5_ho = d["med_sy"], d["med_ho"], d["p5_sy"], d["p5_ho"]
    m_att = mia["m_att"]
    sample_note = (
        f"{d['n_queries']:,} of {r.n_sy:,} synthetic rows vs {d['n_t']:,} of {r.n_tr:,} train rows"
    )
    return [
        Metric(
            key="dcr_median_ratio",
            label="Median DCR, synthetic / holdout",
            value=_ratio(med_sy, med_ho),
            reference=1.0,
            better="higher",
            method=(
                "median distance to the closest train row of synthetic rows divided by that of "
                "real holdout rows; below 1, synthetic rows sit closer to training rows than "
                "real people do"
            ),
            note=f"medians {med_sy:.3g} (synthetic) and {med_ho:.3g} (holdout); {sample_note}",
        ),
        Metric(
            key="dcr_p5_ratio",
            label="5th-percentile DCR, synthetic / holdout",
            value=_ratio(p5_sy, p5_ho),
            reference=1.0,
            better="higher",
            method="as the median ratio, at the 5th percentile (the closest rows)",
            note=(
                f"5th percentiles {p5_sy:.3g} (synthetic) and {p5_ho:.3g} (holdout)"
                + ("; undefined: the holdout's is 0" if _ratio(p5_sy, p5_ho) is None else "")
            ),
        ),
        Metric(
            key="nndr",
            label="Median NNDR (synthetic)",
            value=d["nndr_sy"],
            reference=d["nndr_ho"],
            better="higher",
            method=(
                "median of distance to the closest / second-closest train row; reference: the "
                "same for real holdout rows; low values single out one training record"
            ),
            note=sample_note if d["k2"] == 2 else "needs at least 2 train rows",
        ),
        Metric(
            key="mia_auc",
            label="Membership inference AUC",
            value=mia["auc"],
            threshold=th.max_mia_auc,
            better="lower",
            method=(
                "ROC AUC of telling train members from holdout non-members by their distance to "
                "the closest synthetic row (closer = member); 0.5 = no leak"
            ),
            note=f"{m_att:,} members, {m_att:,} non-members, {len(mia['s_ref']):,} synthetic rows",
        ),
    ]


def _details(
    r: _Run, c: dict[str, Any], d: dict[str, Any], mia: dict[str, Any]
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The DCR quantile table and the plot and sample-size data (``extra``)."""
    dcr_sy, dcr_ho = d["dcr_sy"], d["dcr_ho"]
    qs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95]
    tables: dict[str, pd.DataFrame] = {
        "dcr_quantiles": pd.DataFrame(
            {"synthetic": np.quantile(dcr_sy, qs), "holdout": np.quantile(dcr_ho, qs)},
            index=pd.Index(qs, name="quantile"),
        )
    }
    hist, hist_hi = _histogram(dcr_sy, dcr_ho)
    sizes = {
        "train": r.n_tr,
        "synthetic": r.n_sy,
        "holdout": r.n_ho,
        "dcr_share_queries": d["n_queries"],
        "dcr_share_reference_each": d["m_eq"],
        "dcr_train_reference": d["n_t"],
        "dcr_holdout_queries": d["n_ho_queries"],
        "attack_members": mia["m_att"],
        "attack_non_members": mia["m_att"],
        "attack_synthetic_reference": len(mia["s_ref"]),
    }
    extra: dict[str, Any] = {
        "sample_sizes": sizes,
        "exact_copies": {
            "synthetic_rate": c["rate_sy"],
            "holdout_rate": c["rate_ho"],
            "excess": c["rate_sy"] - c["rate_ho"],
            "margin": c["margin"],
            "synthetic_count": c["count_sy"],
            "holdout_count": c["count_ho"],
        },
        # plot data: {"edges", "synthetic", "holdout"} only, as the report's renderer expects
        "distance_to_closest_train_row": hist,
        "dcr": {
            "histogram_note": (
                "shares of rows by distance to the closest train row; distances above the 99th "
                f"percentile ({hist_hi:.3g}) are counted in the last bin"
            ),
            "median": {"synthetic": d["med_sy"], "holdout": d["med_ho"]},
            "p5": {"synthetic": d["p5_sy"], "holdout": d["p5_ho"]},
        },
        "nndr": {"synthetic": d["nndr_sy"], "holdout": d["nndr_ho"]},
        "embedding": {
            "numeric_scale": "(x - train median) / (IQR / 1.349); std if IQR is 0; 1 if both 0",
            "categorical": f"one-hot of the top {r.emb.top} train categories + (other), "
            "x 1/sqrt(2)",
            "n_features": r.emb.n_features_,
        },
    }
    return tables, extra


def _attribute_metric(
    r: _Run,
    mia: dict[str, Any],
    sensitive: str,
    tables: dict[str, pd.DataFrame],
    extra: dict[str, Any],
) -> Metric:
    """5. attribute inference on the sensitive column (its table and extra added in place)."""
    m_att, s_ref = mia["m_att"], mia["s_ref"]
    mask = r.emb.feature_mask([sensitive])
    k = min(K_MAX, len(s_ref))
    nb = nearest_neighbors(mia["e_cand"][:, mask], mia["e_s"][:, mask], k)[1]
    cand_df = pd.concat([r.tr.iloc[mia["mem"]], r.ho.iloc[mia["non"]]], ignore_index=True)
    table, info = _attribute_inference(
        sensitive, sensitive in r.numeric, r.tr, cand_df, m_att, r.sy.iloc[s_ref], nb
    )
    tables["attribute_inference"] = table
    extra["attribute_inference"] = {"column": sensitive, **info}
    adv = table["advantage"]
    worst = None if adv.isna().all() else float(adv.max())
    return Metric(
        key="attribute_inference_advantage",
        label=f"Attribute inference advantage ({sensitive})",
        value=worst,
        reference=0.0,
        better="lower",
        method=(
            f"an attacker knowing the other columns predicts {sensitive!r} from the "
            f"k nearest synthetic rows (k = 1..{k}); {info['score']} on train members "
            "minus on holdout non-members, worst k; 0 = no extra risk for members"
        ),
        note=f"{m_att:,} members and {m_att:,} non-members; per-k figures in the table",
    )
