"""The report of a fitted choice model: estimates, classes, price elasticities, WTP."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthcust.reporting import Report, plots
from synthcust.simulation.choice import ChoiceData, ChoiceModel, LatentClassLogit
from synthcust.simulation.reports import table_view

__all__ = ["ChoiceModelReport", "model_report"]


@dataclass(eq=False)
class ChoiceModelReport(Report):
    """A fitted choice model described: estimates with standard errors, latent classes, price
    elasticities with parameter-draw intervals and willingness to pay with delta-method
    intervals (the last two when the model has a price).

    A :class:`synthcust.reporting.Report` (template ``simulation_choice_model.html.j2``).

    Parameters
    ----------
    model
        The fitted model.
    data
        The occasions the elasticities are aggregated over (usually the training data).
    n_draws
        Parameter draws of the elasticity intervals.
    random_state
        Seed of the draws.
    """

    model: ChoiceModel
    data: ChoiceData
    n_draws: int = 200
    random_state: int | None = 0

    template: ClassVar[str] = "simulation_choice_model.html.j2"
    title: ClassVar[str] = "Choice model"

    @cached_property
    def elasticities(self) -> dict[str, pd.DataFrame] | None:
        """Aggregate price elasticities (None without a price attribute)."""
        if self.model.spec_.price is None:
            return None
        return self.model.elasticities(self.data, n_draws=self.n_draws,
                                       random_state=self.random_state)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The model's dict form, its summary, elasticities and WTP."""
        m = self.model
        out: dict[str, Any] = {
            "model": m.to_dict(),
            "summary": m.summary().reset_index().to_dict(orient="records"),
        }
        el = self.elasticities
        if el is not None:
            out["elasticities"] = {k: v.to_dict() for k, v in el.items()}
            out["wtp"] = m.wtp().to_dict(orient="records")
        return out

    def plot_svg(self) -> str:
        """Own-price elasticity per alternative with its interval."""
        el = self.elasticities
        assert el is not None
        alts = list(self.model.spec_.alternatives)
        own = np.diag(el["estimate"].to_numpy())
        plt = plots.pyplot()
        fig, ax = plt.subplots(figsize=(4.2, 2.4))
        err = None
        if "low" in el:
            err = np.abs(np.vstack([own - np.diag(el["low"].to_numpy()),
                                    np.diag(el["high"].to_numpy()) - own]))  # fmt: skip
        ax.bar(alts, own, yerr=err, color=plots.REAL, capsize=3)
        ax.set_ylabel("own-price elasticity")
        ax.axhline(0, color="#888", lw=0.6)
        return plots.svg(fig)

    def context(self) -> dict[str, Any]:
        """Template variables of ``simulation_choice_model.html.j2``."""
        m = self.model
        summ = m.summary().reset_index().round(4)
        ctx: dict[str, Any] = {
            "model": m,
            "n_draws": self.n_draws,
            "summary": table_view(summ, len(summ), raw=True),
            "classes": None,
            "elasticities": None,
        }
        if isinstance(m, LatentClassLogit):
            ct = m.class_table().reset_index().round(3)
            ctx["classes"] = table_view(ct, len(ct), raw=True)
        el = self.elasticities
        if el is not None:
            est = el["estimate"].round(3).astype(str)
            if "low" in el:
                est = est + " [" + el["low"].round(3).astype(str) + ", " + el["high"].round(
                    3).astype(str) + "]"  # fmt: skip
            est = est.reset_index()
            w = m.wtp().round(4)
            ctx.update(plot=self.plot_svg(), elasticities=table_view(est, len(est), raw=True),
                       wtp=table_view(w, len(w), raw=True))  # fmt: skip
        return ctx


def model_report(model: ChoiceModel, data: ChoiceData, *, n_draws: int = 200,
                 random_state: int | None = 0) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """The HTML page and JSON payload of :class:`ChoiceModelReport` (write it with
    ``ChoiceModelReport(...).write(path)``)."""
    r = ChoiceModelReport(model, data, n_draws, random_state)
    return r.to_html(), r.to_dict()
