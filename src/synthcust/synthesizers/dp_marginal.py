"""Differentially private synthesizer from noisy marginals on a tree (MST, McKenna et al. 2021).

Method ("Winning the NIST Contest: A scalable and general approach to differentially private
synthetic data", McKenna, Miklau & Sheldon, JPC 2021), under zero-concentrated DP:

1. **Public domain.** Every numeric (or datetime) column is cut into fine bins between
   **public** bounds: the schema's ``lower``/``upper`` or ``bounds={"age": (17, 90)}``. The data's
   own minimum and maximum are never read; values outside the bounds are clipped to them. A
   numeric column without bounds is refused, unless ``bounds="private"`` (or a column's bound
   ``"private"``) asks to pay a share of the budget for DP estimates of them. Categories are
   taken from the data by default (``category_domain="data"``, as smartnoise and MST do: the
   *list* of categories is then treated as public, which it is not strictly), or only from
   ``categories={...}`` (``category_domain="declared"``; values outside a declared list count as
   missing). Missing values are a bin of their own.
2. **1-way marginals** of every column on its fine bins, Gaussian mechanism.
3. **Compression** (post-processing of step 2): numeric bins are grouped into up to ``n_bins``
   groups of about equal noisy mass, contiguous; categories whose noisy count is below
   ``3 sigma`` are pooled (MST's rule).
4. **Selection**: the 2-way marginals of a maximum spanning tree, picked edge by edge
   (Kruskal) with the exponential mechanism; an edge's score is the L1 distance between the
   pair's true counts and the independence estimate from the noisy 1-ways (sensitivity 1).
5. **2-way marginals** of the chosen edges, Gaussian mechanism.
6. **Estimation** (post-processing): inverse-variance combination of every estimate of each
   1-way, projection onto non-negative counts with the common total, 2-way tables projected
   likewise then fitted to the 1-ways (IPF) so all marginals agree on shared attributes.
7. **Sampling** from the tree model ``P(root) prod P(child | parent)``, a fine bin within each
   group by the noisy fine 1-way shares, then a value uniform within the bin. Conditions
   (category sets, numeric ranges) are exact: they enter as evidence, propagated up the tree
   before sampling down; no rejection.

Privacy accounting: ``(epsilon, delta)`` is turned into a zCDP budget ``rho`` (the conversion of
Canonne, Kamath & Steinke 2020 by default, ``conversion="standard"`` for the classic one) and
split: ``bounds_share`` of it for DP bounds (only when some are private), the rest by
``budget_split`` = (1-ways, selection, 2-ways), 1/3 each by default as in MST. The fitted
``privacy_`` attribute records epsilon, delta, rho, each step's rho, noise scale and mechanism,
where every bound and category list came from, and the neighbouring relation; an accounting
layer can store it as is. Sampling from a fitted model is post-processing and costs nothing.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from synthcust._utils.rng import resolve_rng
from synthcust.constraints.plan import ConstraintPlan
from synthcust.exceptions import ConditionError, DataError, ModelError
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Kind, Schema
from synthcust.synthesizers.base import BaseSynthesizer, check_frame
from synthcust.synthesizers.conditions import (
    CategoricalCondition,
    Condition,
    NumericCondition,
    to_number,
)
from synthcust.synthesizers.dp.accounting import (
    cdp_rho,
    rho_standard,
)
from synthcust.synthesizers.dp.bins import CategoricalBins, NumericBins
from synthcust.synthesizers.dp.mst import (
    dp_bounds,
    estimate_marginals,
    group_marginals,
    measure_one_ways,
    measure_two_ways,
    privacy_record,
    select_edges,
)
from synthcust.synthesizers.dp.tree import (
    TreeModel,
    expand,
    simplex_project,
    spanning_forest_size,
    within_matrix,
)
from synthcust.transform.codec import Encoded, TableCodec

#: above this epsilon the guarantee means nothing; refuse rather than pretend
MAX_EPSILON = 100.0
_NO_POOLING = 2**31 - 1
_NUMERIC_KINDS = (Kind.NUMERIC, Kind.DATETIME)


class DPMarginalSynthesizer(BaseSynthesizer):
    """(epsilon, delta)-differentially private synthesizer (MST: noisy marginals on a tree).

    Parameters
    ----------
    epsilon, delta: the privacy guarantee of the whole fit. ``0 < epsilon <= 100`` and
        ``0 < delta < 1/n`` (n = rows of the data).
    bounds: public bounds of numeric columns, ``{"age": (17, 90)}`` (datetimes as dates, e.g.
        ``("2020-01-01", "2024-12-31")``, or POSIX seconds); they take precedence over the
        schema's ``lower``/``upper``. ``"private"`` (for all columns without declared bounds)
        or a column's value ``"private"`` buys DP estimates of the 0.5 % and 99.5 % quantiles
        with ``bounds_share`` of the budget.
    categories: public category lists, ``{"plan": ["basic", "pro"]}``.
    category_domain: ``"data"`` (default): columns not in ``categories`` take their categories
        from the data, and that list is treated as public (recorded in ``privacy_``);
        ``"declared"``: every categorical column must be in ``categories``.
    n_bins: most groups a numeric column is compressed to for the 2-way marginals.
    fine_bins: fine bins between a numeric column's bounds (whole numbers when fewer).
    max_cells: largest 2-way table a candidate edge may have.
    neighbours: ``"add_remove"`` (default, as MST and smartnoise: datasets differing by one
        added or removed row) or ``"replace"`` (one row changed; twice the sensitivity).
    budget_split: shares of rho for (1-ways, selection, 2-ways).
    bounds_share: share of rho spent on private bounds, when any.
    conversion: ``"tight"`` (Canonne-Kamath-Steinke) or ``"standard"``
        (``epsilon = rho + 2 sqrt(rho log(1/delta))``) from (epsilon, delta) to rho.
    secure_noise: ``True`` (default): the mechanisms' noise comes from fresh operating-system
        entropy at every fit, never from ``random_state``: noise drawn from a seed someone knows
        could be regenerated and subtracted, voiding the guarantee. ``False`` seeds it from
        ``random_state`` so fits reproduce exactly, for tests and benchmarks only;
        ``privacy_["noise"]`` records which.
    random_state: seed of sampling (post-processing), and of the noise only with
        ``secure_noise=False``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62, 38] * 50,
    ...                    "plan": ["basic", "pro", "pro", "basic", "pro", "basic"] * 50})
    >>> m = DPMarginalSynthesizer(epsilon=1.0, bounds={"age": (18, 100)}, random_state=0)
    >>> m = m.fit(df)
    >>> m.privacy_["epsilon"], m.privacy_["delta"]
    (1.0, 1e-09)
    >>> out = m.sample(5, conditions={"plan": "pro"})
    >>> sorted(out["plan"].unique()), bool(out["age"].between(18, 100).all())
    (['pro'], True)
    """

    name = "dp_marginal"

    def __init__(
        self,
        epsilon: float = 1.0,
        delta: float = 1e-9,
        bounds: Mapping[str, Any] | str | None = None,
        categories: Mapping[str, Sequence[Any]] | None = None,
        category_domain: str = "data",
        n_bins: int = 16,
        fine_bins: int = 256,
        max_cells: int = 10_000,
        neighbours: str = "add_remove",
        budget_split: Sequence[float] = (1 / 3, 1 / 3, 1 / 3),
        bounds_share: float = 0.1,
        conversion: str = "tight",
        secure_noise: bool = True,
        random_state: int | None = None,
    ):
        super().__init__(random_state)
        self.secure_noise = secure_noise
        self.epsilon = epsilon
        self.delta = delta
        self.bounds = bounds
        self.categories = categories
        self.category_domain = category_domain
        self.n_bins = n_bins
        self.fine_bins = fine_bins
        self.max_cells = max_cells
        self.neighbours = neighbours
        self.budget_split = budget_split
        self.bounds_share = bounds_share
        self.conversion = conversion

    def get_params(self) -> dict[str, Any]:
        p = super().get_params()
        if isinstance(p["bounds"], Mapping):
            p["bounds"] = {
                k: (v if isinstance(v, str) else [_jsonable(x) for x in v])
                for k, v in p["bounds"].items()
            }
        if p["categories"] is not None:
            p["categories"] = {k: list(v) for k, v in p["categories"].items()}
        p["budget_split"] = [float(x) for x in p["budget_split"]]
        return p

    # ------------------------------------------------------------------ checks
    def _check_params(self, n: int) -> None:
        eps, delta = self.epsilon, self.delta
        if (
            isinstance(eps, bool)
            or not isinstance(eps, numbers.Real)
            or not math.isfinite(eps)
            or eps <= 0
        ):
            raise ModelError(
                f"epsilon must be a positive number, got {eps!r}; smaller is more private "
                "(typical: 0.5 to 8)"
            )
        if eps > MAX_EPSILON:
            raise ModelError(
                f"epsilon {eps:g} is above {MAX_EPSILON:g}, where the guarantee means nothing; "
                "use a smaller epsilon, or a non-private synthesizer if privacy is not needed"
            )
        if (
            isinstance(delta, bool)
            or not isinstance(delta, numbers.Real)
            or not math.isfinite(delta)
            or delta <= 0
        ):
            raise ModelError(f"delta must be a positive number below 1/n, got {delta!r}")
        if delta >= 1.0 / n:
            raise ModelError(
                f"delta {delta:g} is not below 1/n = {1.0 / n:.3g} (n = {n:,} rows): a delta that "
                "large allows publishing a row in the clear; use e.g. 1e-9 or 1/n^2"
            )
        choices = {
            "neighbours": ("add_remove", "replace"),
            "conversion": ("tight", "standard"),
            "category_domain": ("data", "declared"),
        }
        for k, allowed in choices.items():
            if getattr(self, k) not in allowed:
                raise ModelError(f"{k} must be one of {allowed}, got {getattr(self, k)!r}")
        split = list(self.budget_split)
        if (
            len(split) != 3
            or any(not isinstance(x, numbers.Real) or x < 0 for x in split)
            or split[0] <= 0
        ):
            raise ModelError(
                "budget_split must be three non-negative shares (1-ways, selection, 2-ways) "
                f"with a positive 1-way share, got {self.budget_split!r}"
            )
        if not 0 < self.bounds_share < 1:
            raise ModelError(f"bounds_share must be in (0, 1), got {self.bounds_share!r}")
        if int(self.n_bins) < 2 or int(self.fine_bins) < 1:
            raise ModelError(
                f"need n_bins >= 2 and fine_bins >= 1, got n_bins={self.n_bins}, "
                f"fine_bins={self.fine_bins}"
            )

    def _resolve_bounds(self, schema: Schema) -> tuple[dict[str, Any], dict[str, str]]:
        """Per numeric column: ``(lo, hi)`` as given, or ``"private"``; and where it came from."""
        given = self.bounds if isinstance(self.bounds, Mapping) else {}
        if isinstance(self.bounds, str) and self.bounds != "private":
            raise ModelError(f"bounds must be a dict or 'private', got {self.bounds!r}")
        if self.bounds is not None and not isinstance(self.bounds, str | Mapping):
            raise ModelError(f"bounds must be a dict or 'private', got {self.bounds!r}")
        problems: list[str] = []
        for k, v in given.items():
            if k not in schema:
                problems.append(f"bounds given for unknown column {k!r}")
            elif schema[k].kind not in _NUMERIC_KINDS:
                problems.append(f"bounds given for {k!r}, which is {schema[k].kind.value}")
            elif not (
                v == "private"
                or (isinstance(v, Sequence) and not isinstance(v, str) and len(v) == 2)
            ):
                problems.append(f"bounds for {k!r} must be (lower, upper) or 'private', got {v!r}")
        if problems:
            raise ModelError("; ".join(problems))
        out: dict[str, Any] = {}
        source: dict[str, str] = {}
        missing: list[str] = []
        for col in schema:
            if col.kind not in _NUMERIC_KINDS:
                continue
            if col.name in given:
                v = given[col.name]
                out[col.name] = v if v == "private" else tuple(v)
                source[col.name] = "private (DP estimate)" if v == "private" else "bounds="
            elif col.lower is not None and col.upper is not None:
                out[col.name] = (col.lower, col.upper)
                source[col.name] = "schema"
            elif self.bounds == "private":
                out[col.name] = "private"
                source[col.name] = "private (DP estimate)"
            else:
                missing.append(col.name)
        if missing:
            example = missing[0]
            raise DataError(
                f"differentially private fitting needs public bounds for every numeric column, "
                f"and none are declared for {missing}. The data's own min/max would leak the "
                "most extreme customers. Declare bounds you know without looking at this data "
                "(a domain's natural range, a form's limits): in the schema (lower/upper, e.g. "
                f"schema.edit({{{example!r}: {{'lower': 0, 'upper': 100}}}})) or with "
                f"bounds={{{example!r}: (0, 100)}}; or pass bounds='private' to spend "
                f"{self.bounds_share:.0%} of the budget estimating them from the data with a DP "
                "mechanism"
            )
        return out, source

    def check_ready(self, n_rows: int, schema: Schema) -> None:
        """Raise what :meth:`fit` would raise about parameters and bounds, without reading any
        data: call it before charging a privacy budget, so a typo does not cost epsilon."""
        self._check_params(n_rows)
        if schema.constraints:  # only implications: enforced on generated rows alone
            ConstraintPlan.private(schema.constraints, schema, TableCodec(), ModelError)
        self._resolve_bounds(schema)

    # ------------------------------------------------------------------ fit
    def fit(
        self, data: pd.DataFrame, schema: Schema | None = None, *, rules: str = "off"
    ) -> Self:
        """Fit under (epsilon, delta)-DP; the data's own min/max are never read.

        ``rules`` is accepted for the common signature and ignored: no rule is ever read off
        the private rows.
        """
        t0 = time.perf_counter()
        check_frame(data)
        n = len(data)
        self._check_params(n)
        inferred = schema is None
        if schema is None:
            schema = infer_schema(data, detect_pii=False)
        if schema.constraints:  # only implications (the plan reads nothing private)
            ConstraintPlan.private(schema.constraints, schema, TableCodec(), ModelError)
        declared = dict(self.categories or {})
        bad = [k for k in declared if k not in schema or schema[k].kind in _NUMERIC_KINDS]
        if bad:
            raise ModelError(f"categories given for unknown or numeric columns {bad}")
        if self.category_domain == "declared":
            need = [
                c.name
                for c in schema
                if c.kind in (Kind.CATEGORICAL, Kind.BOOLEAN) and c.name not in declared
            ]
            if need:
                raise DataError(
                    f"category_domain='declared' but no categories are declared for {need}; "
                    "pass categories={column: [values...]}, or category_domain='data' to treat "
                    "the categories seen in the data as public"
                )
        bounds, bound_source = self._resolve_bounds(schema)

        # the codec never sees a missing bound, so it never computes the data's min/max
        placeholder = tuple(
            dataclasses.replace(c, lower=0.0, upper=0.0) if c.kind in _NUMERIC_KINDS else c
            for c in schema
        )
        codec = TableCodec(max_categories=_NO_POOLING).fit(
            data, dataclasses.replace(schema, columns=placeholder)
        )
        public, cat_source = _declare_public(codec, schema, bounds, declared)
        enc = codec.encode(data)
        self.schema_ = schema
        rules = schema.constraints
        self.plan_ = ConstraintPlan.private(rules, schema, codec) if rules else None
        self.codec_ = codec
        self.n_training_rows_ = n  # replaced by the noisy estimate under add/remove neighbours
        if self.secure_noise:
            noise_rng = np.random.default_rng(secrets.randbits(128))
        else:
            noise_rng = resolve_rng(self.random_state)
        self._fit_dp(enc, noise_rng, public, bound_source, cat_source)
        self.privacy_["noise"] = (
            "fresh operating-system entropy (secure_noise=True)"
            if self.secure_noise
            else "seeded from random_state (secure_noise=False): reproducible, and NOT private "
            "against anyone who knows the seed"
        )
        # the bounds now known (public or DP) go into the schema that travels with the model
        self.schema_ = schema.edit(
            {
                name: {"lower": lo, "upper": hi}
                for name, (lo, hi) in self.bounds_.items()
                if schema[name].kind == Kind.NUMERIC
            }
        )
        self.privacy_["schema_inferred_from_data"] = inferred
        self.fit_seconds_ = time.perf_counter() - t0  # not saved: model files stay identical
        return self

    def _rho(self) -> float:
        if self.conversion == "tight":
            return cdp_rho(float(self.epsilon), float(self.delta))
        return rho_standard(float(self.epsilon), float(self.delta))

    def _fit_dp(
        self,
        enc: Encoded,
        rng: np.random.Generator,
        public: dict[str, tuple[float, float]],
        bound_source: dict[str, str],
        cat_source: dict[str, str],
    ) -> None:
        n = enc.numeric.shape[0] if enc.numeric.size or enc.numeric.shape[0] else enc.codes.shape[0]
        self.num_names_ = list(enc.numeric_names)
        self.cat_names_ = list(enc.categorical_names)
        names = self.num_names_ + self.cat_names_
        d = len(names)
        sens = 1.0 if self.neighbours == "add_remove" else math.sqrt(2.0)
        score_sens = 1.0 if self.neighbours == "add_remove" else 2.0
        rho = self._rho()
        steps: list[dict[str, Any]] = []
        private = [c for c in self.num_names_ if c not in public]
        rho_bounds = self.bounds_share * rho if private else 0.0
        rest = rho - rho_bounds

        # -- DP bounds (only where the user opted in) -------------------------------------
        self.bounds_ = dict(public)
        if private:
            cols = [enc.numeric[:, self.num_names_.index(c)] for c in private]
            specs = [self.codec_.spec(c) for c in private]
            found, step = dp_bounds(private, cols, specs, rho_bounds, rng)
            self.bounds_.update(found)
            steps.append(step)

        # -- fine domains and fine bins of every row --------------------------------------
        self.bins_: list[NumericBins | CategoricalBins] = []
        fine: list[np.ndarray] = []
        for j, name in enumerate(self.num_names_):
            lo, hi = self.bounds_[name]
            nb = NumericBins.build(lo, hi, self.codec_.spec(name).integer, int(self.fine_bins))
            self.bins_.append(nb)
            fine.append(nb.assign(enc.numeric[:, j]))
        for q, name in enumerate(self.cat_names_):
            cb = CategoricalBins(self.codec_.n_categories(name))
            self.bins_.append(cb)
            fine.append(cb.assign(enc.codes[:, q]))

        if d == 0:
            self._finish_privacy(rho, steps, bound_source, cat_source, n_hat=float(n))
            self.tree_ = TreeModel([], [], [], [])
            self.groups_, self.within_ = [], []
            return

        share = np.asarray(self.budget_split, float)
        share = share / share.sum()
        if d == 1:
            share = np.array([1.0, 0.0, 0.0])

        # -- 1-way marginals (Gaussian) ----------------------------------------------------
        rho1 = rest * share[0]
        y1, sigma1 = measure_one_ways(fine, [b.size for b in self.bins_], rho1, sens, rng)
        steps.append(
            {
                "step": "one_way",
                "mechanism": "Gaussian mechanism on every column's fine 1-way histogram",
                "rho": rho1,
                "sigma": sigma1,
                "l2_sensitivity": sens,
                "queries": d,
            }
        )
        w1 = np.array([1.0 / b.size for b in self.bins_])
        n_hat = max(1.0, float(np.dot(w1, [y.sum() for y in y1]) / w1.sum()))
        f1 = [simplex_project(y, n_hat) for y in y1]

        # -- compression (post-processing) -------------------------------------------------
        self.groups_, coarse, yc, var_c = group_marginals(
            self.bins_, y1, f1, sigma1, fine, int(self.n_bins)
        )
        k_g = [int(g.max()) + 1 for g in self.groups_]
        mc = [simplex_project(y, n_hat) for y in yc]

        # -- selection: maximum spanning tree by the exponential mechanism -----------------
        cands = [
            (i, j) for i in range(d) for j in range(i + 1, d) if k_g[i] * k_g[j] <= self.max_cells
        ]
        rounds = spanning_forest_size(d, cands)
        rho_sel = rest * share[1] if rounds else 0.0
        rho2 = rest * share[2] if rounds else 0.0
        edges, step = select_edges(
            d, cands, coarse, k_g, mc, n_hat, rounds, rho_sel, score_sens, rng
        )
        # -- 2-way marginals (Gaussian) on the selected edges ------------------------------
        measured, sigma2, step2 = measure_two_ways(edges, coarse, k_g, rho2, sens, names, rng)
        steps += [st for st in (step, step2) if st is not None]
        if step2 is None:
            edges = []

        # -- estimation (post-processing) --------------------------------------------------
        n_hat, marg, tables = estimate_marginals(y1, w1, sigma1, yc, var_c, k_g, measured, sigma2)
        self.tree_ = TreeModel.from_edges(d, edges, marg, tables)
        self.within_ = [
            within_matrix(g, f, k) for g, f, k in zip(self.groups_, f1, k_g, strict=True)
        ]
        self._finish_privacy(rho, steps, bound_source, cat_source, n_hat=n_hat)

    def _finish_privacy(
        self,
        rho: float,
        steps: list[dict[str, Any]],
        bound_source: dict[str, str],
        cat_source: dict[str, str],
        n_hat: float,
    ) -> None:
        delta = float(self.delta)
        self.n_training_rows_ = (
            round(n_hat) if self.neighbours == "add_remove" else self.n_training_rows_
        )
        self.privacy_: dict[str, Any] = privacy_record(
            epsilon=float(self.epsilon),
            delta=delta,
            rho=rho,
            steps=steps,
            conversion=self.conversion,
            neighbours=self.neighbours,
            bounds={k: (lo, hi, bound_source[k]) for k, (lo, hi) in self.bounds_.items()},
            category_domain=cat_source,
        )

    # ------------------------------------------------------------------ sample
    def _sample(self, n: int, conds: list[Condition], rng: np.random.Generator) -> Encoded:
        names = self.num_names_ + self.cat_names_
        d = len(names)
        fine_w: list[np.ndarray | None] = [None] * d
        ranges: list[tuple[float, float]] = [(-math.inf, math.inf)] * d
        for c in conds:
            a = names.index(c.column)
            b = self.bins_[a]
            if isinstance(c, NumericCondition):
                assert isinstance(b, NumericBins)
                fine_w[a] = b.weights(c.low, c.high)
                ranges[a] = (c.low, c.high)
            elif isinstance(c, CategoricalCondition):
                assert isinstance(b, CategoricalBins)
                fine_w[a] = b.weights_for(c.codes)
        evidence = [None if w is None else self.within_[a] @ w for a, w in enumerate(fine_w)]
        groups = self.tree_.sample(n, evidence, rng) if d else np.empty((n, 0), np.int64)
        if groups is None:
            shown = ", ".join(
                f"{c.column}={c.shown if isinstance(c, NumericCondition) else list(c.values)}"
                for c in conds
            )
            raise ConditionError(
                f"the DP model gives the condition {shown} probability 0 (its noisy marginals "
                "put no mass there); relax the condition"
            )
        num = np.empty((n, len(self.num_names_)))
        codes = np.empty((n, len(self.cat_names_)), dtype=np.int32)
        for a in range(d):
            fb = expand(groups[:, a], self.within_[a], fine_w[a], rng)
            b = self.bins_[a]
            if isinstance(b, NumericBins):
                num[:, a] = b.values(fb, rng, *ranges[a])
            else:
                codes[:, a - len(self.num_names_)] = b.codes(fb)
        return Encoded(num, codes, list(self.num_names_), list(self.cat_names_))

    # ------------------------------------------------------------------ persistence
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays: dict[str, np.ndarray] = {}
        attrs = []
        for a, b in enumerate(self.bins_):
            if isinstance(b, NumericBins):
                attrs.append({"kind": "numeric", "lo": b.lo, "hi": b.hi, "integer": b.integer})
                arrays[f"left_{a}"] = b.left
                arrays[f"right_{a}"] = b.right
                arrays[f"point_{a}"] = b.point
            else:
                attrs.append({"kind": "categorical", "k": b.k})
            arrays[f"group_{a}"] = self.groups_[a]
            arrays[f"within_{a}"] = self.within_[a]
            arrays[f"marg_{a}"] = self.tree_.marginals[a]
            t = self.tree_.tables[a]
            if t is not None:
                arrays[f"table_{a}"] = t
        state = {
            "num_names": self.num_names_,
            "cat_names": self.cat_names_,
            "attrs": attrs,
            "parent": self.tree_.parent,
            "order": self.tree_.order,
            "bounds": {k: list(v) for k, v in self.bounds_.items()},
            "privacy": self.privacy_,
        }
        return state, arrays

    def _from_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.num_names_ = list(state["num_names"])
        self.cat_names_ = list(state["cat_names"])
        self.bins_ = []
        for a, at in enumerate(state["attrs"]):
            if at["kind"] == "numeric":
                self.bins_.append(
                    NumericBins(
                        float(at["lo"]),
                        float(at["hi"]),
                        bool(at["integer"]),
                        arrays[f"left_{a}"],
                        arrays[f"right_{a}"],
                        arrays[f"point_{a}"].astype(bool),
                    )
                )
            else:
                self.bins_.append(CategoricalBins(int(at["k"])))
        d = len(self.bins_)
        self.groups_ = [arrays[f"group_{a}"].astype(np.int64) for a in range(d)]
        self.within_ = [arrays[f"within_{a}"] for a in range(d)]
        self.tree_ = TreeModel(
            [int(p) for p in state["parent"]],
            [int(o) for o in state["order"]],
            [arrays[f"marg_{a}"] for a in range(d)],
            [arrays.get(f"table_{a}") for a in range(d)],
        )
        self.bounds_ = {k: (float(v[0]), float(v[1])) for k, v in state["bounds"].items()}
        self.privacy_ = dict(state["privacy"])


def _dedupe(values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        v = v.item() if isinstance(v, np.generic) else v
        if v not in out:
            out.append(v)
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return str(v)
    return v


def _public_number(spec: Any, v: Any) -> float:
    """A public bound in the codec's units (datetimes: dates, or POSIX seconds as numbers)."""
    if spec.kind == "datetime":
        if isinstance(v, numbers.Real) and not isinstance(v, bool):
            return float(v) / 86400.0 if spec.datetime_unit == "D" else float(v)
        return to_number(spec, v)
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise DataError(f"column {spec.name!r}: bound {v!r} is not a number")
    return float(v)


