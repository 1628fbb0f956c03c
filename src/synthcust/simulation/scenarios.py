"""What-if scenarios over a population of (synthetic) customers, driven by a choice model.

A population is a DataFrame with one row per customer choice occasion in the model's wide
layout (``price.heinz32``...; attribute columns it lacks are set to the training means) and
optionally a persona column. A :class:`Scenario` changes prices (``"+10%"``, ``"-0.2"``,
``"=3.5"``), switches attributes on or off (display, feature), removes alternatives or adds a
new one described by its attributes (a redesign). :func:`simulate` returns, per persona and
overall:

* expected demand shares (mean choice probabilities) before and after, with percentile
  intervals from parameter draws (multivariate normal around the estimate),
* expected revenue per occasion (sum of probability x price) and its change,
* the switching matrix (from -> to), simulated with common random numbers: each customer keeps
  the same latent class and the same Gumbel taste shocks in both worlds, so a customer switches
  only because the scenario changed their utilities.

Everything is vectorised over customers; parameter draws run on a random subsample of at most
``uncertainty_rows`` customers (the parameter uncertainty dwarfs the sampling noise there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError
from synthcust.reporting import Report, plots
from synthcust.simulation.choice import (
    ChoiceData,
    ChoiceModel,
    LatentClassLogit,
    choice_data,
)
from synthcust.simulation.choice.numerics import batch_utilities, coef_arrays, softmax
from synthcust.simulation.reports import table_view

__all__ = [
    "Scenario",
    "ScenarioResult",
    "apply_change",
    "group_operator",
    "parse_change",
    "parse_new_alternative",
    "simulate",
]

_CHANGE = re.compile(r"^\s*([+\-=*]?)\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(%?)\s*$")


def parse_change(text: str | float) -> tuple[str, float]:
    """``"+10%"`` -> ("pct", 10); ``"-0.5"`` -> ("add", -0.5); ``"=3"`` -> ("set", 3);
    ``"*1.1"`` -> ("mul", 1.1). A bare number is a new value (``"3"`` = ``"=3"``).

    Examples
    --------
    >>> parse_change("+10%"), parse_change("-0.25"), parse_change("=2.5")
    (('pct', 10.0), ('add', -0.25), ('set', 2.5))
    """
    if isinstance(text, int | float):
        return ("set", float(text))
    m = _CHANGE.match(str(text))
    if not m:
        raise DataError(
            f"cannot read the change {text!r}; write +10%, -5%, +0.30 (absolute), =2.99 (new "
            "value) or *1.1"
        )
    sign, num, pct = m.groups()
    v = float(num)
    if pct:
        if sign not in "+-" or sign == "":
            raise DataError(f"cannot read {text!r}: a percentage needs a sign (+10% or -10%)")
        return ("pct", v if sign == "+" else -v)
    if sign == "+":
        return ("add", v)
    if sign == "-":
        return ("add", -v)
    if sign == "*":
        return ("mul", v)
    return ("set", v)


def parse_new_alternative(text: str) -> tuple[str, dict[str, Any]]:
    """``"store:price=2.5,disp=1,like=hunts32"`` -> ("store", {...}).

    ``like=ALT`` copies that alternative's constant (and covariate effects); ``asc=VALUE`` sets
    the constant directly. Attribute values are numbers.
    """
    if ":" not in text:
        raise DataError(f"cannot read new alternative {text!r}; write NAME:price=2.5,disp=0")
    name, rest = text.split(":", 1)
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        if "=" not in part:
            raise DataError(f"cannot read {part!r} in {text!r}; write ATTRIBUTE=VALUE")
        k, v = (x.strip() for x in part.split("=", 1))
        if k == "like":
            out[k] = v
        else:
            try:
                out[k] = float(v)
            except ValueError as e:
                raise DataError(f"{k}={v!r} in {text!r} is not a number") from e
    return name.strip(), out


@dataclass
class Scenario:
    """A what-if: price changes, attribute settings, removed and added alternatives.

    ``price`` maps alternative -> change (see :func:`parse_change`); ``attributes`` maps
    attribute -> {alternative: change}; ``remove`` lists alternatives taken off the shelf;
    ``add`` maps a new alternative's name -> its attributes (plus optional ``like``/``asc``).
    """

    name: str = "scenario"
    price: dict[str, str | float] = field(default_factory=dict)
    attributes: dict[str, dict[str, str | float]] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)
    add: dict[str, dict[str, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        """The scenario in words (``"no change"`` when empty)."""
        parts = [f"price of {a} {v}" for a, v in self.price.items()]
        parts += [f"{at} of {a} {v}" for at, d in self.attributes.items() for a, v in d.items()]
        parts += [f"remove {a}" for a in self.remove]
        parts += [f"add {a} ({', '.join(f'{k}={v}' for k, v in d.items())})"
                  for a, d in self.add.items()]  # fmt: skip
        return "; ".join(parts) or "no change"


@dataclass
class ScenarioResult(Report):
    """Shares, revenue and switching of a scenario against the baseline.

    A :class:`synthcust.reporting.Report`: ``write(path)`` writes the HTML page (template
    ``simulation_scenario.html.j2``) and its JSON twin.
    """

    template: ClassVar[str] = "simulation_scenario.html.j2"

    scenario: Scenario
    shares: pd.DataFrame
    revenue: pd.DataFrame
    switching: dict[str, pd.DataFrame]
    n_customers: int
    n_draws: int
    level: float
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-ready."""
        return {
            "scenario": {"name": self.scenario.name, "description": self.scenario.describe()},
            "n_customers": self.n_customers,
            "n_draws": self.n_draws,
            "level": self.level,
            "shares": self.shares.to_dict(orient="records"),
            "revenue": self.revenue.to_dict(orient="records"),
            "switching": {g: s.round(6).to_dict(orient="index") for g, s in self.switching.items()},
            "notes": list(self.notes),
        }

    # ---- report (synthcust.reporting.Report)
    @property
    def title(self) -> str:
        """The page title."""
        return f"Scenario: {self.scenario.name}"

    def plots_svg(self) -> list[str]:
        """Bars of baseline vs scenario shares (with intervals), one plot per group."""
        plt = plots.pyplot()
        out = []
        for g, sub in self.shares.groupby("group", sort=False):
            fig, ax = plt.subplots(figsize=(4.8, 2.4))
            x = np.arange(len(sub))
            ax.bar(x - 0.2, 100 * sub["base"], 0.4, label="baseline", color=plots.HOLD)
            err = 100 * np.vstack([sub["scenario"] - sub["low"], sub["high"] - sub["scenario"]])
            ax.bar(x + 0.2, 100 * sub["scenario"], 0.4, yerr=np.clip(err, 0, None),
                   label="scenario", color=plots.SYNTH, capsize=2)  # fmt: skip
            ax.set_xticks(x, sub["alternative"], fontsize=7)
            ax.set_ylabel("share (%)")
            ax.set_title(f"{g}", fontsize=8, loc="right")
            plots.legend(ax)
            out.append(plots.svg(fig))
        return out

    def context(self) -> dict[str, Any]:
        """Template variables of ``simulation_scenario.html.j2``."""
        return {
            "r": self,
            "plots": self.plots_svg(),
            "shares": table_view(self.shares.round(4), len(self.shares), raw=True),
            "revenue": table_view(self.revenue.round(4), len(self.revenue), raw=True),
            "switching": [
                (g, table_view((100 * s).round(2).reset_index(), len(s), raw=True))
                for g, s in self.switching.items()
            ],
        }


