"""Diversity and bias: subgroup coverage of real vs synthetic populations, and weighted panels.

:func:`coverage` counts every demographic subgroup given by one column and by every
combination of 2 (or 3) columns in the real and the synthetic population: counts, shares, the
ratio synthetic share / real share, and flags:

* ``too small``: the real data cannot speak for the group: fewer than ``min_n`` real rows, or
  the 95% Wilson interval of its real share has a relative half-width above
  ``max_rel_halfwidth`` (the share is known only to within +-50% by default),
* ``missing in synthetic`` (a real group the synthesizer never produces), ``not in real``
  (an invented combination), ``under``/``over`` (ratio outside ``ratio_band`` for a group big
  enough to judge, and the shares differ by a two-proportion z-test at ``1 - level``),
  ``synthetic too small`` (fewer than ``min_n`` synthetic rows: a design
  check on the synthetic data would rest on a handful of rows).

Numeric columns with many values are cut into quintiles of the real data; missing values form
their own group.

:func:`oversampled_panel` draws a synthetic panel that over-samples small groups (every cell
of the ``by`` columns gets at least ``min_per_group`` rows, by conditional sampling from a
synthcust synthesizer, ``model.sample(n, conditions={...})``) and attaches *design weights*
``w_c = population share_c / panel share_c``, so weighted estimates return to the population
(the cell's population share comes from the real data when given). Small groups can then be
checked with enough rows, without pretending the population changed; the Kish effective sample
size ``(sum w)^2 / sum w^2`` says what the weighting costs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthcust.exceptions import DataError

__all__ = [
    "CoverageReport",
    "Panel",
    "coverage",
    "oversampled_panel",
    "panel_check",
    "weighted_mean",
]

MISSING = "(missing)"


def _check_cols(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(
            f"subgroup column(s) {missing} are not in the {what} data; its columns are "
            f"{list(df.columns)[:20]}{' ...' if len(df.columns) > 20 else ''}"
        )


def _labels(real: pd.Series, synth: pd.Series, bins: int, max_levels: int,
            notes: list[str]) -> tuple[pd.Series, pd.Series]:  # fmt: skip
    """String group labels of one column in both frames (quantile bins for many numbers)."""
    name = real.name
    if pd.api.types.is_numeric_dtype(real) and not pd.api.types.is_bool_dtype(real) and (
        real.nunique() > 20
    ):
        edges = np.unique(np.nanquantile(real.astype(float), np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        lab = [f"[{edges[i]:.4g}, {edges[i + 1]:.4g})" for i in range(len(edges) - 1)]
        lab[0] = f"< {edges[1]:.4g}"
        lab[-1] = f">= {edges[-2]:.4g}"

        def cut(s: pd.Series) -> pd.Series:
            c = pd.cut(s.astype(float), edges, right=False, labels=lab)
            return c.astype(object).where(c.notna(), MISSING).astype(str)

        notes.append(f"{name!r} is numeric: cut into {len(lab)} quantile groups of the real data")
        return cut(real), cut(synth)
    r = real.astype(object).where(real.notna(), MISSING).astype(str)
    s = synth.astype(object).where(synth.notna(), MISSING).astype(str)
    top = r.value_counts()
    if len(top) > max_levels:
        keep = set(top.index[:max_levels])
        r = r.where(r.isin(keep), "(other)")
        s = s.where(s.isin(keep), "(other)")
        notes.append(f"{name!r} has {len(top)} values: all but the {max_levels} most frequent "
                     "are grouped as (other)")  # fmt: skip
    return r, s


def _wilson(k: np.ndarray, n: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / max(n, 1)
    den = 1 + z**2 / n
    c = (p + z**2 / (2 * n)) / den
    h = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return c - h, c + h


@dataclass
class CoverageReport:
    """Subgroup coverage table and settings; see :func:`coverage`.

    The report page is :class:`synthcust.reporting.diversity.DiversityReport`.
    """

    table: pd.DataFrame
    by: list[str]
    n_real: int
    n_synth: int
    min_n: int
    max_rel_halfwidth: float
    ratio_band: tuple[float, float]
    notes: list[str] = field(default_factory=list)
    rests_on: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Groups per order and flag."""
        t = self.table
        flags = ["too small", "missing in synthetic", "not in real", "under", "over",
                 "synthetic too small"]  # fmt: skip
        rows = []
        for o, sub in t.groupby("order"):
            row = {"order": int(o), "groups": len(sub)}
            for f in flags:
                row[f] = int(sub["flags"].str.split(", ").apply(lambda x, f=f: f in x).sum())
            rows.append(row)
        return pd.DataFrame(rows)

    def flagged(self, flag: str) -> pd.DataFrame:
        """Rows carrying ``flag``."""
        return self.table[self.table["flags"].str.split(", ").apply(lambda x: flag in x)]

    def to_dict(self) -> dict[str, Any]:
        """Settings, summary and every group, JSON-safe."""
        return {
            "kind": "diversity",
            "by": self.by,
            "n_real": self.n_real,
            "n_synthetic": self.n_synth,
            "min_n": self.min_n,
            "max_rel_halfwidth": self.max_rel_halfwidth,
            "ratio_band": list(self.ratio_band),
            "summary": json.loads(self.summary().to_json(orient="records")),
            "groups": json.loads(self.table.to_json(orient="records")),
            "rests_on": self.rests_on,
            "notes": self.notes,
        }


