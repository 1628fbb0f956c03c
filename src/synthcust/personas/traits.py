"""One trait of a persona: a column (or category level) compared with the other customers.

How traits are measured
-----------------------
Each persona is compared with the customers outside it (one against the rest):

* numeric and date columns: mean and median inside vs the population, and the effect size
  Cohen's d on normal scores (rank-Gauss, so a few huge spenders do not dominate); the test is
  Welch's t on those normal scores (a van der Waerden-type test, robust to skew).
* categorical levels, booleans and missingness: share inside vs the population, lift (the
  ratio of the two), Cohen's h as effect size and the two-proportion z test.

A trait is *distinguishing* when its p-value is below ``ALPHA`` = 0.05 after a Bonferroni
correction over every test on the card set and its effect size is at least ``MIN_EFFECT`` = 0.2
(Cohen's "small").

>>> show_value(1234.5), show_value(0.123), show_value(12.0)
('1,234', '0.12', '12')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtri

__all__ = [
    "ALPHA",
    "MIN_EFFECT",
    "Trait",
    "jsonable",
    "normal_scores",
    "numeric_traits",
    "share_traits",
    "show_value",
    "strict_json",
    "unknown_persona_message",
]

MIN_EFFECT = 0.2
ALPHA = 0.05


@dataclass(frozen=True)
class Trait:
    """One column (or category level) of one persona compared with the population."""

    column: str
    kind: str  # "numeric" | "level" | "missing"
    level: str | None
    persona_value: float  # mean (numeric) or share (level, missing)
    population_value: float
    persona_median: float | None
    population_median: float | None
    lift: float | None  # persona_value / population_value where meaningful
    effect: float  # Cohen's d (numeric, on normal scores) or Cohen's h (shares)
    statistic: float  # Welch t or two-proportion z
    p_value: float
    test: str
    distinguishing: bool
    is_date: bool = False
    #: other ``column = level`` indicators that pick exactly the same customers (collapsed
    #: into this trait: "no internet service" in six add-on columns is one trait)
    same_as: tuple[str, ...] = ()

    @property
    def higher(self) -> bool:
        """Whether the persona is above the population on this trait."""
        return self.effect > 0

    def sentence(self) -> str:
        """A short, readable comparison with the population."""
        if self.kind == "numeric":
            v = show_value(self.persona_median, self.is_date)
            pv = show_value(self.population_median, self.is_date)
            return f"{self.column} median {v} vs {pv} overall"
        what = f"{self.column} missing" if self.kind == "missing" else \
            f"{self.column} = {self.level}"
        lift = f", x{self.lift:.1f}" if self.lift is not None and self.lift >= 1.5 else ""
        same = ""
        if self.same_as:
            more = f" and {len(self.same_as) - 2} more" if len(self.same_as) > 2 else ""
            same = f" (same customers: {', '.join(self.same_as[:2])}{more})"
        return (f"{what}: {self.persona_value:.0%} vs {self.population_value:.0%} overall"
                f"{lift}{same}")



def jsonable(v: Any) -> Any:
    """A scalar as JSON accepts it: NaN, NaT and missing as ``None``, dates as ISO text."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.date().isoformat()
    if isinstance(v, np.generic):
        return jsonable(v.item())
    if v is pd.NaT or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    return v


def strict_json(obj: Any) -> Any:
    """``obj`` with every non-finite float as None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [strict_json(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    return obj


def show_value(v: Any, is_date: bool = False) -> str:
    """A number (or a date held as days since 1970) as the cards show it."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    if is_date:
        return str(np.datetime64(round(float(v) * 86400), "s").astype("datetime64[D]"))
    a = abs(float(v))
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10 or float(v).is_integer():
        return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
    return f"{v:.2f}"


def unknown_persona_message(persona: Any, known: list[tuple[str, str]]) -> str:
    """The error text for an unknown persona, listing the known ids and names."""
    shown = "; ".join(f"{i} ({n})" if n and n != i else i for i, n in known)
    return f"unknown persona {persona!r}; the personas are: {shown}"