def _declare_public(
    codec: TableCodec, schema: Schema, bounds: dict[str, Any], declared: dict[str, Any]
) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """Put the public domain into the codec's specs (in place): numeric bounds (or none, for
    DP bounds), category lists (declared, or the data's treated as public), ids from 1.

    Returns
    -------
    tuple of dict
        The public bounds by column and where each category list came from.
    """
    public: dict[str, tuple[float, float]] = {}
    cat_source: dict[str, str] = {}
    for spec in codec.specs_:
        col = schema[spec.name]
        if spec.kind in ("numeric", "datetime"):
            spec.integer = bool(col.integer) or spec.kind == "datetime"
            b = bounds[spec.name]
            if b != "private":
                lo, hi = (_public_number(spec, v) for v in b)
                if spec.integer:
                    lo, hi = float(math.ceil(lo)), float(math.floor(hi))
                if not lo <= hi:
                    raise DataError(
                        f"column {spec.name!r}: public bounds {b} are empty (lower > upper)"
                    )
                spec.lower, spec.upper = lo, hi
                public[spec.name] = (lo, hi)
            else:
                spec.lower = spec.upper = None
        elif spec.kind == "categorical":
            if spec.name in declared:
                spec.categories = _dedupe(declared[spec.name])
                cat_source[spec.name] = "declared"
            else:
                spec.categories = sorted(spec.categories, key=lambda v: (str(type(v)), str(v)))
                cat_source[spec.name] = "data (treated as public)"
            spec.rare, spec.rare_p = [], []
        elif spec.kind == "id":
            # nothing learned from the private ids: not the largest id + 1, not their pattern
            spec.id_start = 1
            spec.id_pattern = {}
        if spec.kind == "numeric" and not spec.integer:
            spec.decimals = None  # the real values' decimals are data, not a public fact
    return public, cat_source
