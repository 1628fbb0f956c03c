"""Discrete-choice models on purchase data: multinomial logit and latent-class logit.

Data come in **wide** format (one row per purchase occasion, one column per attribute and
alternative such as ``price.heinz32``, and a choice column) or **long** format (one row per
occasion x alternative). Both become a :class:`ChoiceData`: dense arrays ``X`` (occasions x
alternatives x attributes), the chosen alternative, an availability mask, household ids and
occasion order. Everything below is vectorised over occasions.

Utility of alternative ``j`` at occasion ``n`` (for latent class ``c``)::

    V_ncj = asc_cj + x_nj' beta_c + z_n' gamma_cj      (asc and gamma are 0 for the base)

* :class:`MultinomialLogit` (conditional logit with alternative-specific constants, generic
  attribute coefficients and alternative-specific coefficients of occasion covariates) is fitted
  by Newton-Raphson with step halving on the analytic gradient and Hessian; standard errors
  come from the inverse Hessian (or household-clustered sandwich, ``cov_type="cluster"``).
* :class:`LatentClassLogit` has ``K`` classes of households (the panel is respected: a
  household belongs to one class for all its occasions). It is fitted by EM; class membership
  is a multinomial logit on household covariates (a persona label is one-hot encoded), so
  classes can be tied to personas. Standard errors from the outer product of the household
  scores (BHHH).

Both give price elasticities (own and cross, aggregated over occasions) with parameter-draw
confidence intervals and willingness to pay with delta-method intervals, and save to JSON (never
pickle).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from synthcust.exceptions import DataError, ModelError, ModelFileError, NotFittedError

__all__ = [
    "ChoiceData",
    "ChoiceModel",
    "ChoiceSpec",
    "LatentClassLogit",
    "MultinomialLogit",
    "choice_data",
    "choice_data_from_long",
    "detect_spec",
    "load_model",
    "select_n_classes",
    "wide_to_long",
]

FORMAT = "synthcust.choice"
VERSION = 1
_SEPS = "._-:"


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ChoiceSpec:
    """How a wide table maps onto a choice problem.

    ``attributes`` pairs an attribute name with a column template containing ``{alt}``
    (``("price", "price.{alt}")``). ``price`` names the price attribute (elasticities, WTP,
    revenue); ``covariates`` are occasion/household columns entering with one coefficient per
    alternative; ``persona`` and ``membership`` are household-level columns that drive
    latent-class membership; ``base`` is the alternative whose constant is fixed at 0.
    """

    alternatives: tuple[str, ...]
    attributes: tuple[tuple[str, str], ...]
    choice: str | None = "choice"
    price: str | None = "price"
    covariates: tuple[str, ...] = ()
    household: str | None = None
    order: str | None = None
    persona: str | None = None
    membership: tuple[str, ...] = ()
    base: str | None = None

    @property
    def attribute_names(self) -> list[str]:
        return [a for a, _ in self.attributes]

    @property
    def base_alt(self) -> str:
        return self.base if self.base is not None else self.alternatives[0]

    def column(self, attribute: str, alt: str) -> str:
        """The wide column holding ``attribute`` of alternative ``alt``."""
        return dict(self.attributes)[attribute].replace("{alt}", alt)

    def with_attributes(self, names: list[str], covariates: bool = True) -> ChoiceSpec:
        """The same spec restricted to some attributes (and optionally no covariates)."""
        attrs = tuple((a, t) for a, t in self.attributes if a in names)
        return replace(self, attributes=attrs, covariates=self.covariates if covariates else ())

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["attributes"] = [list(p) for p in self.attributes]
        for k in ("alternatives", "covariates", "membership"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChoiceSpec:
        d = dict(d)
        d["attributes"] = tuple(tuple(p) for p in d["attributes"])
        for k in ("alternatives", "covariates", "membership"):
            d[k] = tuple(d.get(k) or ())
        return cls(**d)


@dataclass
class ChoiceData:
    """Dense arrays of a choice problem (``N`` occasions, ``J`` alternatives, ``P`` attributes).

    ``y`` is the chosen alternative's index (-1 when unknown: a population to simulate),
    ``avail`` marks available alternatives, ``Z`` holds occasion covariates, ``household``
    household ids (None: every occasion stands alone), ``persona``/``M`` household-level
    membership variables, ``rows`` the source row labels (for messages).
    """

    spec: ChoiceSpec
    X: np.ndarray
    y: np.ndarray
    avail: np.ndarray
    Z: np.ndarray
    household: np.ndarray | None = None
    persona: np.ndarray | None = None
    M: np.ndarray | None = None
    rows: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    def take(self, idx: np.ndarray) -> ChoiceData:
        """The occasions at positions ``idx`` (boolean mask or integer positions)."""

        def t(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        return ChoiceData(
            self.spec, self.X[idx], self.y[idx], self.avail[idx], self.Z[idx],
            t(self.household), t(self.persona), t(self.M), t(self.rows), list(self.notes),
        )  # fmt: skip

    def occasion_rank(self) -> np.ndarray:
        """Position of each occasion within its household (0 = first), in data order."""
        if self.household is None:
            return np.arange(self.n)
        return pd.Series(self.household).groupby(self.household, sort=False).cumcount().to_numpy()


def _strip(prefix: str) -> str:
    return prefix.rstrip(_SEPS) or prefix


def detect_spec(
    df: pd.DataFrame,
    choice: str | None = "choice",
    *,
    alternatives: list[str] | None = None,
    price_prefix: str | None = "price.",
    attr_prefixes: list[str] | None = None,
    covariates: list[str] | tuple[str, ...] = (),
    household: str | None = "auto",
    order: str | None = None,
    persona: str | None = None,
    membership: list[str] | tuple[str, ...] = (),
    base: str | None = None,
) -> ChoiceSpec:
    """Build a :class:`ChoiceSpec` for a wide table.

    Alternatives default to the suffixes of the ``price_prefix`` columns (in column order),
    else to the distinct choices. ``attr_prefixes=None`` finds the other attributes when the
    price prefix ends with a separator (``disp.``, ``feat.`` beside ``price.``); with a prefix
    like ``SalePrice`` (no separator) name them explicitly. ``household="auto"`` uses an ``id``
    column when there is one.

    Examples
    --------
    >>> df = pd.DataFrame({"price.a": [1.0, 2.0], "price.b": [2.0, 1.0], "disp.a": [0, 1],
    ...                    "disp.b": [1, 0], "choice": ["a", "b"]})
    >>> detect_spec(df).attribute_names
    ['price', 'disp']
    """
    cols = [str(c) for c in df.columns]
    if choice is not None and choice not in cols:
        raise DataError(f"choice column {choice!r} is not in the data; columns: {cols}")
    if alternatives is None:
        if price_prefix and any(c.startswith(price_prefix) for c in cols):
            alternatives = [c[len(price_prefix) :] for c in cols if c.startswith(price_prefix)]
        elif choice is not None:
            alternatives = sorted(map(str, df[choice].dropna().unique()))
        else:
            raise DataError("give the alternatives (no price columns and no choice column)")
    alternatives = [str(a) for a in alternatives]
    if len(set(alternatives)) < 2:
        raise DataError(
            f"a choice needs at least two alternatives; found {alternatives}. Check "
            "--alternatives / --price-prefix."
        )
    attrs: list[tuple[str, str]] = []
    if price_prefix:
        attrs.append((_strip(price_prefix), price_prefix + "{alt}"))
    if attr_prefixes is None:
        attr_prefixes = []
        if price_prefix and price_prefix[-1] in _SEPS:
            sep = price_prefix[-1]
            cands = {c[: c.index(sep) + 1] for c in cols if sep in c}
            attr_prefixes = sorted(
                p for p in cands
                if p != price_prefix and all(p + a in cols for a in alternatives)
            )  # fmt: skip
    for p in attr_prefixes:
        attrs.append((_strip(p), p + "{alt}"))
    if household == "auto":
        household = "id" if "id" in cols else None
    if base is not None and base not in alternatives:
        raise DataError(f"base alternative {base!r} is not one of {alternatives}")
    return ChoiceSpec(
        alternatives=tuple(alternatives),
        attributes=tuple(attrs),
        choice=choice,
        price=_strip(price_prefix) if price_prefix else None,
        covariates=tuple(covariates),
        household=household,
        order=order,
        persona=persona,
        membership=tuple(membership),
        base=base,
    )


def _numeric(df: pd.DataFrame, col: str) -> np.ndarray:
    try:
        return pd.to_numeric(df[col], errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError) as e:
        bad = df[col][pd.to_numeric(df[col], errors="coerce").isna() & df[col].notna()]
        raise DataError(
            f"column {col!r} must be numeric; row {bad.index[0]!r} holds {bad.iloc[0]!r}"
        ) from e


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _rows_msg(rows: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(x if isinstance(x, str) else repr(x) for x in rows[:limit].tolist())
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def choice_data(
    df: pd.DataFrame,
    spec: ChoiceSpec,
    *,
    require_choice: bool = True,
    bad_prices: str = "error",
    fill: dict[str, np.ndarray] | None = None,
) -> ChoiceData:
    """Read a wide table into :class:`ChoiceData`, checking it.

    Prices must be > 0 and every attribute present; ``bad_prices="unavailable"`` reads a
    missing price as "not on the shelf at that occasion" (its other attributes may be missing
    too; a chosen alternative must have a price), ``bad_prices="drop"`` drops occasions with
    a price <= 0 or missing (and says how many) instead of raising. ``fill`` maps an attribute
    name to per-alternative values used where the table has no column for it (a synthetic
    population simulated at reference levels).
    """
    if bad_prices not in ("error", "drop", "unavailable"):
        raise DataError(
            f"bad_prices must be 'error', 'drop' or 'unavailable', not {bad_prices!r}"
        )
    alts = list(spec.alternatives)
    if len(alts) < 2:
        raise DataError(f"a choice needs at least two alternatives; the spec has {alts}")
    n = len(df)
    notes: list[str] = []
    X = np.empty((n, len(alts), len(spec.attributes)))
    for p, (name, _) in enumerate(spec.attributes):
        cols = [spec.column(name, a) for a in alts]
        missing = [c for c in cols if c not in df.columns]
        if missing and fill is not None and name in fill:
            X[:, :, p] = np.asarray(fill[name], dtype=float)[None, :]
            present = [j for j, c in enumerate(cols) if c in df.columns]
            for j in present:
                X[:, j, p] = _numeric(df, cols[j])
            notes.append(f"{', '.join(missing)} not in the data: set to the training mean")
            continue
        if missing:
            alt = alts[cols.index(missing[0])]
            raise DataError(
                f"column {missing[0]!r} ({name} of alternative {alt!r}) is not in the data. "
                f"Every alternative needs a {name} column; remove {alt!r} from the "
                "alternatives or add the column."
            )
        X[:, :, p] = np.column_stack([_numeric(df, c) for c in cols])
    rows = df.index.to_numpy()
    keep = np.ones(n, dtype=bool)
    avail = np.ones((n, len(alts)), dtype=bool)
    if spec.price is not None:
        pi = spec.attribute_names.index(spec.price)
        if bad_prices == "unavailable":
            avail = ~np.isnan(X[:, :, pi])
            X[~avail] = 0.0  # never used: unavailable alternatives get utility -inf
            if (avail.sum(1) < 2).any():
                r0 = rows[np.nonzero(avail.sum(1) < 2)[0][0]]
                raise DataError(
                    f"row {_py(r0)!r} has fewer than two alternatives with a price: no choice"
                )
        bad = avail & ~(X[:, :, pi] > 0)
        if bad.any():
            r, j = np.nonzero(bad)
            if bad_prices == "error":
                msgs = [
                    f"row {_py(rows[a])!r} column {spec.column(spec.price, alts[b])!r} = "
                    f"{X[a, b, pi]:g}"
                    for a, b in zip(r, j, strict=True)
                ]
                where = _rows_msg(np.array(msgs, dtype=object))
                raise DataError(
                    f"prices must be > 0 and present; {bad.any(axis=1).sum()} occasion(s) are "
                    f"not: {where}. Fix or drop these rows (--drop-bad-prices / "
                    "bad_prices='drop')."
                )
            keep &= ~bad.any(axis=1)
            notes.append(f"dropped {int((~keep).sum())} occasion(s) with a price <= 0 or missing")
    nan = np.isnan(X) & keep[:, None, None]
    if nan.any():
        a, b, p = (v[0] for v in np.nonzero(nan))
        col = spec.column(spec.attribute_names[p], alts[b])
        raise DataError(f"missing value in column {col!r} at row {_py(rows[a])!r}; fill or drop it")
    y = np.full(n, -1, dtype=np.int64)
    if spec.choice is not None and spec.choice in df.columns:
        ch = df[spec.choice]
        if ch.isna().any():
            raise DataError(
                f"choice column {spec.choice!r} is missing at rows "
                f"{_rows_msg(rows[ch.isna().to_numpy()])}; drop these occasions"
            )
        codes = pd.Index(alts).get_indexer(ch.astype(str).to_numpy()).astype(np.int64)
        if (codes < 0).any():
            unknown = sorted(set(ch.astype(str)[codes < 0]))
            raise DataError(
                f"choice column {spec.choice!r} holds {unknown} (rows "
                f"{_rows_msg(rows[codes < 0])}), which have no attribute columns "
                f"(alternatives: {alts}). Add their columns (e.g. "
                f"{spec.column(spec.attribute_names[0], unknown[0])!r}) or drop these rows."
            )
        y = codes
    elif require_choice:
        raise DataError(f"choice column {spec.choice!r} is not in the data")
    Z = (
        np.column_stack([_numeric(df, c) for c in spec.covariates])
        if spec.covariates
        else np.empty((n, 0))
    )
    if spec.covariates and np.isnan(Z).any():
        a, q = (v[0] for v in np.nonzero(np.isnan(Z)))
        raise DataError(
            f"missing value in covariate {spec.covariates[q]!r} at row {_py(rows[a])!r}"
        )
    hh = None
    if spec.household is not None:
        if spec.household not in df.columns:
            raise DataError(f"household column {spec.household!r} is not in the data")
        hh = df[spec.household].to_numpy()
    persona = None
    if spec.persona is not None:
        if spec.persona not in df.columns:
            raise DataError(f"persona column {spec.persona!r} is not in the data")
        persona = df[spec.persona].astype(str).to_numpy()
    M = np.column_stack([_numeric(df, c) for c in spec.membership]) if spec.membership else None
    if (y >= 0).any() and not avail[np.arange(n)[y >= 0], y[y >= 0]].all():
        bad_r = rows[np.nonzero((y >= 0) & ~avail[np.arange(n), y.clip(0)])[0][0]]
        raise DataError(
            f"row {_py(bad_r)!r}: the chosen alternative has no price (unavailable); fix the "
            "price or the choice"
        )
    data = ChoiceData(spec, X, y, avail, Z, hh, persona, M, rows, notes)
    if spec.order is not None:
        if spec.order not in df.columns:
            raise DataError(f"order column {spec.order!r} is not in the data")
        data = data.take(np.argsort(df[spec.order].to_numpy(), kind="stable"))
    return data if keep.all() else data.take(keep[_order_perm(df, spec)])


def _order_perm(df: pd.DataFrame, spec: ChoiceSpec) -> np.ndarray:
    if spec.order is None:
        return np.arange(len(df))
    return np.argsort(df[spec.order].to_numpy(), kind="stable")


def choice_data_from_long(
    df: pd.DataFrame,
    *,
    occasion: str,
    alternative: str,
    chosen: str,
    attributes: list[str],
    price: str | None = "price",
    covariates: tuple[str, ...] = (),
    household: str | None = None,
    base: str | None = None,
) -> ChoiceData:
    """Long format (one row per occasion x alternative, ``chosen`` 0/1) to :class:`ChoiceData`.

    Alternatives missing from an occasion are unavailable there. Exactly one row per occasion
    must be chosen.
    """
    for c in [occasion, alternative, chosen, *attributes, *covariates]:
        if c not in df.columns:
            raise DataError(f"column {c!r} is not in the data; columns: {list(df.columns)}")
    occ, occ_labels = pd.factorize(df[occasion], sort=False)
    alt_codes, alts = pd.factorize(df[alternative].astype(str), sort=True)
    alts = [str(a) for a in alts]
    if len(alts) < 2:
        raise DataError(f"a choice needs at least two alternatives; {alternative!r} has {alts}")
    if pd.Series(occ * len(alts) + alt_codes).duplicated().any():
        raise DataError(f"an alternative appears twice in one {occasion!r}; each once please")
    n, J = len(occ_labels), len(alts)
    X = np.zeros((n, J, len(attributes)))
    for p, a in enumerate(attributes):
        X[occ, alt_codes, p] = _numeric(df, a)
    avail = np.zeros((n, J), dtype=bool)
    avail[occ, alt_codes] = True
    ch = _numeric(df, chosen)
    per = np.bincount(occ, weights=ch, minlength=n)
    if not np.all(per == 1):
        bad = occ_labels[np.nonzero(per != 1)[0]]
        raise DataError(
            f"each occasion needs exactly one row with {chosen} = 1; occasions "
            f"{_rows_msg(np.asarray(bad))} do not"
        )
    y = np.zeros(n, dtype=np.int64)
    sel = ch == 1
    y[occ[sel]] = alt_codes[sel]
    first = ~pd.Series(occ).duplicated().to_numpy()
    order = np.argsort(occ[first])
    Z = (
        np.column_stack([_numeric(df, c)[first][order] for c in covariates])
        if covariates
        else np.empty((n, 0))
    )
    hh = df[household].to_numpy()[first][order] if household else None
    spec = ChoiceSpec(
        tuple(alts), tuple((a, f"{a}.{{alt}}") for a in attributes), None,
        price if price in attributes else None, tuple(covariates), household, base=base,
    )  # fmt: skip
    if spec.price is not None:
        pp = X[:, :, attributes.index(price)]
        bad = avail & ~(pp > 0)
        if bad.any():
            raise DataError(
                f"prices must be > 0 and present; column {price!r} is not at occasions "
                f"{_rows_msg(np.asarray(occ_labels[np.nonzero(bad.any(1))[0]]))}"
            )
    return ChoiceData(spec, X, y, avail, Z, hh, None, None, np.asarray(occ_labels), [])


def wide_to_long(df: pd.DataFrame, spec: ChoiceSpec) -> pd.DataFrame:
    """Reshape a wide table to long format (one row per occasion x alternative), vectorised.

    Examples
    --------
    >>> df = pd.DataFrame({"price.a": [1.0, 2.0], "price.b": [2.0, 1.5], "choice": ["a", "b"]})
    >>> wide_to_long(df, detect_spec(df)).shape
    (4, 4)
    """
    alts = list(spec.alternatives)
    n, J = len(df), len(alts)
    out = {
        "occasion": np.repeat(df.index.to_numpy(), J),
        "alternative": np.tile(np.array(alts, dtype=object), n),
    }
    if spec.household and spec.household in df.columns:
        out[spec.household] = np.repeat(df[spec.household].to_numpy(), J)
    for name, _ in spec.attributes:
        out[name] = df[[spec.column(name, a) for a in alts]].to_numpy().reshape(-1)
    if spec.choice and spec.choice in df.columns:
        out["chosen"] = (np.repeat(df[spec.choice].astype(str).to_numpy(), J)
                         == out["alternative"]).astype(np.int8)  # fmt: skip
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- numerics
def _param_names(spec: ChoiceSpec) -> list[str]:
    b = spec.base_alt
    names = [f"asc:{a}" for a in spec.alternatives if a != b]
    names += list(spec.attribute_names)
    names += [f"{q}:{a}" for a in spec.alternatives if a != b for q in spec.covariates]
    return names


def _design(data: ChoiceData) -> np.ndarray:
    """(N, J, K) design: constants of the non-base alternatives, attributes, covariates."""
    spec = data.spec
    N, J, P = data.X.shape
    Q = data.Z.shape[1]
    others = [j for j, a in enumerate(spec.alternatives) if a != spec.base_alt]
    D = np.zeros((N, J, (J - 1) * (1 + Q) + P))
    D[:, others, np.arange(J - 1)] = 1.0
    D[:, :, J - 1 : J - 1 + P] = data.X
    off = J - 1 + P
    for i, j in enumerate(others):
        D[:, j, off + i * Q : off + (i + 1) * Q] = data.Z
    D[~data.avail] = 0.0
    return D


def _coef_arrays(spec: ChoiceSpec, B: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class coefficient rows (C, K) -> constants (C, J), betas (C, P), gammas (C, Q, J)."""
    J, P, Q = len(spec.alternatives), len(spec.attributes), len(spec.covariates)
    C = B.shape[0]
    others = [j for j, a in enumerate(spec.alternatives) if a != spec.base_alt]
    asc = np.zeros((C, J))
    asc[:, others] = B[:, : J - 1]
    beta = B[:, J - 1 : J - 1 + P]
    G = np.zeros((C, Q, J))
    G[:, :, others] = B[:, J - 1 + P :].reshape(C, J - 1, Q).transpose(0, 2, 1)
    return asc, beta, G


