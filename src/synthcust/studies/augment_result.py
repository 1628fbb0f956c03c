"""The augment-study's result: tables, verdict, forest plot, and its report (HTML + JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthcust.reporting import Report, Section, plots

__all__ = ["AugmentStudyResult", "fmt_ci", "study_verdict"]


# ------------------------------------------------------------------------------ results
@dataclass
class AugmentStudyResult(Report):
    """What :func:`~synthcust.studies.augment.augment_study` measured, and its report.

    ``full`` and ``small``: one row per method (index), columns ``f1``/``auc`` (means over
    seeds), ``f1_diff``/``auc_diff`` (vs ``none``) with ``*_lower``/``*_upper`` (95% CI) and
    ``seconds``; ``small`` has ``auc_diff_rest`` / ``auc_diff_holdout`` and their CIs.
    ``per_seed_full`` / ``per_seed_small``: one row per (method, seed). ``to_dict()``,
    ``to_html()`` and ``write(path)`` (HTML + JSON) come from
    :class:`~synthcust.reporting.Report`.
    """

    target: str
    positive: str
    classifier: str
    seeds: list[int]
    full: pd.DataFrame | None
    small: pd.DataFrame | None
    per_seed_full: pd.DataFrame | None
    per_seed_small: pd.DataFrame | None
    verdict: str
    how: dict[str, str]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def title(self) -> str:  # type: ignore[override]
        """The page title: the target and its minority class."""
        return f"augment-study: target {self.target} (minority class {self.positive})"

    def to_dict(self) -> dict[str, Any]:
        """Settings, verdict, how it was measured, and every table (records)."""

        def tab(df: pd.DataFrame | None) -> Any:
            if df is None:
                return None
            return json.loads(df.reset_index().to_json(orient="records"))

        return {
            "target": self.target,
            "positive": self.positive,
            "classifier": self.classifier,
            "seeds": self.seeds,
            "verdict": self.verdict,
            "how": self.how,
            "notes": self.notes,
            "seconds": self.seconds,
            "full": tab(self.full),
            "small": tab(self.small),
            "per_seed_full": tab(self.per_seed_full),
            "per_seed_small": tab(self.per_seed_small),
        }

    def context(self) -> dict[str, Any]:
        """Verdict and forest plot, the two protocols' tables, how each was measured, notes."""
        tables = {}
        if self.full is not None:
            tables["Full-data comparison (real holdout)"] = self.full.reset_index()
        if self.small is not None:
            tables["Small-data protocol (real held-out and never-drawn rows)"] = (
                self.small.reset_index()
            )
        main = Section(
            "Verdict",
            verdict=self.verdict,
            figures=[self.plot_svg()],
            intro=_LEGEND,
            tables=tables,
            digits=4,
        )
        how = Section(
            "How these figures were measured",
            bullets=[f"{k}: {v}" for k, v in self.how.items()],
        )
        sections = [main, how]
        if self.notes:
            sections.append(Section("Notes", bullets=list(self.notes)))
        return {
            "subtitle": f"classifier {self.classifier} · {len(self.seeds)} seeds · "
            f"{self.seconds:,.0f} s",
            "sections": sections,
        }

    def plot_svg(self) -> str:
        """Forest plot: each method's change vs ``none`` with its 95% CI (inline SVG)."""
        plt = plots.pyplot()
        panels = []
        if self.full is not None:
            panels += [
                (self.full, "f1_diff", "Full data: minority F1 vs none"),
                (self.full, "auc_diff", "Full data: AUC vs none"),
            ]
        if self.small is not None:
            col = "auc_diff_rest" if "auc_diff_rest" in self.small else "auc_diff_holdout"
            panels.append((self.small, col, "Small data: AUC vs none (real rows)"))
        fig, axes = plt.subplots(
            1, len(panels), figsize=(3.4 * len(panels), 0.32 * _n_rows(panels) + 1.2)
        )
        axes = np.atleast_1d(axes)
        for ax, (df, col, title) in zip(axes, panels, strict=True):
            d = df.drop(index="none", errors="ignore")
            y = np.arange(len(d))[::-1]
            lo, hi, mid = d[f"{col}_lower"], d[f"{col}_upper"], d[col]
            colors = [
                plots.REAL if a > 0 else (plots.SYNTH if b < 0 else plots.HOLD)
                for a, b in zip(lo, hi, strict=True)
            ]
            ax.hlines(y, lo, hi, color=colors, lw=2)
            ax.scatter(mid, y, color=colors, zorder=3, s=14)
            ax.axvline(0, color="black", lw=0.8)
            ax.set_yticks(y, list(d.index), fontsize=8)
            ax.set_title(title, fontsize=9, loc="left")
            ax.set_xlabel("difference (95% CI)")
        fig.tight_layout()
        return plots.svg(fig)