def coverage(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    by: Sequence[str] | str,
    *,
    max_order: int = 2,
    min_n: int = 30,
    max_rel_halfwidth: float = 0.5,
    ratio_band: tuple[float, float] = (0.8, 1.25),
    level: float = 0.95,
    bins: int = 5,
    max_levels: int = 30,
) -> CoverageReport:
    """Coverage of every subgroup of ``by`` (and their combinations up to ``max_order``).

    >>> real = pd.DataFrame({"region": ["n"] * 900 + ["s"] * 100})
    >>> syn = pd.DataFrame({"region": ["n"] * 990 + ["s"] * 10})
    >>> r = coverage(real, syn, ["region"])
    >>> r.table.set_index("group").loc["region=s", "flags"]
    'under, synthetic too small'
    """
    cols = [c.strip() for c in by.split(",")] if isinstance(by, str) else list(by)
    if not cols:
        raise DataError("name at least one subgroup column")
    if len(set(cols)) != len(cols):
        raise DataError(f"subgroup columns repeat: {cols}")
    _check_cols(real, cols, "real")
    _check_cols(synthetic, cols, "synthetic")
    if not 1 <= max_order <= 3:
        raise DataError(f"max_order must be 1, 2 or 3, not {max_order}")
    if len(real) == 0 or len(synthetic) == 0:
        raise DataError("both the real and the synthetic data need rows")
    notes: list[str] = []
    R, S = {}, {}
    for c in cols:
        R[c], S[c] = _labels(real[c], synthetic[c], bins, max_levels, notes)
    nr, ns = len(real), len(synthetic)
    frames = []
    for order in range(1, min(max_order, len(cols)) + 1):
        for combo in combinations(cols, order):
            rk = R[combo[0]].copy()
            sk = S[combo[0]].copy()
            for c in combo[1:]:
                rk = rk + "\x1f" + R[c]
                sk = sk + "\x1f" + S[c]
            rc = rk.value_counts()
            sc = sk.value_counts()
            keys = rc.index.union(sc.index)
            f = pd.DataFrame({"key": keys})
            f["real_n"] = rc.reindex(keys, fill_value=0).to_numpy()
            f["synthetic_n"] = sc.reindex(keys, fill_value=0).to_numpy()
            f["order"] = order
            f["columns"] = " x ".join(combo)
            parts = f["key"].str.split("\x1f")
            f["group"] = parts.apply(
                lambda vs, combo=combo: " & ".join(f"{c}={v}" for c, v in zip(combo, vs,
                                                                              strict=True))
            )  # fmt: skip
            frames.append(f.drop(columns="key"))
    t = pd.concat(frames, ignore_index=True)
    t["real_share"] = t["real_n"] / nr
    t["synthetic_share"] = t["synthetic_n"] / ns
    lo, hi = _wilson(t["real_n"].to_numpy(float), nr, level)
    t["real_low"], t["real_high"] = lo, hi
    with np.errstate(divide="ignore", invalid="ignore"):
        t["ratio"] = t["synthetic_share"] / t["real_share"].where(t["real_n"] > 0)
        relhw = (hi - lo) / 2 / t["real_share"].where(t["real_n"] > 0)
    t["rel_halfwidth"] = relhw
    pooled = (t["real_n"] + t["synthetic_n"]) / (nr + ns)
    se = np.sqrt(pooled * (1 - pooled) * (1 / nr + 1 / ns))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (t["synthetic_share"] - t["real_share"]) / se
    t["p_value"] = np.where(se > 0, 2 * stats.norm.sf(np.abs(z)), 1.0)
    sig = t["p_value"] < 1 - level
    small = (t["real_n"] < min_n) | (relhw > max_rel_halfwidth)
    flags = [
        ("too small", small & (t["real_n"] > 0)),
        ("missing in synthetic", (t["real_n"] > 0) & (t["synthetic_n"] == 0)),
        ("not in real", (t["real_n"] == 0) & (t["synthetic_n"] > 0)),
        ("under", ~small & sig & (t["synthetic_n"] > 0) & (t["ratio"] < ratio_band[0])),
        ("over", ~small & sig & (t["ratio"] > ratio_band[1])),
        ("synthetic too small", (t["synthetic_n"] > 0) & (t["synthetic_n"] < min_n)),
    ]
    lab = np.full(len(t), "", dtype=object)
    for name, mask in flags:
        m = mask.to_numpy()
        lab[m] = np.where(lab[m] == "", name, lab[m] + ", " + name)
    t["flags"] = lab
    t = t[["order", "columns", "group", "real_n", "real_share", "real_low", "real_high",
           "rel_halfwidth", "synthetic_n", "synthetic_share", "ratio", "p_value",
           "flags"]]  # fmt: skip
    t = t.sort_values(["order", "columns", "real_n"], ascending=[True, True, False])
    rests = {
        "real": f"{nr:,} rows",
        "synthetic": f"{ns:,} rows",
        "method": f"counts per subgroup; {round(level * 100)}% Wilson intervals of the real "
        "shares",
        "assumptions": [],
    }
    return CoverageReport(t.reset_index(drop=True), cols, nr, ns, int(min_n),
                          float(max_rel_halfwidth), tuple(ratio_band), notes, rests)  # fmt: skip