def _utilities(asc, beta, G, X, Z, avail) -> np.ndarray:
    """(C, N, J) systematic utilities; unavailable alternatives get -inf."""
    V = asc[:, None, :] + np.einsum("njp,cp->cnj", X, beta, optimize=True)
    if G.shape[1]:
        V = V + np.einsum("nq,cqj->cnj", Z, G, optimize=True)
    return np.where(avail[None], V, -np.inf)


def _softmax(V: np.ndarray, axis: int = -1) -> np.ndarray:
    e = V - V.max(axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _log_softmax(V: np.ndarray, axis: int = -1) -> np.ndarray:
    m = V.max(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        out = V - m - np.log(np.exp(V - m).sum(axis=axis, keepdims=True))
    return out


def _mnl_fgh(theta, D, Y, avail, w):
    """Weighted log-likelihood sum_n w_n sum_j Y_nj log P_nj, its gradient and Hessian."""
    V = np.where(avail, D @ theta, -np.inf)
    logP = _log_softmax(V)
    P = np.exp(logP)
    wY = Y * w[:, None]
    ll = float(np.sum(wY * np.where(wY > 0, logP, 0.0)))
    wn = wY.sum(1)
    Dbar = np.einsum("njk,nj->nk", D, P)
    g = np.einsum("njk,nj->k", D, wY) - wn @ Dbar
    A = (D - Dbar[:, None, :]) * np.sqrt(P * wn[:, None])[..., None]
    A = A.reshape(-1, D.shape[2])
    return ll, g, -(A.T @ A)


def _ridge(fgh: tuple[float, np.ndarray, np.ndarray], theta: np.ndarray, lam: float):
    """``(f, g, H)`` of ``f(theta) - lam / 2 |theta|^2``."""
    f, g, H = fgh
    if lam == 0:
        return f, g, H
    return f - 0.5 * lam * float(theta @ theta), g - lam * theta, H - lam * np.eye(len(theta))


def _newton(fgh, theta0: np.ndarray, max_iter: int = 100, tol: float = 1e-9):
    """Maximise a concave function by Newton-Raphson with step halving."""
    theta = np.asarray(theta0, dtype=float).copy()
    ll, g, H = fgh(theta)
    converged = False
    for _ in range(max_iter):
        A = -H
        try:
            step = np.linalg.solve(A + 1e-10 * np.eye(len(g)) * max(1.0, np.abs(A).max()), g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(A, g, rcond=None)[0]
        dec = float(g @ step)
        if not np.isfinite(dec) or dec < 0:
            step, dec = g / max(1.0, np.abs(g).max()), float(g @ g)
        if dec < tol:
            converged = True
            break
        t = 1.0
        while True:
            new = fgh(theta + t * step)
            if new[0] >= ll - 1e-12 * abs(ll) or t < 1e-10:
                break
            t *= 0.5
        theta = theta + t * step
        ll, g, H = new
    return theta, ll, g, H, converged


def _identification(D: np.ndarray, avail: np.ndarray, names: list[str]) -> None:
    """Raise a ModelError naming parameters that the data cannot identify."""
    mean = (D * avail[..., None]).sum(1) / avail.sum(1, keepdims=True)
    Dc = ((D - mean[:, None, :]) * avail[..., None]).reshape(-1, D.shape[2])
    flat = np.abs(Dc).max(0) == 0
    if flat.any():
        bad = [names[k] for k in np.nonzero(flat)[0]]
        raise ModelError(
            f"{bad} never differ between the alternatives of an occasion, so the choices say "
            "nothing about them. Drop these attributes/covariates."
        )
    s = Dc.std(0)
    ev, evec = np.linalg.eigh((Dc / s).T @ (Dc / s))
    if ev[0] < 1e-9 * ev[-1]:
        v = evec[:, 0]
        bad = [names[k] for k in np.nonzero(np.abs(v) > 0.2)[0]]
        raise ModelError(
            f"the parameters {bad} are collinear (one is a combination of the others, e.g. a "
            "sale price next to list price and discount). Drop one of them."
        )


def _sym_inv(A: np.ndarray) -> np.ndarray:
    try:
        out = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        out = np.linalg.pinv(A)
    return (out + out.T) / 2


# --------------------------------------------------------------------------- models
class ChoiceModel:
    """Base of the choice models: fit, predict, elasticities, WTP, JSON persistence."""

    kind = "base"

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-9):
        self.max_iter = max_iter
        self.tol = tol

    # subclasses set: spec_, names_, theta_, cov_, loglik_, n_obs_, B_ (C,K), converged_
    def _check_fitted(self) -> None:
        if not hasattr(self, "theta_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted; call fit(data) first")

    n_classes: int = 1

    def _class_rows(self, theta: np.ndarray) -> np.ndarray:
        return theta[None, :]

    def _class_weights(self, data: ChoiceData, theta: np.ndarray, posterior: bool) -> np.ndarray:
        return np.ones((data.n, 1))

    def _check_data(self, data: ChoiceData) -> None:
        s = self.spec_
        if list(data.spec.alternatives) != list(s.alternatives) or list(
            data.spec.attribute_names
        ) != list(s.attribute_names):
            raise DataError(
                f"the data has alternatives {list(data.spec.alternatives)} and attributes "
                f"{data.spec.attribute_names}; the model was fitted on "
                f"{list(s.alternatives)} / {s.attribute_names}"
            )

    def class_probabilities(self, data: ChoiceData, theta: np.ndarray | None = None,
                            posterior: bool = True) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Class weights (N, C) and within-class choice probabilities (C, N, J)."""
        self._check_fitted()
        self._check_data(data)
        theta = self.theta_ if theta is None else theta
        asc, beta, G = _coef_arrays(self.spec_, self._class_rows(theta))
        Pc = _softmax(_utilities(asc, beta, G, data.X, data.Z, data.avail))
        return self._class_weights(data, theta, posterior), Pc

    def predict_proba(self, data: ChoiceData, posterior: bool = True) -> np.ndarray:
        """(N, J) choice probabilities. Latent-class models use each known household's
        posterior class probabilities (from the fit) when ``posterior``; otherwise the prior."""
        w, Pc = self.class_probabilities(data, posterior=posterior)
        return np.einsum("nc,cnj->nj", w, Pc)

    def loglik(self, data: ChoiceData, posterior: bool = True) -> float:
        """Log-likelihood of the observed choices of ``data``."""
        P = self.predict_proba(data, posterior)
        return float(np.log(np.clip(P[np.arange(data.n), data.y], 1e-300, None)).sum())

    @property
    def se_(self) -> np.ndarray:
        self._check_fitted()
        return np.sqrt(np.clip(np.diag(self.cov_), 0, None))

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Estimates with standard errors, z, p-values and Wald confidence intervals."""
        se = self.se_
        z = self.theta_ / np.where(se > 0, se, np.nan)
        q = stats.norm.ppf(0.5 + level / 2)
        return pd.DataFrame(
            {
                "estimate": self.theta_,
                "std_err": se,
                "z": z,
                "p_value": 2 * stats.norm.sf(np.abs(z)),
                "ci_low": self.theta_ - q * se,
                "ci_high": self.theta_ + q * se,
            },
            index=pd.Index(self.names_, name="parameter"),
        )

    @property
    def aic_(self) -> float:
        return -2 * self.loglik_ + 2 * len(self.theta_)

    @property
    def bic_(self) -> float:
        return -2 * self.loglik_ + len(self.theta_) * math.log(self.n_units_)

    def _draws(self, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        return rng.multivariate_normal(self.theta_, self.cov_, size=n_draws, method="eigh")

    def elasticities(self, data: ChoiceData, *, n_draws: int = 200, level: float = 0.95,
                     random_state: int | None = 0) -> dict[str, pd.DataFrame]:  # fmt: skip
        """Aggregate price elasticities at the observed prices of ``data``.

        ``E[j, k]`` is the % change of alternative ``j``'s expected demand for a 1% rise of
        alternative ``k``'s price at every occasion: ``sum_n sum_c w_nc P_ncj b_c (1[j=k] -
        P_nck) p_nk / sum_n P_nj``. Returns ``{"estimate", "low", "high"}`` J x J frames; the
        interval is the percentile interval over ``n_draws`` parameter draws from the
        estimate's normal approximation (latent-class weights held at the estimate).
        """
        self._check_fitted()
        if self.spec_.price is None:
            raise ModelError("the model has no price attribute; elasticities need one")
        pi = self.spec_.attribute_names.index(self.spec_.price)
        p = data.X[:, :, pi]

        def one(theta: np.ndarray, w: np.ndarray) -> np.ndarray:
            _, Pc = self.class_probabilities(data, theta, posterior=True)
            b = self._class_rows(theta)[:, len(self.spec_.alternatives) - 1 + pi]
            A = w.T[:, :, None] * Pc * b[:, None, None]
            S = np.einsum("nc,cnj->j", w, Pc)
            own = np.einsum("cnj,nj->j", A, p)
            cross = np.einsum("cnj,cnk,nk->jk", A, Pc, p, optimize=True)
            return (np.diag(own) - cross) / S[:, None]

        w0 = self._class_weights(data, self.theta_, True)
        est = one(self.theta_, w0)
        rng = np.random.default_rng(random_state)
        sims = np.stack([one(t, w0) for t in self._draws(n_draws, rng)]) if n_draws else None
        alts = list(self.spec_.alternatives)

        def frame(a: np.ndarray) -> pd.DataFrame:
            return pd.DataFrame(a, index=pd.Index(alts, name="demand of"),
                                columns=pd.Index(alts, name="price of"))  # fmt: skip

        out = {"estimate": frame(est)}
        if sims is not None:
            out["low"] = frame(np.quantile(sims, 0.5 - level / 2, axis=0))
            out["high"] = frame(np.quantile(sims, 0.5 + level / 2, axis=0))
        return out

    def wtp(self, level: float = 0.95) -> pd.DataFrame:
        """Willingness to pay: ``-b / b_price`` for every constant and attribute, per class,
        with delta-method standard errors and normal intervals, in the data's price units."""
        self._check_fitted()
        spec = self.spec_
        if spec.price is None:
            raise ModelError("the model has no price attribute; WTP needs one")
        J = len(spec.alternatives)
        K = len(_param_names(spec))
        pk = J - 1 + spec.attribute_names.index(spec.price)
        q = stats.norm.ppf(0.5 + level / 2)
        rows = []
        base_names = _param_names(spec)[: J - 1 + len(spec.attributes)]
        for c in range(self.n_classes):
            off = c * K
            bp = self.theta_[off + pk]
            for k, name in enumerate(base_names):
                if k == pk:
                    continue
                b = self.theta_[off + k]
                g = np.zeros(len(self.theta_))
                g[off + k], g[off + pk] = -1 / bp, b / bp**2
                se = float(np.sqrt(max(g @ self.cov_ @ g, 0)))
                w = -b / bp
                rows.append({"class": c + 1, "parameter": name, "wtp": w, "std_err": se,
                             "ci_low": w - q * se, "ci_high": w + q * se})  # fmt: skip
        out = pd.DataFrame(rows)
        if self.n_classes == 1:
            out = out.drop(columns="class")
        return out

    # ---- persistence
    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        d = {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "spec": self.spec_.to_dict(),
            "names": list(self.names_),
            "theta": self.theta_.tolist(),
            "cov": self.cov_.tolist(),
            "fit": {"loglik": float(self.loglik_), "n_obs": int(self.n_obs_),
                    "n_units": int(self.n_units_),
                    "converged": bool(self.converged_), "cov_type": self.cov_type_},
            "reference_levels": self.reference_levels_.tolist(),
            "covariate_means": self.covariate_means_.tolist(),
            "notes": list(self.notes_),
            "attribute_ranges": getattr(self, "attribute_ranges_", None),
        }  # fmt: skip
        if getattr(self, "provenance", None):
            d["provenance"] = dict(self.provenance)
        d.update(self._extra_dict())
        return d

    def _extra_dict(self) -> dict[str, Any]:
        return {}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model as JSON (atomically)."""
        from synthcust.io.atomic import atomic_write_text

        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    def _set_common(self, data: ChoiceData) -> None:
        self.spec_ = data.spec
        self.n_obs_ = data.n
        self.attribute_ranges_ = _attribute_ranges(data)
        self.reference_levels_ = data.X.mean(0)
        self.covariate_means_ = data.Z.mean(0) if data.Z.shape[1] else np.zeros(0)
        self.notes_ = list(data.notes)

    @staticmethod
    def _precheck(data: ChoiceData) -> None:
        if data.n == 0:
            raise DataError("no occasions to fit on")
        if (data.y < 0).any():
            raise DataError("every occasion needs a chosen alternative to fit a model")
        counts = np.bincount(data.y, minlength=len(data.spec.alternatives))
        never = [a for a, c in zip(data.spec.alternatives, counts, strict=True) if c == 0]
        if never:
            raise DataError(
                f"alternative(s) {never} are never chosen in the {data.n} occasions, so their "
                "constants cannot be estimated; drop them from the alternatives or add data"
            )


class MultinomialLogit(ChoiceModel):
    """Conditional (multinomial) logit, our vectorised Newton-Raphson estimator.

    ``cov_type="hessian"`` gives the classical inverse-Hessian covariance; ``"cluster"`` the
    sandwich clustered by household (honest when a household's choices are correlated).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 2000
    >>> price = rng.uniform(1, 3, (n, 3))
    >>> V = np.array([0.0, 0.5, -0.5]) - 1.5 * price
    >>> y = (V + rng.gumbel(size=V.shape)).argmax(1)
    >>> df = pd.DataFrame(price, columns=["price.a", "price.b", "price.c"])
    >>> df["choice"] = np.array(["a", "b", "c"])[y]
    >>> m = MultinomialLogit().fit(choice_data(df, detect_spec(df)))
    >>> bool(abs(m.summary().loc["price", "estimate"] + 1.5) < 0.2)
    True
    """

    kind = "mnl"

    def __init__(self, *, cov_type: str = "hessian", max_iter: int = 100, tol: float = 1e-9):
        super().__init__(max_iter=max_iter, tol=tol)
        self.cov_type = cov_type

    def fit(self, data: ChoiceData, weights: np.ndarray | None = None) -> MultinomialLogit:
        """Estimate by maximum likelihood; returns ``self``."""
        if self.cov_type not in ("hessian", "cluster"):
            raise ModelError(f"cov_type must be 'hessian' or 'cluster', not {self.cov_type!r}")
        self._precheck(data)
        D = _design(data)
        names = _param_names(data.spec)
        _identification(D, data.avail, names)
        Y = np.zeros(data.avail.shape)
        Y[np.arange(data.n), data.y] = 1.0
        w = np.ones(data.n) if weights is None else np.asarray(weights, dtype=float)
        theta, ll, _g, H, conv = _newton(
            lambda t: _mnl_fgh(t, D, Y, data.avail, w), np.zeros(D.shape[2]), self.max_iter,
            self.tol,
        )  # fmt: skip
        self._set_common(data)
        self.names_, self.theta_, self.loglik_, self.converged_ = names, theta, ll, conv
        self.B_ = theta[None, :]
        self.n_units_ = data.n if data.household is None else len(pd.unique(data.household))
        bread = _sym_inv(-H)
        self.cov_type_ = self.cov_type
        if self.cov_type == "cluster":
            if data.household is None:
                raise ModelError("cov_type='cluster' needs a household column")
            V = np.where(data.avail, D @ theta, -np.inf)
            P = _softmax(V)
            s = (Y - P)[:, :, None] * D
            scores = s.sum(1) * w[:, None]
            codes = pd.factorize(data.household)[0]
            S = np.zeros((codes.max() + 1, len(theta)))
            np.add.at(S, codes, scores)
            self.cov_ = bread @ (S.T @ S) @ bread
        else:
            self.cov_ = bread
        if not conv:
            self.notes_.append(f"Newton did not converge in {self.max_iter} iterations")
        return self


class LatentClassLogit(ChoiceModel):
    """Latent-class conditional logit over households, fitted by EM.

    Each household belongs to one of ``n_classes`` classes for all its occasions; class ``c``
    has its own MNL coefficients. Membership probabilities are a multinomial logit on an
    intercept plus the household's persona (one-hot, from ``spec.persona``) and numeric
    ``spec.membership`` columns, so classes can be tied to personas. Several EM starts
    (k-means on household choice shares, then random) and the best log-likelihood is kept;
    classes are ordered by size. Covariance from the outer product of household scores.

    ``membership_penalty`` (default 0: maximum likelihood) adds a ridge penalty on the
    membership coefficients (a Gaussian prior of standard deviation ``1 / sqrt(penalty)``;
    0.16 gives 2.5, the weakly informative scale of Gelman et al. 2008). When a persona decides
    the class exactly (separation) the unpenalised coefficients and standard errors diverge;
    the penalty keeps both finite (also in the covariance). Its normal approximation is still
    wide in that case, since the likelihood is one-sided; the A/B code holds parameters with
    standard errors above 1000 at their estimate instead. The reported log-likelihood (and BIC)
    is the unpenalised one.
    """

    kind = "latent_class"

    def __init__(self, n_classes: int = 2, *, n_init: int = 3, max_iter: int = 300,
                 tol: float = 1e-7, random_state: int | None = 0,
                 membership_penalty: float = 0.0):  # fmt: skip
        super().__init__(max_iter=max_iter, tol=tol)
        self.n_classes = n_classes
        self.n_init = n_init
        self.random_state = random_state
        self.membership_penalty = membership_penalty

    # membership design -----------------------------------------------------
    def _membership_matrix(self, data: ChoiceData, fit: bool) -> np.ndarray:
        """(N, R) membership covariates per occasion: intercept, persona dummies, numerics."""
        cols = [np.ones(data.n)]
        if data.spec.persona is not None:
            if data.persona is None:
                raise DataError(f"persona column {data.spec.persona!r} is needed")
            if fit:
                self.persona_levels_ = sorted(pd.unique(data.persona).tolist())
            unknown = sorted(set(data.persona) - set(self.persona_levels_))
            if unknown:
                raise DataError(
                    f"persona(s) {unknown} do not exist in the model (known: "
                    f"{self.persona_levels_}); use one of those or refit with them"
                )
            for lev in self.persona_levels_[1:]:
                cols.append((data.persona == lev).astype(float))
        if data.M is not None:
            cols.extend(data.M.T)
        return np.column_stack(cols)

    def _member_names(self) -> list[str]:
        out = ["intercept"]
        if self.spec_.persona is not None:
            out += [f"{self.spec_.persona}={lev}" for lev in self.persona_levels_[1:]]
        return out + list(self.spec_.membership)

    def _class_rows(self, theta: np.ndarray) -> np.ndarray:
        C, K = self.n_classes, self.K_
        return theta[: C * K].reshape(C, K)

    def _eta(self, theta: np.ndarray) -> np.ndarray:
        C, K = self.n_classes, self.K_
        R = (len(theta) - C * K) // (C - 1) if C > 1 else 0
        eta = np.zeros((R, C))
        eta[:, 1:] = theta[C * K :].reshape(C - 1, R).T
        return eta

    def _class_weights(self, data: ChoiceData, theta: np.ndarray, posterior: bool) -> np.ndarray:
        W = self._membership_matrix(data, fit=False)
        prior = _softmax(W @ self._eta(theta)) if self.n_classes > 1 else np.ones((data.n, 1))
        if posterior and data.household is not None and self.posterior_:
            keys = pd.Series(data.household).astype(str)
            known = keys.isin(self.posterior_.keys()).to_numpy()
            if known.any():
                post = np.array([self.posterior_[k] for k in keys[known]])
                prior = prior.copy()
                prior[known] = post
        return prior

    def fit(self, data: ChoiceData) -> LatentClassLogit:
        """Estimate by EM; returns ``self``."""
        C = int(self.n_classes)
        if C < 1:
            raise ModelError(f"n_classes must be >= 1, not {self.n_classes}")
        self._precheck(data)
        D = _design(data)
        names = _param_names(data.spec)
        _identification(D, data.avail, names)
        self.spec_ = data.spec
        K = D.shape[2]
        self.K_ = K
        N = data.n
        Y = np.zeros(data.avail.shape)
        Y[np.arange(N), data.y] = 1.0
        notes = []
        if data.household is None:
            hh = np.arange(N)
            notes.append("no household column: each occasion is its own unit")
        else:
            hh = pd.factorize(data.household)[0]
        H = hh.max() + 1
        Msum = sparse.csr_matrix((np.ones(N), (hh, np.arange(N))), shape=(H, N))
        Wn = self._membership_matrix(data, fit=True)
        first = np.unique(hh, return_index=True)[1]
        W = Wn[first]
        varies = np.abs(Wn - W[hh]).max(1) > 0
        if varies.any() and data.household is not None:
            raise DataError(
                f"household {_py(data.household[np.nonzero(varies)[0][0]])!r} has more than one "
                "value of its persona/membership columns; they must be household traits (one "
                "value per household)"
            )
        R = W.shape[1]
        lam = float(self.membership_penalty)
        if not (np.isfinite(lam) and lam >= 0):
            raise ModelError(f"membership_penalty must be >= 0, got {self.membership_penalty!r}")
        Dm = np.zeros((H, C, R * (C - 1)))
        for c in range(1, C):
            Dm[:, c, (c - 1) * R : c * R] = W
        availm = np.ones((H, C), dtype=bool)
        shares = (Msum @ Y) / np.asarray(Msum.sum(1))
        pooled = MultinomialLogit(max_iter=50).fit(data)
        rng = np.random.default_rng(self.random_state)
        best = None
        for start in range(max(1, self.n_init)):
            if C == 1:
                q = np.ones((H, 1))
            elif start < max(1, self.n_init - 1):
                from sklearn.cluster import KMeans

                lab = KMeans(C, n_init=1, random_state=int(rng.integers(2**31))).fit_predict(
                    shares + 1e-6 * rng.standard_normal(shares.shape)
                )
                q = np.full((H, C), 0.3 / max(C - 1, 1))
                q[np.arange(H), lab] = 0.7
            else:
                q = rng.dirichlet(np.ones(C), size=H)
            B = np.tile(pooled.theta_, (C, 1))
            eta = np.zeros(R * (C - 1))
            ll_old = -np.inf
            conv = False
            for _it in range(self.max_iter):
                for c in range(C):  # M-step: class coefficients
                    wc = q[hh, c]
                    B[c] = _newton(lambda t, wc=wc: _mnl_fgh(t, D, Y, data.avail, wc),
                                   B[c], 25, 1e-10)[0]  # fmt: skip
                if C > 1:  # M-step: membership logit on the soft labels (ridge-penalised)
                    eta = _newton(lambda e, q=q: _ridge(_mnl_fgh(e, Dm, q, availm, np.ones(H)),
                                                        e, lam), eta, 25, 1e-10)[0]  # fmt: skip
                    logpi = _log_softmax(Dm @ eta)
                else:
                    logpi = np.zeros((H, 1))
                V = np.einsum("njk,ck->cnj", D, B, optimize=True)
                lp = _log_softmax(np.where(data.avail[None], V, -np.inf))
                lpy = lp[:, np.arange(N), data.y].T  # (N, C)
                L = np.asarray(Msum @ lpy)
                lj = logpi + L
                m = lj.max(1, keepdims=True)
                lse = m[:, 0] + np.log(np.exp(lj - m).sum(1))
                ll = float(lse.sum())
                q = np.exp(lj - lse[:, None])
                if ll - ll_old < self.tol * abs(ll):
                    conv = True
                    break
                ll_old = ll
            if best is None or ll > best[0]:
                best = (ll, B.copy(), eta.copy(), q.copy(), conv, logpi.copy())
        ll, B, eta, q, conv, logpi = best
        order = np.argsort(-q.mean(0), kind="stable")
        B, q = B[order], q[:, order]
        E = np.zeros((R, C))
        E[:, 1:] = eta.reshape(C - 1, R).T if C > 1 else E[:, 1:]
        E = E[:, order] - E[:, [order[0]]]
        eta = E[:, 1:].T.ravel()
        self._set_common(data)
        self.notes_ += notes
        self.theta_ = np.concatenate([B.ravel(), eta])
        mnames = self._member_names()
        self.names_ = [f"class{c + 1}:{n}" for c in range(C) for n in names] + [
            f"membership:class{c + 1}:{m}" for c in range(1, C) for m in mnames
        ]
        self.loglik_, self.converged_, self.n_units_ = ll, conv, H
        self.B_ = B
        self.posterior_ = (
            {str(k): q[i].tolist() for i, k in enumerate(pd.unique(data.household))}
            if data.household is not None
            else {}
        )
        self.class_shares_ = q.mean(0)
        # BHHH covariance from household scores of the marginal log-likelihood
        P = _softmax(np.where(data.avail[None], np.einsum("njk,ck->cnj", D, B), -np.inf))
        Dy = D[np.arange(N), data.y]
        blocks = []
        for c in range(C):
            sc = Dy - np.einsum("njk,nj->nk", D, P[c])
            blocks.append(q[:, [c]] * np.asarray(Msum @ sc))
        pi = _softmax(W @ E) if C > 1 else np.ones((H, 1))
        for c in range(1, C):
            blocks.append((q[:, [c]] - pi[:, [c]]) * W)
        S = np.hstack(blocks)
        info = S.T @ S
        nb = C * K  # class coefficients first, then the membership block
        info[nb:, nb:] += lam * np.eye(info.shape[0] - nb)
        self.cov_ = _sym_inv(info)
        self.cov_type_ = "bhhh"
        if not conv:
            self.notes_.append(f"EM did not converge in {self.max_iter} iterations")
        if 10 * len(self.theta_) / max(C, 1) > H:
            self.notes_.append(
                f"{H} households for {len(self.theta_)} parameters: class estimates are noisy"
            )
        return self

    def class_table(self) -> pd.DataFrame:
        """Size (mean posterior share) and coefficients of each class."""
        self._check_fitted()
        idx = pd.Index([f"class{c + 1}" for c in range(self.n_classes)])
        t = pd.DataFrame(self.B_, columns=_param_names(self.spec_), index=idx)
        t.insert(0, "share", self.class_shares_)
        return t

    def _extra_dict(self) -> dict[str, Any]:
        return {
            "n_classes": self.n_classes,
            "K": self.K_,
            "persona_levels": list(getattr(self, "persona_levels_", [])),
            "posterior": self.posterior_,
            "class_shares": self.class_shares_.tolist(),
        }


def select_n_classes(
    data: ChoiceData,
    k_range: range | list[int] = range(2, 7),
    *,
    n_init: int = 3,
    random_state: int | None = 0,
) -> tuple[LatentClassLogit, pd.DataFrame]:
    """Fit a latent-class logit for every K in ``k_range`` and keep the one with the lowest
    BIC (``-2 loglik + parameters x log(households)``). Returns the model and the K table."""
    rows, best = [], None
    for k in k_range:
        m = LatentClassLogit(int(k), n_init=n_init, random_state=random_state).fit(data)
        rows.append({"classes": int(k), "loglik": m.loglik_, "parameters": len(m.theta_),
                     "bic": m.bic_, "converged": m.converged_})  # fmt: skip
        if best is None or m.bic_ < best.bic_:
            best = m
    if best is None:
        raise ModelError("k_range is empty")
    return best, pd.DataFrame(rows)


def _attribute_ranges(data: ChoiceData) -> dict[str, dict[str, list[float] | None]]:
    """Observed ``[min, max]`` of every attribute per alternative over the occasions where the
    alternative was available (``None``: never available); what the model has seen vary."""
    out: dict[str, dict[str, list[float] | None]] = {}
    X, avail = data.X, data.avail
    for p, at in enumerate(data.spec.attribute_names):
        v = np.where(avail & np.isfinite(X[:, :, p]), X[:, :, p], np.nan)
        seen = ~np.isnan(v).all(0)
        lo, hi = np.nanmin(np.where(seen, v, 0.0), 0), np.nanmax(np.where(seen, v, 0.0), 0)
        out[at] = {
            a: ([float(lo[j]), float(hi[j])] if seen[j] else None)
            for j, a in enumerate(data.spec.alternatives)
        }
    return out


def load_model(path_or_dict: str | os.PathLike[str] | dict[str, Any]) -> ChoiceModel:
    """Load a model saved by :meth:`ChoiceModel.save` (JSON)."""
    if isinstance(path_or_dict, dict):
        d = path_or_dict
    else:
        try:
            d = json.loads(Path(path_or_dict).read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ModelFileError(f"model file {str(path_or_dict)!r} does not exist") from e
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ModelFileError(f"{str(path_or_dict)!r} is not a JSON choice model") from e
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ModelFileError("not a synthcust choice model (format field missing or different)")
    if int(d.get("version", 0)) > VERSION:
        raise ModelFileError(f"choice model version {d['version']} is newer than {VERSION}")
    try:
        spec = ChoiceSpec.from_dict(d["spec"])
        m: ChoiceModel
        if d["kind"] == "mnl":
            m = MultinomialLogit()
        elif d["kind"] == "latent_class":
            m = LatentClassLogit(int(d["n_classes"]))
            m.K_ = int(d["K"])
            m.persona_levels_ = list(d["persona_levels"])
            m.posterior_ = {str(k): list(v) for k, v in d["posterior"].items()}
            m.class_shares_ = np.asarray(d["class_shares"], dtype=float)
        else:
            raise ModelFileError(f"unknown choice model kind {d['kind']!r}")
        m.spec_ = spec
        m.names_ = list(d["names"])
        m.theta_ = np.asarray(d["theta"], dtype=float)
        m.cov_ = np.asarray(d["cov"], dtype=float)
        f = d["fit"]
        m.loglik_, m.n_obs_, m.n_units_ = float(f["loglik"]), int(f["n_obs"]), int(f["n_units"])
        m.converged_, m.cov_type_ = bool(f["converged"]), f["cov_type"]
        m.reference_levels_ = np.asarray(d["reference_levels"], dtype=float)
        m.covariate_means_ = np.asarray(d["covariate_means"], dtype=float)
        m.notes_ = list(d.get("notes", []))
        if d.get("attribute_ranges") is not None:
            m.attribute_ranges_ = d["attribute_ranges"]
        if isinstance(d.get("provenance"), dict):
            m.provenance = dict(d["provenance"])
        m.B_ = m._class_rows(m.theta_)
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"choice model file is corrupt ({type(e).__name__}: {e})") from e
    if m.cov_.shape != (len(m.theta_), len(m.theta_)) or len(m.names_) != len(m.theta_):
        raise ModelFileError("choice model file is corrupt (parameter sizes disagree)")
    return m
