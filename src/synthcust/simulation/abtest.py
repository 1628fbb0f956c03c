"""Virtual A/B(/n) tests on a (synthetic) population, driven by a fitted choice model.

A *variant* is a set of attribute changes in the scenario engine's change language
(``price.heinz32=-10%``, ``disp.hunts32=1``, ``feat.hunts32=+1``; see
:func:`synthcust.simulation.scenarios.parse_change`); the first variant is the control (often
``"A:"``, no change). :func:`run_abtest` returns, per variant and per persona:

* **conversion**: the expected share of customers who choose the focal alternative, or who buy
  at all (1 - P(no-purchase option)) when the model has an outside option,
* **intervals** that combine parameter uncertainty (draws from the multivariate normal around
  the estimate, as in the scenario engine) and sampling of the population (a Poisson(1)
  bootstrap weight per customer and draw): the percentile interval of the conversion and of
  the lift against the control, and the share of draws in which the variant beats the control,
* **power analysis**: the customers per arm a real two-sided two-proportion z-test would need to
  detect the simulated difference (Fleiss' formula without continuity correction,
  ``n = (z_{1-a/2} sqrt(2 pbar qbar) + z_{1-b} sqrt(p1 q1 + p2 q2))^2 / (p1 - p2)^2``,
  ``pbar = (p1 + p2) / 2``), at the point estimate and at the interval end closest to zero,
* an **extrapolation flag**: where a variant moves an attribute outside the range the model saw
  for that alternative in its training data, the result is reported as an extrapolation, not a
  confident number.

Every result carries what it rests on (the model, its fit, its provenance and validation if
recorded) so the report can say which figures rest on unvalidated assumptions.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError
from synthcust.simulation.abtest_result import ABTestResult, Variant, model_rests_on
from synthcust.simulation.choice import (
    ChoiceData,
    ChoiceModel,
    ChoiceSpec,
    LatentClassLogit,
    choice_data,
    load_model,
)
from synthcust.simulation.choice.numerics import batch_utilities, coef_arrays, softmax
from synthcust.simulation.scenarios import apply_change, group_operator, parse_change

__all__ = [
    "ABTestResult",
    "Variant",
    "attribute_ranges",
    "model_rests_on",
    "parse_variant",
    "required_sample_size",
    "run_abtest",
]

OUTSIDE_NAMES = ("none", "no_purchase", "nopurchase", "no-purchase", "outside", "no_buy", "nobuy")


def _resolve_key(key: str, spec: ChoiceSpec) -> tuple[str, str]:
    """``price.heinz32`` or a wide column name (``SalePriceCH``) -> (attribute, alternative)."""
    cols = {spec.column(at, a): (at, a) for at in spec.attribute_names for a in spec.alternatives}
    if key in cols:
        return cols[key]
    if "." in key:
        at, a = key.split(".", 1)
        if at in spec.attribute_names and a in spec.alternatives:
            return at, a
        if at not in spec.attribute_names:
            raise DataError(
                f"variant change {key!r}: unknown attribute {at!r}; the model's attributes are "
                f"{spec.attribute_names}"
            )
        raise DataError(
            f"variant change {key!r}: unknown alternative {a!r}; the model's alternatives are "
            f"{list(spec.alternatives)}"
        )
    raise DataError(
        f"variant change {key!r}: write ATTRIBUTE.ALTERNATIVE=CHANGE (e.g. "
        f"{spec.attribute_names[0]}.{spec.alternatives[0]}=-10%) or a column of the model "
        f"({', '.join(list(cols)[:4])}, ...)"
    )


def parse_variant(text: str | Variant, spec: ChoiceSpec) -> Variant:
    """``"B:price.heinz32=-10%,disp.hunts32=1"`` -> :class:`Variant` (``"A:"`` = no change).

    Changes are separated by ``,`` or ``;``; each is ``ATTRIBUTE.ALTERNATIVE=CHANGE`` (or the
    model's wide column name) with a change ``+10%``, ``-0.3``, ``=2.99``, ``*1.1`` or a bare
    new value (``disp.hunts32=1``).
    """
    if isinstance(text, Variant):
        for at, a, c in text.changes:
            _resolve_key(f"{at}.{a}", spec)
            parse_change(c)
        return text
    if ":" not in text:
        raise DataError(f"cannot read variant {text!r}; write NAME:CHANGES (e.g. 'A:' or "
                        "'B:price.heinz32=-10%')")  # fmt: skip
    name, rest = (s.strip() for s in text.split(":", 1))
    if not name:
        raise DataError(f"variant {text!r} has no name before ':'")
    changes: dict[tuple[str, str], str] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", rest))):
        if "=" not in part:
            raise DataError(f"cannot read {part!r} in variant {name!r}; write ATTR.ALT=CHANGE")
        k, v = (x.strip() for x in part.split("=", 1))
        at, a = _resolve_key(k, spec)
        if not v:
            raise DataError(f"{k!r} in variant {name!r} has no change after '='")
        if v[0] not in "+-*=" and not v[0].isdigit() and v[0] != ".":
            raise DataError(f"cannot read the change {v!r} of {k!r} in variant {name!r}")
        parse_change(v if v[:1] in "+-*=" else "=" + v)
        if (at, a) in changes:
            raise DataError(f"variant {name!r} changes {at} of {a} twice")
        changes[(at, a)] = v if v[:1] in "+-*=" else "=" + v
    return Variant(name, tuple((at, a, c) for (at, a), c in changes.items()))


# --------------------------------------------------------------------------- power
def required_sample_size(p1: float, p2: float, *, alpha: float = 0.05, power: float = 0.8,
                         two_sided: bool = True) -> float:  # fmt: skip
    """Customers per arm for a two-proportion z-test to detect ``p1`` vs ``p2``.

    Fleiss (1981) without continuity correction:
    ``n = (z_{1-a/2} sqrt(2 pbar qbar) + z_{1-b} sqrt(p1 q1 + p2 q2))^2 / (p1 - p2)^2``
    (``z_{1-a}`` when one-sided). Returns ``inf`` when ``p1 == p2``.

    >>> int(math.ceil(required_sample_size(0.10, 0.15)))  # the textbook 686 per group
    686
    """
    for nm, v in (("p1", p1), ("p2", p2)):
        if not 0 <= v <= 1:
            raise DataError(f"{nm}={v} is not a probability in [0, 1]")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise DataError(f"alpha ({alpha}) and power ({power}) must be in (0, 1)")
    d = abs(p1 - p2)
    if d == 0:
        return math.inf
    za = stats.norm.ppf(1 - alpha / 2 if two_sided else 1 - alpha)
    zb = stats.norm.ppf(power)
    pb = (p1 + p2) / 2
    num = za * math.sqrt(2 * pb * (1 - pb)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return num**2 / d**2


# --------------------------------------------------------------------------- ranges
def attribute_ranges(model: ChoiceModel, training: pd.DataFrame) -> dict[str, dict[str, list]]:
    """Observed ``[min, max]`` of every attribute per alternative in ``training`` (the data the
    model was fitted on; only occasions where the alternative was available count)."""
    spec = model.spec_
    data = choice_data(training, replace(spec, order=None), require_choice=False,
                       bad_prices="drop")  # fmt: skip
    out: dict[str, dict[str, list]] = {}
    for p, at in enumerate(spec.attribute_names):
        out[at] = {}
        for j, a in enumerate(spec.alternatives):
            v = data.X[data.avail[:, j], j, p]
            v = v[np.isfinite(v)]
            out[at][a] = [float(v.min()), float(v.max())] if len(v) else [math.nan, math.nan]
    return out


# --------------------------------------------------------------------------- simulation
def _parameter_draws(m: ChoiceModel, n: int, rng: np.random.Generator
                     ) -> tuple[np.ndarray, list[str]]:  # fmt: skip
    """Draws from the estimate's normal; parameters with a standard error > 1000 (not
    identified, e.g. separated latent-class membership) stay at the estimate and the others
    are drawn from their marginal normal (else those draws would flip classes at random)."""
    se = np.sqrt(np.clip(np.diag(m.cov_), 0, None))
    bad = ~np.isfinite(se) | (se > 1e3)
    if not bad.any():
        return m.parameter_draws(n, rng), []
    out = np.repeat(m.theta_[None, :], n, axis=0)
    ok = ~bad
    if ok.any():
        C = m.cov_[np.ix_(ok, ok)]
        out[:, ok] = rng.multivariate_normal(m.theta_[ok], (C + C.T) / 2, size=n, method="eigh")
    return out, [m.names_[i] for i in np.nonzero(bad)[0]]


def _load(model: ChoiceModel | str | Path | dict) -> tuple[ChoiceModel, dict | None, str | None]:
    if isinstance(model, ChoiceModel):
        model.check_fitted()
        # its JSON form carries attribute_ranges / provenance when the model records them
        return model, model.to_dict(), None
    if isinstance(model, dict):
        return load_model(model), model, None
    m = load_model(model)
    return m, m.to_dict(), str(model)


def run_abtest(
    model: ChoiceModel | str | Path | dict,
    population: pd.DataFrame,
    variants: list[str | Variant],
    *,
    focal: str | None = None,
    outside: str | None = None,
    persona: str | None = None,
    training: pd.DataFrame | None = None,
    ranges: dict[str, dict[str, list]] | None = None,
    extrapolation_tolerance: float = 0.05,
    n_draws: int = 200,
    level: float = 0.95,
    alpha: float = 0.05,
    power: float = 0.8,
    uncertainty_rows: int = 50_000,
    bad_prices: str = "error",
    random_state: int | None = 0,
) -> ABTestResult:
    """Simulate an A/B(/n) test of ``variants`` (the first is the control) over ``population``.

    ``focal`` names the alternative whose choice is the conversion; ``outside`` the no-purchase
    alternative (conversion = any purchase). Default: an alternative named like ``none``/
    ``no_purchase`` is the outside option; otherwise the single alternative the variants change
    is the focal one. ``ranges`` (``{attribute: {alternative: [min, max]}}``) are the training
    ranges; taken from the model file's ``attribute_ranges`` when present, else computed from
    ``training``; without either the extrapolation check cannot run and the result says so.
    A variant is flagged as an extrapolation when more than ``extrapolation_tolerance`` of the
    customers get a changed attribute outside its training range for that alternative.
    ``bad_prices`` (``"error"``, ``"drop"``, ``"unavailable"``) treats population rows with a
    price <= 0 or missing as in :func:`synthcust.simulation.choice.choice_data`.

    Examples
    --------
    >>> from synthcust.simulation.choice import MultinomialLogit, choice_data, detect_spec
    >>> rng = np.random.default_rng(1)
    >>> pr = rng.uniform(1, 2, (600, 2))
    >>> y = (np.array([0, 0.3]) - 2 * pr + rng.gumbel(size=pr.shape)).argmax(1)
    >>> df = pd.DataFrame(pr, columns=["price.a", "price.b"])
    >>> df["choice"] = np.array(["a", "b"])[y]
    >>> m = MultinomialLogit().fit(choice_data(df, detect_spec(df)))
    >>> r = run_abtest(m, df, ["A:", "B:price.a=-10%"], training=df, n_draws=50)
    >>> c = r.conversion.set_index("variant")["conversion"]
    >>> bool(c["B"] > c["A"])
    True
    """
    m, raw, source = _load(model)
    spec = m.spec_
    if len(variants) < 2:
        raise DataError("an A/B test needs at least two variants (e.g. 'A:' and 'B:price.x=-5%')")
    vs = [parse_variant(v, spec) for v in variants]
    names = [v.name for v in vs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataError(f"variant name(s) {dup} used twice; give every variant its own name")
    if not 0 < level < 1:
        raise DataError(f"level must be in (0, 1), not {level}")
    if persona is not None and persona not in population.columns:
        raise DataError(f"persona column {persona!r} is not in the population "
                        f"(columns: {list(population.columns)[:12]})")  # fmt: skip
    if spec.persona is not None and spec.persona not in population.columns:
        raise DataError(f"the model ties classes to persona column {spec.persona!r}; the "
                        "population needs that column")  # fmt: skip
    focal, outside, outcome = _outcome(list(spec.alternatives), vs, focal, outside)
    data, population, missing_cov, notes = _population_data(m, population, bad_prices)
    Xs = _variant_designs(data, vs)
    ranges, range_src = _training_ranges(m, raw, training, ranges)
    ex = _extrapolation(data, vs, Xs, ranges, extrapolation_tolerance)
    groups, _, Mg = group_operator(population, persona, data.n)
    rng = resolve_rng(random_state)
    sim = _ConversionSums(m, data, Xs, Mg, spec.alternatives.index(focal or outside),
                          focal is not None, rng)  # fmt: skip
    N = data.n
    S0, T0 = sim(m.theta_[None, :], np.arange(N), boot=False)
    point = S0[0] / np.maximum(T0[0], 1)[None, :]  # (V, G)
    if n_draws > 0:
        rows = np.arange(N)
        if uncertainty_rows < N:
            rows = np.sort(rng.choice(N, uncertainty_rows, replace=False))
            notes.append(f"intervals computed on a random {uncertainty_rows:,} of {N:,} customers")
        thetas, degenerate = _parameter_draws(m, n_draws, rng)
        if degenerate:
            notes.append(
                f"parameter(s) {degenerate} have standard errors > 1000 (typically latent-class "
                "membership under separation: a persona decides the class); they are held at "
                "their estimate in the draws, so the intervals are conditional on them"
            )
        Sd, Td = sim(thetas, rows, boot=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            draws = Sd / np.where(Td > 0, Td, np.nan)[:, None, :]  # (R, V, G)
    else:
        draws = np.full((1, len(vs), len(groups)), np.nan)
    flagged = set(ex.loc[ex["flag"], "variant"]) if len(ex) else set()
    counts = np.asarray(Mg.sum(1)).ravel().astype(int)
    conv, lift = _tables(vs, groups, counts, point, draws, n_draws, level, alpha, power, flagged)
    rests = model_rests_on(m, raw, source)
    if ranges is None:
        rests["assumptions"].append(
            "the model's training ranges are unknown (no attribute_ranges in the model file and "
            "no training data given): extrapolation was NOT checked"
        )
    else:
        rests["training_ranges_from"] = range_src
    if missing_cov:
        rests["assumptions"].append(f"covariates {missing_cov} set to their training means")
    if isinstance(m, LatentClassLogit):
        notes.append(
            "latent classes: each customer's class probabilities are the membership model's "
            "prior (persona-driven when the model ties classes to personas)"
        )
    notes.append(
        "the intervals cover the model's parameter uncertainty and the sampling of this "
        "population; they do not cover a wrong model (see validation above)"
    )
    return ABTestResult(vs, outcome, conv, lift, ex, rests, N, n_draws, level, alpha, power,
                        notes)  # fmt: skip


def _outcome(alts: list[str], vs: list[Variant], focal: str | None,
             outside: str | None) -> tuple[str | None, str | None, str]:  # fmt: skip
    """The focal or outside alternative (defaulted) and the outcome in words."""
    if outside is None and focal is None:
        cand = [a for a in alts if a.lower() in OUTSIDE_NAMES]
        if cand:
            outside = cand[0]
        else:
            changed = sorted({a for v in vs for _, a, _ in v.changes})
            if len(changed) != 1:
                raise DataError(
                    "say what conversion is: focal=ALTERNATIVE (its choice converts) or "
                    f"outside=NO_PURCHASE_ALTERNATIVE; the variants change {changed or 'nothing'}"
                    f" and the model's alternatives are {alts}"
                )
            focal = changed[0]
    for nm, a in (("focal", focal), ("outside", outside)):
        if a is not None and a not in alts:
            raise DataError(f"{nm} alternative {a!r} is not in the model's alternatives {alts}")
    if focal is not None and outside is not None:
        raise DataError("give focal or outside, not both")
    outcome = (f"purchase (any alternative but {outside!r})" if outside is not None
               else f"choice of {focal!r}")  # fmt: skip
    return focal, outside, outcome


def _population_data(m: ChoiceModel, population: pd.DataFrame, bad_prices: str
                     ) -> tuple[ChoiceData, pd.DataFrame, list[str], list[str]]:  # fmt: skip
    """The population as choice data (missing attributes and covariates at the training
    means), the population rows kept, the covariates filled in and the notes."""
    spec = m.spec_
    notes: list[str] = []
    fill = {a: m.reference_levels_[:, p] for p, a in enumerate(spec.attribute_names)}
    pop = population
    missing_cov = [c for c in spec.covariates if c not in population.columns]
    if missing_cov:
        pop = population.assign(**{c: m.covariate_means_[spec.covariates.index(c)]
                                   for c in missing_cov})  # fmt: skip
        notes.append(f"covariates {missing_cov} not in the population: set to the training mean "
                     "(an assumption)")  # fmt: skip
    pop = pop.reset_index(drop=True)  # row labels = positions (dropped rows map back)
    data = choice_data(pop, replace(spec, order=None), require_choice=False, fill=fill,
                       bad_prices=bad_prices)  # fmt: skip
    notes += data.notes
    if data.n < len(pop):
        population = population.iloc[np.asarray(data.rows, dtype=np.int64)]
    return data, population, missing_cov, notes


def _variant_designs(data: ChoiceData, vs: list[Variant]) -> list[np.ndarray]:
    """The (N, J, P) attributes under every variant; refuses non-positive prices and
    variants identical on this population."""
    spec = data.spec
    attrs, alts = spec.attribute_names, list(spec.alternatives)
    Xs = []
    for v in vs:
        X = data.X.copy()
        for at, a, ch in v.changes:
            p, j = attrs.index(at), alts.index(a)
            X[:, j, p] = apply_change(X[:, j, p], ch, at)
        if spec.price is not None:
            pi = attrs.index(spec.price)
            bad = data.avail & ~(X[:, :, pi] > 0)
            if bad.any():
                j = int(np.nonzero(bad)[1][0])
                raise DataError(f"variant {v.name!r} makes the price of {alts[j]!r} <= 0; check "
                                "the change")  # fmt: skip
        Xs.append(X)
    for i in range(len(vs)):
        for k in range(i):
            if np.array_equal(Xs[i], Xs[k]):
                raise DataError(
                    f"variants {vs[k].name!r} ({vs[k].describe()}) and {vs[i].name!r} "
                    f"({vs[i].describe()}) are identical on this population; an A/B test "
                    "compares different variants"
                )
    return Xs


def _training_ranges(m: ChoiceModel, raw: dict | None, training: pd.DataFrame | None,
                     ranges: dict | None) -> tuple[dict | None, str]:  # fmt: skip
    """The training ranges (given, from the model file or from the training data) and where
    they come from."""
    if ranges is None and raw and isinstance(raw.get("attribute_ranges"), dict):
        return raw["attribute_ranges"], "the model file"
    if ranges is None and training is not None:
        return attribute_ranges(m, training), "the training data passed in"
    return ranges, "given" if ranges is not None else ""


def _extrapolation(data: ChoiceData, vs: list[Variant], Xs: list[np.ndarray],
                   ranges: dict | None, tolerance: float) -> pd.DataFrame:  # fmt: skip
    """One row per variant change: its range, the training range, the share outside, flag."""
    attrs, alts = data.spec.attribute_names, list(data.spec.alternatives)
    ex_rows = []
    for v, X in zip(vs, Xs, strict=True):
        for at, a, ch in v.changes:
            p, j = attrs.index(at), alts.index(a)
            vals = X[data.avail[:, j], j, p]
            row: dict[str, Any] = {"variant": v.name, "attribute": at, "alternative": a,
                                   "change": ch, "variant_min": float(vals.min()),
                                   "variant_max": float(vals.max())}  # fmt: skip
            if ranges is None:
                row.update(train_min=np.nan, train_max=np.nan, share_outside=np.nan, flag=False)
            elif isinstance(ranges.get(at), dict) and a in ranges[at] and ranges[at][a] is None:
                # the model never saw this alternative available: anything is extrapolation
                row.update(train_min=np.nan, train_max=np.nan, share_outside=1.0, flag=True)
            else:
                try:
                    lo, hi = (float(x) for x in ranges[at][a])
                except (KeyError, TypeError, ValueError) as e:
                    raise DataError(f"the attribute ranges lack {at} of {a}") from e
                tol = 1e-9 * max(1.0, abs(hi))
                out = (vals < lo - tol) | (vals > hi + tol)
                share = float(out.mean()) if len(vals) else 0.0
                row.update(train_min=lo, train_max=hi, share_outside=share,
                           flag=bool(share > tolerance))  # fmt: skip
            ex_rows.append(row)
    return pd.DataFrame(ex_rows, columns=["variant", "attribute", "alternative", "change",
                                          "variant_min", "variant_max", "train_min", "train_max",
                                          "share_outside", "flag"])  # fmt: skip


class _ConversionSums:
    """Weighted conversion sums (R, V, G) and weight totals (R, G) over some customers, for
    R parameter vectors, optionally with Poisson(1) bootstrap weights; chunked over customers."""

    def __init__(self, m: ChoiceModel, data: ChoiceData, Xs: list[np.ndarray], Mg: Any,
                 jf: int, focal: bool, rng: np.random.Generator) -> None:  # fmt: skip
        self.m, self.data, self.Xs, self.Mg = m, data, Xs, Mg
        self.jf, self.focal, self.rng = jf, focal, rng

    def __call__(self, thetas: np.ndarray, idx: np.ndarray,
                 boot: bool) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        m, data = self.m, self.data
        R, C, J = len(thetas), m.n_classes, len(m.spec_.alternatives)
        Gn = self.Mg.shape[0]
        co = [coef_arrays(m.spec_, m.class_rows(t)) for t in thetas]
        asc, beta, Gm = (np.stack([c[i] for c in co]) for i in range(3))
        S = np.zeros((R, len(self.Xs), Gn))
        T = np.zeros((R, Gn))
        step = max(1, int(1e7 // (R * C * J)))
        for start in range(0, len(idx), step):
            ix = idx[start : start + step]
            n = len(ix)
            sub = data.take(ix)
            Mc = self.Mg[:, ix]
            W = self.rng.poisson(1.0, (R, n)).astype(float) if boot else np.ones((R, n))
            if C > 1:
                w = np.stack([m.class_weights(sub, t, posterior=False) for t in thetas])
                w = w.transpose(0, 2, 1)[:, :, None, :]
            for k, X in enumerate(self.Xs):
                Vu = batch_utilities(asc, beta, Gm, X[ix], sub.Z, data.avail[ix])
                Pc = softmax(Vu, axis=2)
                Pr = Pc[:, 0] if C == 1 else (w * Pc).sum(1)  # (R, J, n)
                conv = Pr[:, self.jf] if self.focal else 1.0 - Pr[:, self.jf]
                S[:, k] += (Mc @ (conv * W).T).T
            T += (Mc @ W.T).T
        return S, T


def _tables(vs: list[Variant], groups: list[str], counts: np.ndarray, point: np.ndarray,
            draws: np.ndarray, n_draws: int, level: float, alpha: float, power: float,
            flagged: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The conversion table (variant x group) and the lift table (variant x group vs control)."""
    lo_q, hi_q = 0.5 - level / 2, 0.5 + level / 2
    conv_rows, lift_rows = [], []
    for k, v in enumerate(vs):
        for g, gname in enumerate(groups):
            d = draws[:, k, g]
            conv_rows.append({
                "variant": v.name, "group": gname, "customers": int(counts[g]),
                "conversion": point[k, g], "low": np.nanquantile(d, lo_q) if n_draws else np.nan,
                "high": np.nanquantile(d, hi_q) if n_draws else np.nan,
                "extrapolation": v.name in flagged,
            })  # fmt: skip
            if k == 0:
                continue
            diff = draws[:, k, g] - draws[:, 0, g]
            p1, p2 = point[0, g], point[k, g]
            dlo, dhi = (np.nanquantile(diff, [lo_q, hi_q]) if n_draws else (np.nan, np.nan))
            n_pt = required_sample_size(p1, p2, alpha=alpha, power=power)
            if np.isfinite(dlo) and (dlo > 0 or dhi < 0):
                dmin = dlo if dlo > 0 else dhi
                n_cons = required_sample_size(p1, float(np.clip(p1 + dmin, 0, 1)),
                                              alpha=alpha, power=power)  # fmt: skip
            else:
                n_cons = math.nan
            lift_rows.append({
                "variant": v.name, "control": vs[0].name, "group": gname,
                "diff_pts": 100 * (p2 - p1), "diff_low": 100 * dlo, "diff_high": 100 * dhi,
                "relative_lift_pct": 100 * (p2 - p1) / p1 if p1 > 0 else np.nan,
                "p_better": float(np.nanmean(diff > 0)) if n_draws else np.nan,
                "n_per_arm": math.ceil(n_pt) if np.isfinite(n_pt) else math.inf,
                "n_conservative": math.ceil(n_cons) if np.isfinite(n_cons) else np.nan,
                "extrapolation": v.name in flagged,
            })  # fmt: skip
    return pd.DataFrame(conv_rows), pd.DataFrame(lift_rows)