def apply_change(values: np.ndarray, change: str | float, what: str = "") -> np.ndarray:
    """``values`` after a change in the scenario language (see :func:`parse_change`).

    >>> apply_change(np.array([2.0, 4.0]), "+10%").tolist()
    [2.2, 4.4]
    """
    kind, v = parse_change(change)
    if kind == "pct":
        return values * (1 + v / 100)
    if kind == "add":
        return values + v
    if kind == "mul":
        return values * v
    return np.full_like(values, v)


def simulate(
    model: ChoiceModel,
    population: pd.DataFrame,
    scenario: Scenario,
    *,
    persona: str | None = None,
    n_draws: int = 200,
    level: float = 0.95,
    uncertainty_rows: int = 50_000,
    random_state: int | None = 0,
) -> ScenarioResult:
    """Run ``scenario`` over ``population`` with ``model``; see the module docstring.

    ``persona`` names a population column to report by (and, for a latent-class model whose
    membership uses personas, to set each customer's class probabilities).

    Examples
    --------
    >>> from synthcust.simulation.choice import MultinomialLogit, choice_data, detect_spec
    >>> rng = np.random.default_rng(1)
    >>> pr = rng.uniform(1, 2, (500, 2))
    >>> y = (np.array([0, 0.3]) - 2 * pr + rng.gumbel(size=pr.shape)).argmax(1)
    >>> df = pd.DataFrame(pr, columns=["price.a", "price.b"])
    >>> df["choice"] = np.array(["a", "b"])[y]
    >>> m = MultinomialLogit().fit(choice_data(df, detect_spec(df)))
    >>> r = simulate(m, df, Scenario(price={"a": "+20%"}), n_draws=20)
    >>> s = r.shares.set_index("alternative")
    >>> bool(s.loc["a", "scenario"] < s.loc["a", "base"])
    True
    """
    model.check_fitted()
    _check_scenario(model, population, scenario, persona)
    spec = model.spec_
    fill = {a: model.reference_levels_[:, p] for p, a in enumerate(spec.attribute_names)}
    pop = population
    missing_cov = [c for c in spec.covariates if c not in population.columns]
    notes: list[str] = []
    if missing_cov:
        pop = population.assign(**{c: model.covariate_means_[spec.covariates.index(c)]
                                   for c in missing_cov})  # fmt: skip
        notes.append(f"covariates {missing_cov} not in the population: set to the training mean")
    data = choice_data(pop, replace(spec, order=None), require_choice=False, fill=fill)
    notes += data.notes
    w0, w1, new = _worlds(data, scenario, notes)
    N = data.n
    all_alts = list(spec.alternatives) + new
    Jn = len(all_alts)
    groups, codes, Mg = group_operator(population, persona, N)
    rng = resolve_rng(random_state)
    sums = _ShareSums(model, data, (w0, w1), Mg, new, scenario)
    # point estimate, and switching with common random numbers: each customer keeps the same
    # latent class and the same Gumbel shocks in both worlds
    C = model.n_classes
    w = model.class_weights(data, model.theta_, posterior=False)
    cls = (
        (w.cumsum(1) < rng.random(N)[:, None]).sum(1).clip(max=C - 1)
        if C > 1
        else np.zeros(N, dtype=np.int64)
    )
    picks = [np.zeros(N, dtype=np.int64), np.zeros(N, dtype=np.int64)]
    pos = np.arange(N)
    S, Rv = sums(model.theta_[None, :], pos, (cls, rng.gumbel(size=(N, Jn)), picks))
    switching = {}
    for gi, g in enumerate(groups):
        m = np.ones(N, dtype=bool) if gi == 0 else codes == gi
        cnt = np.bincount(picks[0][m] * Jn + picks[1][m], minlength=Jn * Jn).reshape(Jn, Jn)
        switching[g] = pd.DataFrame(cnt / max(m.sum(), 1), index=pd.Index(all_alts, name="from"),
                                    columns=pd.Index(all_alts, name="to"))  # fmt: skip
    # uncertainty: parameter draws, on a subsample of customers
    if n_draws > 0:
        rows = pos
        if uncertainty_rows < N:
            rows = np.sort(rng.choice(N, uncertainty_rows, replace=False))
            notes.append(f"intervals computed on a random {uncertainty_rows:,} of {N:,} customers")
        Sd, Rd = sums(model.parameter_draws(n_draws, rng), rows)
        lo, hi = 0.5 - level / 2, 0.5 + level / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            rchg = 100 * (Rd[:, 1] - Rd[:, 0]) / np.where(Rd[:, 0] > 0, Rd[:, 0], np.nan)
        qs = {k: np.quantile(v, [lo, hi], axis=0)
              for k, v in (("s", Sd[:, 1]), ("d", Sd[:, 1] - Sd[:, 0]), ("r", rchg))}  # fmt: skip
    else:
        nanq = np.full((2, len(groups), Jn), np.nan)
        qs = {"s": nanq, "d": nanq, "r": np.full((2, len(groups)), np.nan)}
    shares, rev = _tables(groups, codes, all_alts, S[0], Rv[0], qs)
    if spec.price is None:
        notes.append("the model has no price attribute: revenue is not computed")
    if isinstance(model, LatentClassLogit):
        notes.append(
            "latent classes: each customer's class probabilities are the membership model's "
            "prior (persona-driven when the model ties classes to personas)"
        )
    return ScenarioResult(scenario, shares, rev, switching, N, n_draws, level, notes)