def normal_scores(x: np.ndarray) -> np.ndarray:
    """Rank-Gauss scores of the finite values (ties averaged); NaN stays NaN."""
    out = np.full(len(x), np.nan)
    ok = np.isfinite(x)
    r = stats.rankdata(x[ok])
    out[ok] = ndtri((r - 0.5) / ok.sum())
    return out


def numeric_traits(x: np.ndarray, lab: np.ndarray, k: int, col: str, is_date: bool) -> list:
    """Per persona: (persona mean/median, pop mean/median, d, t, p) on one numeric column."""
    ok = np.isfinite(x)
    z = normal_scores(x)
    zl, xl, labs = z[ok], x[ok], lab[ok]
    n_in = np.bincount(labs, minlength=k).astype(float)
    n_all = float(ok.sum())
    n_out = n_all - n_in
    s_in = np.bincount(labs, zl, minlength=k)
    q_in = np.bincount(labs, zl * zl, minlength=k)
    s_all, q_all = zl.sum(), (zl * zl).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        m_in, m_out = s_in / n_in, (s_all - s_in) / n_out
        v_in = (q_in - n_in * m_in**2) / (n_in - 1)
        v_out = (q_all - q_in - n_out * m_out**2) / (n_out - 1)
        se = np.sqrt(v_in / n_in + v_out / n_out)
        t = (m_in - m_out) / se
        dof = se**4 / ((v_in / n_in) ** 2 / (n_in - 1) + (v_out / n_out) ** 2 / (n_out - 1))
        pooled = np.sqrt(((n_in - 1) * v_in + (n_out - 1) * v_out) / (n_all - 2))
        d = (m_in - m_out) / pooled
    p = 2 * stats.t.sf(np.abs(t), dof)
    mean_in = np.bincount(labs, xl, minlength=k) / np.maximum(n_in, 1)
    mean_pop = float(xl.mean()) if len(xl) else np.nan
    med = pd.Series(xl).groupby(labs).median().reindex(range(k)).to_numpy()
    med_pop = float(np.median(xl)) if len(xl) else np.nan
    out = []
    for i in range(k):
        lift = None
        if not is_date and np.nanmin(xl, initial=np.inf) >= 0 and mean_pop > 0:
            lift = float(mean_in[i] / mean_pop)
        out.append(
            (i, dict(column=col, kind="numeric", level=None, persona_value=float(mean_in[i]),
                     population_value=mean_pop, persona_median=float(med[i]),
                     population_median=med_pop, lift=lift, effect=float(np.nan_to_num(d[i])),
                     statistic=float(np.nan_to_num(t[i])),
                     p_value=float(np.nan_to_num(p[i], nan=1.0)),
                     test="Welch t on normal scores", is_date=is_date))
        )
    return out


def share_traits(
    hit: np.ndarray, lab: np.ndarray, k: int, col: str, kind: str, level: str | None
) -> list:
    """Per persona: a 0/1 indicator's share inside vs population, lift, Cohen's h, z, p."""
    n_in = np.bincount(lab, minlength=k).astype(float)
    n = float(len(lab))
    x_in = np.bincount(lab, hit.astype(float), minlength=k)
    x_all = float(hit.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        p_in = x_in / n_in
        p_out = (x_all - x_in) / (n - n_in)
        pool = x_all / n
        se = np.sqrt(pool * (1 - pool) * (1 / n_in + 1 / (n - n_in)))
        zst = np.where(se > 0, (p_in - p_out) / se, 0.0)
    h = 2 * np.arcsin(np.sqrt(np.clip(p_in, 0, 1))) - 2 * np.arcsin(np.sqrt(np.clip(p_out, 0, 1)))
    p = 2 * stats.norm.sf(np.abs(zst))
    return [
        (i, dict(column=col, kind=kind, level=level, persona_value=float(p_in[i]),
                 population_value=pool, persona_median=None, population_median=None,
                 lift=float(p_in[i] / pool) if pool > 0 else None,
                 effect=float(np.nan_to_num(h[i])), statistic=float(np.nan_to_num(zst[i])),
                 p_value=float(np.nan_to_num(p[i], nan=1.0)), test="two-proportion z"))
        for i in range(k)
    ]