_LEGEND = (
    "Each line: a method's mean change vs no oversampling ('none') with its 95% CI. Blue: a "
    "reliable gain (CI above 0); orange: reliably worse (CI below 0); grey: the CI includes 0 "
    "(no reliable difference)."
)


def _n_rows(panels: list[tuple[pd.DataFrame, str, str]]) -> int:
    return max(len(p[0]) for p in panels) if panels else 1


def fmt_ci(m: float, lo: float, hi: float) -> str:
    """``+0.0123 (95% CI +0.0010 to +0.0236)``."""
    return f"{m:+.4f} (95% CI {lo:+.4f} to {hi:+.4f})"


def study_verdict(
    full: pd.DataFrame | None, small: pd.DataFrame | None, n_seeds: int, n_fit: int = 960
) -> str:
    """The study's verdict in words: the method with the largest reliable gain and by how
    much, per protocol; a CI that includes zero reads "no reliable gain"."""
    parts = []
    if full is not None and len(full) > 1:
        d = full.drop(index="none")
        helped = d[d["f1_diff_lower"] > 0].sort_values("f1_diff", ascending=False)
        worse = list(d.index[d["f1_diff_upper"] < 0])
        if len(helped):
            b = helped.iloc[0]
            name = helped.index[0]
            auc_txt = fmt_ci(b["auc_diff"], b["auc_diff_lower"], b["auc_diff_upper"])
            auc_gain = b["auc_diff_lower"] > 0
            parts.append(
                f"Full data ({n_seeds} seeds): {name} helped most: minority-class F1 "
                f"{b['f1']:.4f} vs {full.loc['none', 'f1']:.4f} without it, a change of "
                + fmt_ci(b["f1_diff"], b["f1_diff_lower"], b["f1_diff_upper"])
                + f"; AUC {auc_txt}"
                + (
                    "."
                    if auc_gain
                    else " — no reliable AUC gain, so the F1 gain is mostly a shift of the "
                    "decision threshold (the same may be had by tuning it)."
                )
            )
            others = [m for m in helped.index[1:]]
            if others:
                parts.append(f"Also a reliable F1 gain: {', '.join(others)}.")
        else:
            parts.append(
                f"Full data ({n_seeds} seeds): no method gave a reliable gain in minority-class "
                "F1 (every 95% CI includes zero or lies below it): no reliable gain."
            )
        none_gain = [m for m in d.index if m not in helped.index and m not in worse]
        if none_gain:
            parts.append(f"No reliable gain: {', '.join(none_gain)}.")
        if worse:
            parts.append(f"Reliably worse F1: {', '.join(worse)}.")
    if small is not None and len(small) > 1:
        col = "auc_diff_rest"
        d = small.drop(index="none")
        best = d[col].idxmax()
        b = d.loc[best]
        reliable = b[f"{col}_lower"] > 0
        head = (
            f"Small data ({n_fit:,} real rows, {n_seeds} seeds, AUC on the real rows never drawn): "
        )
        ci = fmt_ci(b[col], b[f"{col}_lower"], b[f"{col}_upper"])
        if reliable:
            parts.append(head + f"{best} helped most, AUC {ci}: a reliable gain.")
        else:
            parts.append(
                head + f"no method gave a reliable AUC gain (closest: {best}, {ci}): "
                "no reliable gain."
            )
        aug = [m for m in d.index if m.startswith("augment:")]
        for m in aug:
            if m == best:
                continue
            r = d.loc[m]
            ok, bad = r[f"{col}_lower"] > 0, r[f"{col}_upper"] < 0
            parts.append(
                f"{m} (small-data protocol): AUC "
                + fmt_ci(r[col], r[f"{col}_lower"], r[f"{col}_upper"])
                + (
                    ", a reliable gain."
                    if ok
                    else (", reliably worse: no gain." if bad else ", no reliable gain.")
                )
            )
        worse = [m for m in d.index if d.loc[m, f"{col}_upper"] < 0]
        if worse:
            parts.append(f"Small data, reliably lower AUC: {', '.join(worse)}.")
    return " ".join(parts) if parts else "Nothing to compare (only 'none' was run)."