def group_operator(population: pd.DataFrame, persona: str | None,
                   n: int) -> tuple[list[str], np.ndarray, sparse.csc_matrix]:  # fmt: skip
    """The groups a simulation reports by and the sparse group-sum operator.

    Parameters
    ----------
    population
        The customers (``n`` rows).
    persona
        Column to report by (None: everyone only).
    n
        Number of customers.

    Returns
    -------
    tuple
        Group names (``"all"`` first, then the personas), each customer's persona code (0:
        none) and the (groups, n) 0/1 matrix whose row 0 sums everyone and row ``g`` persona
        ``g``.
    """
    groups = ["all"]
    codes = np.zeros(n, dtype=np.int64)
    if persona is not None:
        cats = pd.Categorical(population[persona].astype(str))
        groups += [str(c) for c in cats.categories]
        codes = cats.codes.astype(np.int64) + 1
    pos = np.arange(n)
    has = codes > 0
    Mg = sparse.csc_matrix(
        (np.ones(n + int(has.sum())), (np.concatenate([np.zeros(n, np.int64), codes[has]]),
                                       np.concatenate([pos, pos[has]]))), shape=(len(groups), n),
    )  # fmt: skip
    return groups, codes, Mg


def _check_scenario(model: ChoiceModel, population: pd.DataFrame, scenario: Scenario,
                    persona: str | None) -> None:  # fmt: skip
    """Refuse a scenario that names unknown alternatives/attributes or cannot run."""
    spec = model.spec_
    alts, attrs = list(spec.alternatives), spec.attribute_names
    for a in [*scenario.price, *(x for d in scenario.attributes.values() for x in d),
              *scenario.remove]:  # fmt: skip
        if a not in alts:
            raise DataError(
                f"the scenario names alternative {a!r}, which the model does not know; "
                f"known: {alts}" + (" (to add a new one use add)" if a not in scenario.add else "")
            )
    for at in scenario.attributes:
        if at not in attrs:
            raise DataError(f"the scenario sets attribute {at!r}; the model's are {attrs}")
    for a in scenario.add:
        if a in alts:
            raise DataError(f"cannot add {a!r}: it is already an alternative")
    if scenario.price and spec.price is None:
        raise DataError("the model has no price attribute; it cannot simulate price changes")
    if set(scenario.remove) >= set(alts) and not scenario.add:
        raise DataError("the scenario removes every alternative")
    if persona is not None and persona not in population.columns:
        raise DataError(f"persona column {persona!r} is not in the population")
    if spec.persona is not None and spec.persona not in population.columns:
        raise DataError(
            f"the model ties classes to persona column {spec.persona!r}; the population "
            "needs that column"
        )


