"""Choice data: the :class:`ChoiceSpec` of a wide table, dense :class:`ChoiceData`, readers.

Data come in **wide** format (one row per purchase occasion, one column per attribute and
alternative such as ``price.heinz32``, and a choice column) or **long** format (one row per
occasion x alternative). Both become a :class:`ChoiceData`: dense arrays ``X`` (occasions x
alternatives x attributes), the chosen alternative, an availability mask, household ids and
occasion order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError

__all__ = [
    "ChoiceData",
    "ChoiceSpec",
    "choice_data",
    "choice_data_from_long",
    "detect_spec",
    "observed_ranges",
    "wide_to_long",
]

_SEPS = "._-:"

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
        """The attribute names, in the order of ``attributes``."""
        return [a for a, _ in self.attributes]

    @property
    def base_alt(self) -> str:
        """The alternative whose constant is fixed at 0."""
        return self.base if self.base is not None else self.alternatives[0]

    def column(self, attribute: str, alt: str) -> str:
        """The wide column holding ``attribute`` of alternative ``alt``."""
        return dict(self.attributes)[attribute].replace("{alt}", alt)

    def with_attributes(self, names: list[str], covariates: bool = True) -> ChoiceSpec:
        """The same spec restricted to some attributes (and optionally no covariates)."""
        attrs = tuple((a, t) for a, t in self.attributes if a in names)
        return replace(self, attributes=attrs, covariates=self.covariates if covariates else ())

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON-ready dict."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["attributes"] = [list(p) for p in self.attributes]
        for k in ("alternatives", "covariates", "membership"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChoiceSpec:
        """The spec back from :meth:`to_dict`."""
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
        """Number of occasions."""
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

    Parameters
    ----------
    df
        One row per occasion, the columns named by ``spec``.
    spec
        How the columns map onto the choice problem (see :func:`detect_spec`).
    require_choice
        Raise when the choice column is missing (False: a population to simulate).
    bad_prices
        Prices must be > 0 and every attribute present (``"error"``); ``"unavailable"`` reads
        a missing price as "not on the shelf at that occasion" (its other attributes may be
        missing too; a chosen alternative must have a price), ``"drop"`` drops occasions with
        a price <= 0 or missing (and says how many) instead of raising.
    fill
        Maps an attribute name to per-alternative values used where the table has no column
        for it (a synthetic population simulated at reference levels).

    Returns
    -------
    ChoiceData
        The dense arrays, in the order of ``spec.order`` when given.
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
    X = _read_attributes(df, spec, fill, notes)
    rows = df.index.to_numpy()
    keep = np.ones(n, dtype=bool)
    avail = np.ones((n, len(alts)), dtype=bool)
    if spec.price is not None:
        avail, keep = _check_prices(X, spec, rows, bad_prices, notes)
    nan = np.isnan(X) & keep[:, None, None]
    if nan.any():
        a, b, p = (v[0] for v in np.nonzero(nan))
        col = spec.column(spec.attribute_names[p], alts[b])
        raise DataError(f"missing value in column {col!r} at row {_py(rows[a])!r}; fill or drop it")
    y = _read_choice(df, spec, rows, require_choice)
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
    hh, persona, M = _read_household(df, spec)
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


def _read_attributes(
    df: pd.DataFrame, spec: ChoiceSpec, fill: dict[str, np.ndarray] | None, notes: list[str]
) -> np.ndarray:
    """(N, J, P) attribute values; ``fill`` stands in for attributes the table lacks."""
    alts = list(spec.alternatives)
    X = np.empty((len(df), len(alts), len(spec.attributes)))
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
    return X


def _check_prices(
    X: np.ndarray, spec: ChoiceSpec, rows: np.ndarray, bad_prices: str, notes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Availability mask and occasions kept after the price checks (``X`` edited in place)."""
    alts = list(spec.alternatives)
    n = X.shape[0]
    keep = np.ones(n, dtype=bool)
    avail = np.ones((n, len(alts)), dtype=bool)
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
    return avail, keep


def _read_choice(
    df: pd.DataFrame, spec: ChoiceSpec, rows: np.ndarray, require_choice: bool
) -> np.ndarray:
    """Index of the chosen alternative per occasion (-1: unknown)."""
    alts = list(spec.alternatives)
    y = np.full(len(df), -1, dtype=np.int64)
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
    return y


def _read_household(
    df: pd.DataFrame, spec: ChoiceSpec
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Household ids, persona labels and numeric membership columns (None when not given)."""
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
    return hh, persona, M


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



def observed_ranges(data: ChoiceData) -> dict[str, dict[str, list[float] | None]]:
    """Observed ``[min, max]`` of every attribute per alternative, what the model has seen vary.

    Only occasions where the alternative was available count; ``None`` marks an alternative
    that was never available.

    Parameters
    ----------
    data
        The training occasions.

    Returns
    -------
    dict
        ``{attribute: {alternative: [min, max] or None}}``.
    """
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
