"""The diversity report: subgroup coverage of real vs synthetic data (HTML + JSON).

>>> import pandas as pd
>>> from synthcust.evaluation.diversity import coverage
>>> real = pd.DataFrame({"region": ["n"] * 900 + ["s"] * 100})
>>> page = DiversityReport(coverage(real, real, ["region"])).to_html()
>>> "too small to speak for" in page
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synthcust.evaluation.diversity import CoverageReport
from synthcust.reporting import plots
from synthcust.reporting.base import Report, Section

__all__ = ["DiversityReport", "coverage_svg"]


def coverage_svg(cov: CoverageReport) -> str:
    """Real vs synthetic share of every group (log-log; identity line; ratio band shaded);
    groups too small to speak for in grey, under/over-represented or missing in red."""
    plt = plots.pyplot()
    t = cov.table
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    floor = 0.5 / max(cov.n_synth, 1)
    x = t["real_share"].clip(lower=0.5 / cov.n_real)
    y = t["synthetic_share"].clip(lower=floor)
    fl = t["flags"].str.split(", ")
    small = fl.apply(lambda x: "too small" in x)
    bad = fl.apply(lambda x: bool({"under", "over", "missing in synthetic",
                                   "not in real"} & set(x)))  # fmt: skip
    ok = ~small & ~bad
    ax.scatter(x[ok], y[ok], s=10, color=plots.REAL, label="ok", alpha=0.8)
    ax.scatter(x[small], y[small], s=10, color=plots.HOLD, label="too small to speak for")
    ax.scatter(x[bad & ~small], y[bad & ~small], s=14, color="#d1343a",
               label="under / over / missing")  # fmt: skip
    g = np.geomspace(float(min(x.min(), y.min())) * 0.8, 1.0, 50)
    ax.plot(g, g, color="#555", lw=0.8)
    ax.fill_between(g, g * cov.ratio_band[0], g * cov.ratio_band[1], color="#ccc",
                    alpha=0.4, lw=0)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("real share")
    ax.set_ylabel("synthetic share")
    plots.legend(ax)
    return plots.svg(fig)


@dataclass
class DiversityReport(Report):
    """Subgroup coverage (:func:`synthcust.evaluation.diversity.coverage`) as a report.

    Parameters
    ----------
    result : CoverageReport
        The coverage table and its settings.
    """

    result: CoverageReport
    title = "synthcust diversity report"

    def to_dict(self) -> dict[str, Any]:
        """Every group's counts, shares, ratio and flags, and the settings."""
        return self.result.to_dict()

    def context(self) -> dict[str, Any]:
        """One section: method, what it rests on, summary, plot, flagged and all groups."""
        r = self.result
        t = r.table
        worst = t[t["flags"] != ""].sort_values(["order", "real_n"])
        lo, hi = r.ratio_band
        method = (
            f"A group is too small to speak for with fewer than {r.min_n} real rows or when the "
            f"95% Wilson interval of its real share is wider than +-"
            f"{100 * r.max_rel_halfwidth:.0f}% of the share: its real share is not known well "
            "enough to judge the synthetic one. under/over: synthetic share / real share outside "
            f"[{lo}, {hi}] for a group that is not too small, the shares differing by a "
            "two-proportion z-test (p < 0.05). Shares are of all rows; groups by several columns "
            "are their combinations."
        )
        sec = Section(
            "Diversity: subgroup coverage, real vs synthetic",
            intro=f"{r.n_real:,} real rows · {r.n_synth:,} synthetic rows · subgroups of "
            f"{', '.join(r.by)} up to order {int(t['order'].max())}",
            method=method,
            rests_on=r.rests_on,
            figures=[coverage_svg(r)],
            tables={"Summary": r.summary(), f"Flagged groups ({len(worst)})": worst},
            details={"All groups": t},
            bullets=list(r.notes),
            max_rows=2000,
        )
        return {"sections": [sec]}