def _worlds(data: ChoiceData, scenario: Scenario, notes: list[str]
            ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], list[str]]:
    """Attributes and availability of the baseline and the scenario world (new alternatives
    appended), and the new alternatives' names."""  # fmt: skip
    spec = data.spec
    alts, attrs = list(spec.alternatives), spec.attribute_names
    N, J, P = data.X.shape
    new = list(scenario.add)
    X0 = np.concatenate([data.X, np.zeros((N, len(new), P))], axis=1)
    X1 = X0.copy()
    av0 = np.concatenate([data.avail, np.zeros((N, len(new)), dtype=bool)], axis=1)
    av1 = av0.copy()
    if spec.price is not None:
        pi = attrs.index(spec.price)
        for a, ch in scenario.price.items():
            j = alts.index(a)
            X1[:, j, pi] = apply_change(X1[:, j, pi], ch, "price")
    for at, d in scenario.attributes.items():
        p = attrs.index(at)
        for a, ch in d.items():
            j = alts.index(a)
            X1[:, j, p] = apply_change(X1[:, j, p], ch, at)
    for a in scenario.remove:
        av1[:, alts.index(a)] = False
    for i, (a, d) in enumerate(scenario.add.items()):
        unknown = [k for k in d if k not in (*attrs, "like", "asc")]
        if unknown:
            raise DataError(f"new alternative {a!r}: unknown attribute(s) {unknown}; use {attrs}")
        lk = d.get("like")
        if lk is not None and lk not in alts:
            raise DataError(f"new alternative {a!r}: like={lk!r} is not an alternative ({alts})")
        for p, at in enumerate(attrs):
            if at in d:
                X1[:, J + i, p] = float(d[at])
            elif lk is not None:
                X1[:, J + i, p] = X1[:, alts.index(lk), p]
            else:
                raise DataError(
                    f"new alternative {a!r} needs a value for {at!r} (or like=ALTERNATIVE)"
                )
        av1[:, J + i] = True
        if lk is None and "asc" not in d:
            notes.append(
                f"new alternative {a!r} has no like=/asc=: its constant is the mean of the "
                "existing constants (an assumption; give like=ALT to copy a known one)"
            )
    if spec.price is not None:
        pi = attrs.index(spec.price)
        bad = av1 & ~(X1[:, :, pi] > 0)
        if bad.any():
            r, j = (v[0] for v in np.nonzero(bad))
            raise DataError(
                f"the scenario makes the price of {(alts + new)[j]!r} <= 0 (customer row "
                f"{getattr(data.rows[r], 'item', lambda: data.rows[r])()!r}); check the change"
            )
    return (X0, av0), (X1, av1), new