# --------------------------------------------------------------------------- panel
@dataclass
class Panel:
    """An over-sampled synthetic panel with design weights (column ``weight``)."""

    frame: pd.DataFrame
    cells: pd.DataFrame
    by: list[str]
    weight: str
    effective_n: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The panel's cells and weights (not its rows), JSON-safe."""
        return {
            "by": self.by,
            "rows": len(self.frame),
            "effective_n": self.effective_n,
            "cells": json.loads(self.cells.to_json(orient="records")),
            "notes": self.notes,
        }


def weighted_mean(values: pd.Series | np.ndarray, weights: pd.Series | np.ndarray,
                  level: float = 0.95) -> tuple[float, float, float]:  # fmt: skip
    """Weighted (Hajek) mean with a linearisation interval ``(mean, low, high)``."""
    y = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = np.isfinite(y) & np.isfinite(w)
    y, w = y[keep], w[keep]
    if w.sum() <= 0:
        raise DataError("the weights sum to 0")
    m = float((w * y).sum() / w.sum())
    u = w * (y - m) / w.sum()
    se = math.sqrt(len(y) / max(len(y) - 1, 1) * float((u**2).sum()))
    z = stats.norm.ppf(0.5 + level / 2)
    return m, m - z * se, m + z * se


def oversampled_panel(
    model: Any,
    n: int,
    by: Sequence[str] | str,
    *,
    population: pd.DataFrame | None = None,
    min_per_group: int = 30,
    population_sample: int = 20_000,
    weight: str = "weight",
    random_state: int | None = 0,
) -> Panel:
    """A synthetic panel of about ``n`` rows (more when small cells are lifted) in which every
    cell of the ``by`` columns has at least ``min_per_group`` rows, with design weights.

    ``model`` is anything with ``sample(n, conditions={col: value}, random_state=...)`` (a
    :class:`synthcust.api.SynthModel` or a synthesizer). Cells and their population shares come
    from ``population`` (the real data: the population the weights return to) or, without it,
    from ``population_sample`` unconditional draws of the model (noted). Cells are allocated
    proportionally, then lifted to ``min_per_group``; each row gets ``w_c = pi_c / (n_c / n)``
    with ``pi_c`` the population share and ``n_c / n`` the panel share of its cell, so
    ``sum_c w_c n_c = n`` and weighted means estimate population means.
    """
    cols = [c.strip() for c in by.split(",")] if isinstance(by, str) else list(by)
    if not cols:
        raise DataError("name at least one column to over-sample by")
    if isinstance(n, bool) or int(n) <= 0:
        raise DataError(f"n must be a positive number of rows, not {n!r}")
    if min_per_group < 1:
        raise DataError(f"min_per_group must be >= 1, not {min_per_group}")
    notes: list[str] = []
    rng = np.random.default_rng(random_state)
    if population is None:
        population = model.sample(int(population_sample),
                                  random_state=int(rng.integers(2**31)))  # fmt: skip
        notes.append(
            f"population shares estimated from {population_sample:,} unconditional draws of the "
            "synthesizer (no real population given): the weights return to the synthesizer's "
            "population, which is only as right as the synthesizer"
        )
        src = "synthesizer draws"
    else:
        src = f"the given population ({len(population):,} rows)"
    _check_cols(population, cols, "population")
    for c in cols:
        if pd.api.types.is_float_dtype(population[c]) and population[c].nunique() > 50:
            raise DataError(f"{c!r} is a continuous column; over-sample by a categorical one "
                            "(or a banded copy of it)")  # fmt: skip
    pop = population[cols]
    if pop.isna().any().any():
        bad = [c for c in cols if pop[c].isna().any()]
        notes.append(f"rows with missing {bad} are left out of the cells")
        pop = pop.dropna()
    shares = pop.value_counts(normalize=True, sort=False).rename("population_share")
    cells = shares.reset_index()
    pi = cells["population_share"].to_numpy()
    alloc = np.maximum(np.round(pi * n).astype(int), min_per_group)
    cells["panel_n"] = alloc
    total = int(alloc.sum())
    cells["panel_share"] = alloc / total
    cells["weight"] = pi / cells["panel_share"]
    frames = []
    for i, rec in enumerate(cells[cols].to_dict("records")):
        cond = {c: _py(v) for c, v in rec.items()}
        try:
            d = model.sample(int(alloc[i]), conditions=cond,
                             random_state=int(rng.integers(2**31)))  # fmt: skip
        except Exception as e:  # report which cell failed
            raise DataError(f"conditional sampling of cell {cond} failed: {e}") from e
        d = d.assign(**{weight: float(cells["weight"].iloc[i])})
        frames.append(d)
    frame = pd.concat(frames, ignore_index=True)
    w = frame[weight].to_numpy()
    neff = float(w.sum() ** 2 / (w**2).sum())
    notes.append(
        f"{len(cells)} cells, {total:,} rows; Kish effective sample size {neff:,.0f} "
        f"(the cost of the unequal weights); population shares from {src}"
    )
    return Panel(frame, cells, cols, weight, neff, notes)


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def panel_check(panel: Panel, population: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Population vs weighted and unweighted panel means of numeric/boolean ``columns``."""
    _check_cols(population, list(columns), "population")
    _check_cols(panel.frame, list(columns), "panel")
    rows = []
    for c in columns:
        y = pd.to_numeric(panel.frame[c], errors="coerce")
        m, lo, hi = weighted_mean(y, panel.frame[panel.weight])
        rows.append({"column": c,
                     "population": float(pd.to_numeric(population[c], errors="coerce").mean()),
                     "panel_unweighted": float(y.mean()), "panel_weighted": m,
                     "weighted_low": lo, "weighted_high": hi})  # fmt: skip
    return pd.DataFrame(rows)
