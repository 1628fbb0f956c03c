"""KPIs pinned on persona cards: a rate (or mean) per persona with its 95% confidence interval.

``describe_personas(df, seg, kpi=["churned"])`` (CLI ``--kpi churned``) shows on every card
the persona's real rate of the KPI, its 95% CI and the population's rate. A KPI is named as

* ``column``: a boolean or yes/no column counts its true level; a two-level column its rarer
  level (``income`` -> ``>50K``, ``y`` -> ``yes``); a numeric column its mean;
* ``column=level``: the share of that level (any categorical column).

The interval of a rate is Wilson's score interval; of a mean, mean +- 1.96 standard errors.
Missing values are left out of both (the count used is kept as ``n``).

>>> import pandas as pd
>>> df = pd.DataFrame({"churned": [True, False, True, False], "spend": [1.0, 2, 3, 4]})
>>> k = parse_kpi(df, "churned")
>>> k.label, k.level
('churned = True', 'True')
>>> s = kpi_stats(df, k, ["a", "a", "b", "b"], ["a", "b"])
>>> round(s[0].value, 2), s[0].n
(0.5, 2)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.validation import unknown_column_message
from synthcust.exceptions import DataError

__all__ = ["KPI", "KPISpec", "kpi_stats", "parse_kpi", "wilson"]

_TRUE = ("true", "yes", "1", "y", "t")
_Z = 1.959963984540054


@dataclass(frozen=True)
class KPISpec:
    """What a KPI counts: ``level`` of ``column`` (a rate), or its mean (``level`` None)."""

    column: str
    level: str | None

    @property
    def label(self) -> str:
        """How the cards name it: ``churned = True`` or ``mean balance``."""
        return f"{self.column} = {self.level}" if self.level is not None else \
            f"mean {self.column}"

    def values(self, df: pd.DataFrame) -> np.ndarray:
        """Per row: 1/0 (rate) or the number (mean); NaN where the column is missing."""
        s = df[self.column]
        if self.level is None:
            return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        hit = (s.astype(str) == self.level).to_numpy(dtype=float)
        return np.where(s.isna().to_numpy(), np.nan, hit)


@dataclass(frozen=True)
class KPI:
    """One KPI of one persona: its value, 95% CI, rows counted and the population's value."""

    column: str
    level: str | None
    label: str
    value: float
    low: float
    high: float
    n: int
    population: float

    @property
    def is_rate(self) -> bool:
        """Whether it is a share (shown as a percentage)."""
        return self.level is not None

    def sentence(self) -> str:
        """``churned = True: 57% (95% CI 53-62%) vs 20% overall``."""
        if self.is_rate:
            return (f"{self.label}: {self.value:.0%} (95% CI {self.low:.0%}-{self.high:.0%}) "
                    f"vs {self.population:.0%} overall")
        return (f"{self.label}: {self.value:,.4g} (95% CI {self.low:,.4g}-{self.high:,.4g}) "
                f"vs {self.population:,.4g} overall")

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``personas.json``), with the sentence."""
        return {**asdict(self), "text": self.sentence()}


def wilson(hits: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's 95% score interval of ``hits / n`` (vectorised; NaN where ``n`` is 0).

    >>> lo, hi = wilson(np.array([7]), np.array([10]))
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.397, 0.892)
    """
    hits, n = np.asarray(hits, float), np.asarray(n, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = hits / n
        den = 1 + _Z**2 / n
        mid = (p + _Z**2 / (2 * n)) / den
        half = _Z * np.sqrt(p * (1 - p) / n + _Z**2 / (4 * n**2)) / den
    return mid - half, mid + half


def parse_kpi(df: pd.DataFrame, spec: str) -> KPISpec:
    """Read ``column`` or ``column=level`` against ``df`` (see the module docstring).

    Raises
    ------
    DataError
        Naming the column or level and what to write instead.
    """
    text = str(spec).strip()
    col, level = text, None
    if text not in df.columns and "=" in text:
        col, level = (x.strip() for x in text.split("=", 1))
    if col not in df.columns:
        raise DataError(f"KPI: {unknown_column_message(col, [str(c) for c in df.columns])}")
    s = df[col]
    levels = [str(v) for v in pd.unique(s.dropna())]
    if level is not None:
        if level not in levels:
            shown = ", ".join(sorted(levels)[:12])
            raise DataError(f"KPI {text!r}: column {col!r} has no level {level!r}; its levels "
                            f"are {shown}")
        return KPISpec(col, level)
    if len(levels) < 2:
        raise DataError(f"KPI {col!r} has {len(levels)} distinct value(s); a KPI must vary")
    truthy = [v for v in levels if v.strip().lower() in _TRUE]
    if len(levels) == 2 and truthy:
        return KPISpec(col, truthy[0])
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric and len(levels) > 2:
        return KPISpec(col, None)
    if len(levels) == 2:
        counts = s.astype(str)[s.notna()].value_counts()
        return KPISpec(col, str(counts.index[-1]))  # the rarer level
    raise DataError(
        f"KPI {col!r} has {len(levels)} levels; name the one to count, e.g. "
        f"--kpi {col}={s.astype(str)[s.notna()].value_counts().index[0]}"
    )


def kpi_stats(df: pd.DataFrame, spec: KPISpec, labels: Any, ids: list[str]) -> list[KPI]:
    """The KPI of every persona in ``ids`` (rows labelled by ``labels``), in that order."""
    x = spec.values(df)
    code = pd.Categorical(np.asarray(labels, dtype=object), categories=ids).codes
    ok = np.isfinite(x) & (code >= 0)
    k = len(ids)
    n = np.bincount(code[ok], minlength=k).astype(float)
    s = np.bincount(code[ok], x[ok], minlength=k)
    pop = float(np.nanmean(x)) if ok.any() else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / n
        if spec.level is not None:
            lo, hi = wilson(s, n)
        else:
            q = np.bincount(code[ok], x[ok] ** 2, minlength=k)
            var = (q - n * mean**2) / (n - 1)
            se = np.sqrt(np.clip(var, 0, None) / n)
            lo, hi = mean - _Z * se, mean + _Z * se
    return [KPI(spec.column, spec.level, spec.label, float(mean[i]), float(lo[i]), float(hi[i]),
                int(n[i]), pop) for i in range(k)]