class _ShareSums:
    """Mean probabilities (R, 2, G, J') and revenue (R, 2, G) of both worlds over some
    customers, for R parameter vectors; chunked over customers to bound memory."""

    def __init__(self, model: ChoiceModel, data: ChoiceData, worlds: tuple, Mg: Any,
                 new: list[str], scenario: Scenario) -> None:  # fmt: skip
        spec = model.spec_
        alts = list(spec.alternatives)
        self.model, self.data, self.worlds, self.Mg, self.new = model, data, worlds, Mg, new
        self.like = {a: (alts.index(d["like"]) if d.get("like") is not None else None)
                     for a, d in scenario.add.items()}  # fmt: skip
        self.asc_given = {a: float(d["asc"]) for a, d in scenario.add.items() if "asc" in d}
        self.pi = spec.attribute_names.index(spec.price) if spec.price is not None else None

    def coefs(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Class coefficients of ``theta``, extended to the new alternatives (constants and
        covariate coefficients copied from ``like``, or ``asc``, or the mean constant)."""
        asc, beta, G = coef_arrays(self.model.spec_, self.model.class_rows(theta))
        new, like = self.new, self.like
        if new:
            extra_asc = np.column_stack([
                asc[:, like[a]] if like[a] is not None
                else np.full(asc.shape[0], self.asc_given.get(a, np.nan)) for a in new
            ])  # fmt: skip
            mean_asc = asc.mean(1, keepdims=True)
            extra_asc = np.where(np.isnan(extra_asc), mean_asc, extra_asc)
            asc = np.concatenate([asc, extra_asc], axis=1)
            G = np.concatenate(
                [G, np.stack([G[:, :, like[a]] if like[a] is not None
                              else np.zeros(G.shape[:2]) for a in new], axis=2)], axis=2
            )  # fmt: skip
        return asc, beta, G

    def __call__(self, thetas: np.ndarray, idx: np.ndarray, switch: tuple | None = None):
        model, data, Mg, pi = self.model, self.data, self.Mg, self.pi
        R, C, G_n = len(thetas), model.n_classes, Mg.shape[0]
        Jn = len(model.spec_.alternatives) + len(self.new)
        co = [self.coefs(t) for t in thetas]
        asc, beta, Gm = (np.stack([c[i] for c in co]) for i in range(3))
        S = np.zeros((R, 2, G_n, Jn))
        Rv = np.zeros((R, 2, G_n))
        step = max(1, int(2e7 // (R * C * Jn)))
        for start in range(0, len(idx), step):
            ix = idx[start : start + step]
            n = len(ix)
            sub = data.take(ix)
            Mc = Mg[:, ix]
            if C > 1:
                w = np.stack([model.class_weights(sub, t, posterior=False) for t in thetas])
                w = w.transpose(0, 2, 1)[:, :, None, :]  # (R, C, 1, n)
            for k, (X, av) in enumerate(self.worlds):
                Xc = X[ix]
                V = batch_utilities(asc, beta, Gm, Xc, sub.Z, av[ix])  # (R, C, J', n)
                if switch is not None:
                    cls, eps, picks = switch
                    picks[k][ix] = (V[0][cls[ix], :, np.arange(n)] + eps[ix]).argmax(1)
                Pc = softmax(V, axis=2)
                Pr = Pc[:, 0] if C == 1 else (w * Pc).sum(1)  # (R, J', n)
                S[:, k] += (Mc @ Pr.reshape(R * Jn, n).T).T.reshape(R, Jn, G_n).transpose(0, 2, 1)
                if pi is not None:
                    Rv[:, k] += (Mc @ (Pr * Xc[:, :, pi].T[None]).sum(1).T).T
        cnt = np.maximum(np.asarray(Mg[:, idx].sum(1)).ravel(), 1)
        return S / cnt[None, None, :, None], Rv / cnt[None, None, :]


def _tables(groups: list[str], codes: np.ndarray, all_alts: list[str], S: np.ndarray,
            Rv: np.ndarray, qs: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shares table (group x alternative) and the revenue table (group)."""  # fmt: skip
    S0, S1, R0, R1 = S[0], S[1], Rv[0], Rv[1]
    share_rows = []
    for gi, g in enumerate(groups):
        n_g = len(codes) if gi == 0 else int((codes == gi).sum())
        for j, a in enumerate(all_alts):
            share_rows.append({
                "group": g, "alternative": a, "customers": n_g, "base": S0[gi, j],
                "scenario": S1[gi, j], "low": qs["s"][0, gi, j], "high": qs["s"][1, gi, j],
                "change_pts": 100 * (S1[gi, j] - S0[gi, j]),
                "change_low": 100 * qs["d"][0, gi, j], "change_high": 100 * qs["d"][1, gi, j],
            })  # fmt: skip
    rev = pd.DataFrame({
        "group": groups, "base": R0, "scenario": R1,
        "change_pct": 100 * (R1 - R0) / np.where(R0 > 0, R0, np.nan),
        "change_pct_low": qs["r"][0], "change_pct_high": qs["r"][1],
    })  # fmt: skip
    return pd.DataFrame(share_rows), rev
