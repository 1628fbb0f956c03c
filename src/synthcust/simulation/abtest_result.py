"""What a virtual A/B test returns: variants, :class:`ABTestResult` (a report), what it rests on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthcust.reporting import Report, plots
from synthcust.simulation.choice import ChoiceModel
from synthcust.simulation.reports import rests_on_view, table_view

__all__ = ["ABTestResult", "Variant", "model_rests_on"]


@dataclass(frozen=True)
class Variant:
    """A named set of changes: ``(attribute, alternative) -> change`` (see ``parse_change``)."""

    name: str
    changes: tuple[tuple[str, str, str], ...] = ()

    def describe(self) -> str:
        """The changes in words (``"no change"`` for the control)."""
        return "; ".join(f"{at} of {a} {c}" for at, a, c in self.changes) or "no change"


@dataclass
class ABTestResult(Report):
    """Conversion per variant and group, lift against the control, power, extrapolation.

    A :class:`synthcust.reporting.Report`: ``write(path)`` writes the HTML page (template
    ``simulation_abtest.html.j2``) and its JSON twin.
    """

    template: ClassVar[str] = "simulation_abtest.html.j2"

    variants: list[Variant]
    outcome: str
    conversion: pd.DataFrame
    lift: pd.DataFrame
    extrapolation: pd.DataFrame
    rests_on: dict[str, Any]
    n_customers: int
    n_draws: int
    level: float
    alpha: float
    power: float
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[str]:
        """Variants whose result is an extrapolation."""
        if self.extrapolation.empty:
            return []
        return sorted(set(self.extrapolation.loc[self.extrapolation["flag"], "variant"]))

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-ready."""

        def recs(df: pd.DataFrame) -> list[dict[str, Any]]:
            return json.loads(df.to_json(orient="records"))

        return {
            "kind": "abtest",
            "outcome": self.outcome,
            "variants": [{"name": v.name, "changes": v.describe()} for v in self.variants],
            "n_customers": self.n_customers,
            "n_draws": self.n_draws,
            "level": self.level,
            "alpha": self.alpha,
            "power": self.power,
            "conversion": recs(self.conversion),
            "lift": recs(self.lift),
            "extrapolation": recs(self.extrapolation),
            "extrapolated_variants": self.flagged,
            "rests_on": self.rests_on,
            "notes": list(self.notes),
        }

    def plot_svg(self) -> str:
        """Conversion per group and variant with intervals; extrapolations hatched."""
        plt = plots.pyplot()
        conv = self.conversion
        groups = list(dict.fromkeys(conv["group"]))
        names = [v.name for v in self.variants]
        w = min(2.0 + 1.1 * len(groups) * len(names) / 2, 7)
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(w + 3.2, 2.8),
                                      gridspec_kw={"width_ratios": [w, 3.2]})  # fmt: skip
        width = 0.8 / len(names)
        colors = [plots.HOLD, plots.SYNTH, plots.REAL, "#2e9d58", "#8e44ad", "#c0392b"]
        x = np.arange(len(groups))
        flagged = set(self.flagged)
        for i, nm in enumerate(names):
            sub = conv[conv["variant"] == nm].set_index("group").loc[groups]
            err = 100 * np.vstack([sub["conversion"] - sub["low"], sub["high"] - sub["conversion"]])
            ax.bar(x + (i - (len(names) - 1) / 2) * width, 100 * sub["conversion"], width,
                   yerr=np.clip(err, 0, None), capsize=2, color=colors[i % len(colors)],
                   hatch="//" if nm in flagged else None,
                   label=nm + (" (extrapolation)" if nm in flagged else ""))  # fmt: skip
        ax.set_xticks(x, groups, fontsize=7, rotation=20 if len(groups) > 4 else 0)
        ax.set_ylabel("conversion (%)")
        ax.set_title(self.outcome, fontsize=8, loc="right")
        plots.legend(ax)
        # lift against the control, points, with intervals
        lift = self.lift
        y = np.arange(len(lift))[::-1]
        err = np.vstack([lift["diff_pts"] - lift["diff_low"], lift["diff_high"] - lift["diff_pts"]])
        cols = ["#d1343a" if v in flagged else plots.REAL for v in lift["variant"]]
        ax2.errorbar(lift["diff_pts"], y, xerr=np.clip(np.nan_to_num(err), 0, None), fmt="none",
                     ecolor="#555", capsize=2)  # fmt: skip
        ax2.scatter(lift["diff_pts"], y, c=cols, s=14, zorder=3)
        ax2.axvline(0, color="#999", lw=0.8)
        ax2.set_yticks(y, [f"{v} · {g}" for v, g in zip(lift["variant"], lift["group"],
                                                         strict=True)], fontsize=6.5)  # fmt: skip
        ax2.set_xlabel(f"lift vs {self.variants[0].name} (pts)")
        return plots.svg(fig)

    # ---- report (synthcust.reporting.Report)
    @property
    def title(self) -> str:
        """The page title."""
        return "Virtual A/B test"

    def context(self) -> dict[str, Any]:
        """Template variables of ``simulation_abtest.html.j2``."""
        conv = self.conversion.copy()
        conv["status"] = np.where(conv["variant"].isin(self.flagged), "EXTRAPOLATION", "")
        lift = self.lift.copy()
        lift["status"] = np.where(lift["variant"].isin(self.flagged), "EXTRAPOLATION", "")
        return {
            "r": self,
            "level_pct": round(self.level * 100),
            "rests_on": rests_on_view(self.rests_on),
            "flagged": self.flagged,
            "plot": self.plot_svg(),
            "conversion": table_view(conv),
            "lift": table_view(lift),
            "extrapolation": None if self.extrapolation.empty else table_view(self.extrapolation),
        }


def model_rests_on(model: ChoiceModel, raw: dict[str, Any] | None, source: str | None) -> dict:
    """What a simulation rests on: the model, its fit, provenance and validation if recorded.

    Parameters
    ----------
    model
        The fitted choice model.
    raw
        Its dict form (:meth:`~synthcust.simulation.choice.ChoiceModel.to_dict`), which carries
        the provenance.
    source
        The model file, if it came from one.

    Returns
    -------
    dict
        ``model``, ``model_file``, ``fitted_on``, ``fit``, ``provenance``, ``validation`` and
        the list of unvalidated ``assumptions``.
    """
    raw = raw or {}
    prov = raw.get("provenance") if isinstance(raw.get("provenance"), dict) else None
    out: dict[str, Any] = {
        "model": f"{type(model).__name__} ({model.n_classes} class"
        f"{'es' if model.n_classes > 1 else ''})",
        "model_file": source or "(in memory)",
        "fitted_on": f"{model.n_obs_:,} occasions, {getattr(model, 'n_units_', '?')} units; "
        f"alternatives {list(model.spec_.alternatives)}, attributes {model.spec_.attribute_names}",
        "fit": f"log-likelihood {model.loglik_:.1f}, converged={model.converged_}, "
        f"standard errors: {model.cov_type_}",
    }
    assumptions: list[str] = []
    if prov:
        out["provenance"] = prov
    validation = (prov or {}).get("validation") or raw.get("validation")
    if validation:
        out["validation"] = validation
    else:
        out["validation"] = "none recorded"
        assumptions.append(
            "the choice model's predictions were not validated against held-out purchases "
            "(no validation in its provenance; run `synthcust validate-behaviour` on its data)"
        )
    if not prov:
        assumptions.append("the model file records no provenance (training data unknown)")
    out["assumptions"] = assumptions
    return out
