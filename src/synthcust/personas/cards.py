"""Persona cards: who each persona is, what sets it apart, and synthetic members to meet.

A card holds the persona's size, its **distinguishing traits** (every used column compared with
the population), typical values, a name and a short description generated from the top traits
by fixed templates (deterministic), and representative **synthetic** members with fake names.

How traits are measured
-----------------------
Each persona is compared with the customers outside it (one against the rest):

* numeric and date columns: mean and median inside vs the population, and the effect size
  Cohen's d on normal scores (rank-Gauss, so a few huge spenders do not dominate); the test is
  Welch's t on those normal scores (a van der Waerden-type test, robust to skew).
* categorical levels, booleans and missingness: share inside vs the population, lift (the
  ratio of the two), Cohen's h as effect size and the two-proportion z test.

A trait is *distinguishing* when its p-value is below 0.05 after a Bonferroni correction over
every test on the card set and its effect size is at least 0.2 (Cohen's "small"); cards list
them by effect size.

Members are never real rows: a synthesizer (the Gaussian copula by default) is fitted on the
used columns plus the persona label, and members are drawn with the label as a sampling
condition, which the copula honours exactly (no rejection). A drawn row that equals a real row
in every used column is discarded and redrawn.

Examples
--------
>>> from synthcust.demo import simulate_customers
>>> from synthcust.personas import PersonaSegmenter, describe_personas
>>> df = simulate_customers(800, random_state=0, with_pii=False)
>>> seg = PersonaSegmenter(k=3, random_state=0).fit(df)
>>> cards = describe_personas(df, seg)
>>> [c.id for c in cards.cards]
['P1', 'P2', 'P3']
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtri

from synthcust.exceptions import ConditionError, DataError, ModelFileError
from synthcust.personas.segment import MISSING_LEVEL, PersonaSegmenter

__all__ = [
    "PersonaCard",
    "PersonaCards",
    "PersonaModel",
    "Trait",
    "add_members",
    "describe_personas",
    "fit_persona_model",
    "load_persona_model",
    "persona_agreement",
    "render_html",
    "sample_persona",
    "write_cards",
]

MIN_EFFECT = 0.2
ALPHA = 0.05
PERSONA_COLUMN = "persona"


@dataclass(frozen=True)
class Trait:
    """One column (or category level) of one persona compared with the population."""

    column: str
    kind: str  # "numeric" | "level" | "missing"
    level: str | None
    persona_value: float  # mean (numeric) or share (level, missing)
    population_value: float
    persona_median: float | None
    population_median: float | None
    lift: float | None  # persona_value / population_value where meaningful
    effect: float  # Cohen's d (numeric, on normal scores) or Cohen's h (shares)
    statistic: float  # Welch t or two-proportion z
    p_value: float
    test: str
    distinguishing: bool
    is_date: bool = False

    @property
    def higher(self) -> bool:
        return self.effect > 0

    def sentence(self) -> str:
        """A short, readable comparison with the population."""
        if self.kind == "numeric":
            v, pv = _show(self.persona_median, self.is_date), _show(self.population_median,
                                                                     self.is_date)
            return f"{self.column} median {v} vs {pv} overall"
        what = f"{self.column} missing" if self.kind == "missing" else \
            f"{self.column} = {self.level}"
        lift = f", x{self.lift:.1f}" if self.lift is not None and self.lift >= 1.5 else ""
        return f"{what}: {self.persona_value:.0%} vs {self.population_value:.0%} overall{lift}"


@dataclass
class PersonaCard:
    """Everything shown for one persona."""

    id: str
    name: str
    description: str
    size: int
    share: float
    traits: list[Trait]  # distinguishing ones first, by |effect|
    typical: dict[str, Any]
    members: pd.DataFrame | None = None
    agreement: float | None = None  # share of conditional draws assigned back to the persona

    def highlights(self, n: int = 3) -> list[Trait]:
        """The top ``n`` distinguishing traits, leaving out "less often missing than usual"."""
        return [t for t in self.shown_traits() if not (t.kind == "missing" and t.effect < 0)][:n]

    def shown_traits(self) -> list[Trait]:
        """Distinguishing traits by |effect|, "less often missing than usual" ones last."""
        dist = [t for t in self.traits if t.distinguishing]
        return sorted(dist, key=lambda t: t.kind == "missing" and t.effect < 0)  # stable

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "size": self.size,
            "share": self.share,
            "traits": [asdict(t) for t in self.traits],
            "typical": {k: _jsonable(v) for k, v in self.typical.items()},
            "synthetic_agreement": self.agreement,
            "members": None if self.members is None else [
                {k: _jsonable(v) for k, v in r.items()} for r in self.members.to_dict("records")
            ],
        }


@dataclass
class PersonaCards:
    """The cards of every persona plus how they were found (``selection``: one row per k)."""

    cards: list[PersonaCard]
    n_rows: int
    columns: list[str]
    k: int
    chosen_by: str
    selection: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    n_tests: int = 0
    member_method: str | None = None

    def card(self, persona: str) -> PersonaCard:
        for c in self.cards:
            if persona in (c.id, c.name):
                return c
        raise ConditionError(_unknown_persona(persona, [(c.id, c.name) for c in self.cards]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_rows": self.n_rows,
            "columns": self.columns,
            "k": self.k,
            "chosen_by": self.chosen_by,
            "selection": [{k: _jsonable(v) for k, v in r.items()}
                          for r in self.selection.to_dict("records")],
            "notes": self.notes,
            "method": {
                "traits": f"one persona vs the rest; distinguishing = p < {ALPHA} after Bonferroni "
                f"over {self.n_tests} tests and |effect| >= {MIN_EFFECT}",
                "numeric": "Cohen's d and Welch's t on normal scores (rank-Gauss)",
                "levels": "share vs population, lift, Cohen's h, two-proportion z test",
                "members": self.member_method,
            },
            "personas": [c.to_dict() for c in self.cards],
        }


def _jsonable(v: Any) -> Any:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.date().isoformat()
    if isinstance(v, np.generic):
        return _jsonable(v.item())
    if v is pd.NaT or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    return v


def _strict(obj: Any) -> Any:
    """``obj`` with every non-finite float as None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    return obj


def _show(v: Any, is_date: bool = False) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    if is_date:
        return str(np.datetime64(round(float(v) * 86400), "s").astype("datetime64[D]"))
    a = abs(float(v))
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10 or float(v).is_integer():
        return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
    return f"{v:.2f}"


def _unknown_persona(persona: Any, known: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{i} ({n})" if n and n != i else i for i, n in known)
    return f"unknown persona {persona!r}; the personas are: {shown}"


# --------------------------------------------------------------------------- traits
def _normal_scores(x: np.ndarray) -> np.ndarray:
    """Rank-Gauss scores of the finite values (ties averaged); NaN stays NaN."""
    out = np.full(len(x), np.nan)
    ok = np.isfinite(x)
    r = stats.rankdata(x[ok])
    out[ok] = ndtri((r - 0.5) / ok.sum())
    return out


def _numeric_traits(x: np.ndarray, lab: np.ndarray, k: int, col: str, is_date: bool) -> list:
    """Per persona: (persona mean/median, pop mean/median, d, t, p) on one numeric column."""
    ok = np.isfinite(x)
    z = _normal_scores(x)
    zl, xl, labs = z[ok], x[ok], lab[ok]
    n_in = np.bincount(labs, minlength=k).astype(float)
    n_all = float(ok.sum())
    n_out = n_all - n_in
    s_in = np.bincount(labs, zl, minlength=k)
    q_in = np.bincount(labs, zl * zl, minlength=k)
    s_all, q_all = zl.sum(), (zl * zl).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        m_in, m_out = s_in / n_in, (s_all - s_in) / n_out
        v_in = (q_in - n_in * m_in**2) / (n_in - 1)
        v_out = (q_all - q_in - n_out * m_out**2) / (n_out - 1)
        se = np.sqrt(v_in / n_in + v_out / n_out)
        t = (m_in - m_out) / se
        dof = se**4 / ((v_in / n_in) ** 2 / (n_in - 1) + (v_out / n_out) ** 2 / (n_out - 1))
        pooled = np.sqrt(((n_in - 1) * v_in + (n_out - 1) * v_out) / (n_all - 2))
        d = (m_in - m_out) / pooled
    p = 2 * stats.t.sf(np.abs(t), dof)
    mean_in = np.bincount(labs, xl, minlength=k) / np.maximum(n_in, 1)
    mean_pop = float(xl.mean()) if len(xl) else np.nan
    med = pd.Series(xl).groupby(labs).median().reindex(range(k)).to_numpy()
    med_pop = float(np.median(xl)) if len(xl) else np.nan
    out = []
    for i in range(k):
        lift = None
        if not is_date and np.nanmin(xl, initial=np.inf) >= 0 and mean_pop > 0:
            lift = float(mean_in[i] / mean_pop)
        out.append(
            (i, dict(column=col, kind="numeric", level=None, persona_value=float(mean_in[i]),
                     population_value=mean_pop, persona_median=float(med[i]),
                     population_median=med_pop, lift=lift, effect=float(np.nan_to_num(d[i])),
                     statistic=float(np.nan_to_num(t[i])),
                     p_value=float(np.nan_to_num(p[i], nan=1.0)),
                     test="Welch t on normal scores", is_date=is_date))
        )
    return out


def _share_traits(
    hit: np.ndarray, lab: np.ndarray, k: int, col: str, kind: str, level: str | None
) -> list:
    """Per persona: a 0/1 indicator's share inside vs population, lift, Cohen's h, z, p."""
    n_in = np.bincount(lab, minlength=k).astype(float)
    n = float(len(lab))
    x_in = np.bincount(lab, hit.astype(float), minlength=k)
    x_all = float(hit.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        p_in = x_in / n_in
        p_out = (x_all - x_in) / (n - n_in)
        pool = x_all / n
        se = np.sqrt(pool * (1 - pool) * (1 / n_in + 1 / (n - n_in)))
        zst = np.where(se > 0, (p_in - p_out) / se, 0.0)
    h = 2 * np.arcsin(np.sqrt(np.clip(p_in, 0, 1))) - 2 * np.arcsin(np.sqrt(np.clip(p_out, 0, 1)))
    p = 2 * stats.norm.sf(np.abs(zst))
    return [
        (i, dict(column=col, kind=kind, level=level, persona_value=float(p_in[i]),
                 population_value=pool, persona_median=None, population_median=None,
                 lift=float(p_in[i] / pool) if pool > 0 else None,
                 effect=float(np.nan_to_num(h[i])), statistic=float(np.nan_to_num(zst[i])),
                 p_value=float(np.nan_to_num(p[i], nan=1.0)), test="two-proportion z"))
        for i in range(k)
    ]


def describe_personas(
    df: pd.DataFrame,
    segmenter: PersonaSegmenter,
    labels: np.ndarray | None = None,
    *,
    top: int = 6,
) -> PersonaCards:
    """Cards (without members) for the personas of ``segmenter`` on the customers ``df``.

    ``labels``: persona id per row (default: ``segmenter.predict(df)``).
    """
    if labels is None:
        labels = segmenter.predict(df)
    labels = np.asarray(labels, dtype=object)
    if len(labels) != len(df):
        raise DataError(f"labels has {len(labels)} entries for {len(df)} rows")
    ids = list(segmenter.personas_)
    unknown = sorted(set(labels) - set(ids), key=str)
    if unknown:
        raise ConditionError(_unknown_persona(unknown[0], [(i, i) for i in ids]))
    k = len(ids)
    lab = pd.Categorical(labels, categories=ids).codes.astype(np.int64)
    clean = segmenter.clean(df)
    plan = segmenter.plan_
    raw: list[tuple[int, dict]] = []
    for c in plan.numeric:
        s = clean[c]
        is_date = c in plan.dates
        x = (s.astype("datetime64[s]").astype("int64") / 86400.0).where(s.notna()) if is_date \
            else s
        x = x.to_numpy(dtype=float)
        raw += _numeric_traits(x, lab, k, c, is_date)
        if not np.isfinite(x).all():
            raw += _share_traits(~np.isfinite(x), lab, k, c, "missing", None)
    for c in plan.categorical:
        s = clean[c]
        for level in plan.levels[c]:
            hit = (s.isna() if level == MISSING_LEVEL else s == level).to_numpy()
            if hit.any():
                raw += _share_traits(hit, lab, k, c, "level", level)
    n_tests = len(raw)
    alpha = ALPHA / max(n_tests, 1)
    per: list[list[Trait]] = [[] for _ in range(k)]
    for i, t in raw:
        dist = t["p_value"] < alpha and abs(t["effect"]) >= MIN_EFFECT
        per[i].append(Trait(distinguishing=bool(dist), **t))
    sizes = np.bincount(lab, minlength=k)
    cards = []
    for i, pid in enumerate(ids):
        traits = sorted(per[i], key=lambda t: (not t.distinguishing, -abs(t.effect), t.column))
        typical = _typical(clean[lab == i], plan)
        cards.append(PersonaCard(pid, "", "", int(sizes[i]), float(sizes[i] / len(df)),
                                 traits, typical))
    _name_cards(cards, top)
    return PersonaCards(
        cards, len(df), plan.used, k, segmenter.chosen_by_, segmenter.selection_frame(),
        list(segmenter.notes_), n_tests,
    )


def _typical(part: pd.DataFrame, plan: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in plan.numeric:
        s = part[c].dropna()
        if len(s) == 0:
            out[c] = None
        elif c in plan.dates:
            out[c] = s.sort_values().iloc[len(s) // 2].date().isoformat()
        else:
            out[c] = float(s.median())
    for c in plan.categorical:
        vc = part[c].fillna(MISSING_LEVEL).value_counts()
        out[c] = str(vc.index[0]) if len(vc) else None
    return out


# --------------------------------------------------------------------------- names
# (pattern on the column name, word when higher, word when lower); first match wins
_LEXICON: tuple[tuple[str, str, str], ...] = (
    (r"\bage\b|^age_|_age$", "older", "young"),
    (r"income|salary|wealth|earning", "high-income", "low-income"),
    (r"price_?sens|price_?elastic", "price-sensitive", "price-insensitive"),
    (r"discount|coupon|promo", "deal-seeking", "full-price"),
    (r"return", "high-return", "low-return"),
    (r"order_?value|aov|basket|ticket", "big-basket", "small-basket"),
    (r"spend|revenue|amount|monetary|sales|balance|value", "high-spending", "low-spending"),
    (r"days_?since|recency|last_", "lapsed", "recently active"),
    (r"signup|joined|first_|created|registration", "new", "long-standing"),
    (r"tenure|seniority|member_?since", "long-standing", "new"),
    (r"previous|contacts|calls|campaign", "often-contacted", "rarely-contacted"),
    (r"orders|frequency|purchases|visits|transactions|sessions|count", "frequent",
     "infrequent"),
    (r"satisf|rating|score|nps|review", "satisfied", "dissatisfied"),
    (r"household|family|children|kids|dependents", "large-household", "small-household"),
    (r"duration|minutes|seconds|time_spent", "long-engagement", "short-engagement"),
)
# categorical columns whose levels read well as an adjective ("app customers")
_BARE_LEVEL = re.compile(
    r"channel|region|city|country|state|segment|tier|plan|gender|sex|device|platform|"
    r"source|category|brand|membership|marital|job|occupation|education|language", re.I
)
_ADJ_END = ("ed", "ive", "in", "on", "er")  # booleans that read as adjectives: churned, active
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f"}


def _words(col: str) -> str:
    return re.sub(r"[_\W]+", " ", col).strip().lower()


def _phrase(t: Trait) -> tuple[str, str] | None:
    """(kind, phrase) for a name: 'adj' for numeric/boolean, 'noun' for a category level."""
    if t.kind == "missing":
        return None
    if t.kind == "numeric":
        name = t.column.lower()
        for pat, hi, lo in _LEXICON:
            if re.search(pat, name):
                return "adj", hi if t.higher else lo
        return "adj", f"{'high' if t.higher else 'low'}-{_words(t.column).replace(' ', '-')}"
    if not t.higher or t.level is None:
        return None  # names say what a persona is, not what it is not
    lev = t.level.strip().lower()
    w = _words(t.column)
    if lev in _TRUE or lev in _FALSE:
        if w.endswith(_ADJ_END):
            return "adj", w if lev in _TRUE else f"non-{w}"
        return "suffix", f"with {w}" if lev in _TRUE else f"without {w}"
    if t.level.startswith("("):
        return None
    if _BARE_LEVEL.search(t.column):
        return "noun", t.level.strip()
    return "suffix", f"{w}: {t.level.strip()}"


def _name_cards(cards: list[PersonaCard], top: int) -> None:
    names: dict[str, int] = {}
    for c in cards:
        adjs: list[str] = []
        noun: str | None = None
        suffix: str | None = None
        for t in c.traits:
            if not t.distinguishing:
                break
            ph = _phrase(t)
            if ph is None:
                continue
            kind, text = ph
            if kind == "adj" and len(adjs) < 2 and text not in adjs:
                adjs.append(text)
            elif kind == "noun" and noun is None and suffix is None:
                noun = text
            elif kind == "suffix" and suffix is None and noun is None:
                suffix = text
            if len(adjs) == 2 and (noun or suffix):
                break
        if not adjs and noun is None and suffix is None:
            name = "Typical customers"
        else:
            head = ", ".join(adjs)
            name = " ".join(x for x in (head, noun, "customers") if x)
            name = name[0].upper() + name[1:]
            if suffix:
                name += f" ({suffix})" if ":" in suffix else f" {suffix}"
        names[name] = names.get(name, 0) + 1
        c.name = name
        dist = c.highlights(3)
        lead = f"{c.share:.0%} of customers ({c.size:,})."
        if dist:
            c.description = lead + " Compared with everyone: " + "; ".join(
                t.sentence() for t in dist) + "."
        else:
            c.description = lead + " No trait sets them clearly apart from the population."
    for c in cards:
        if names[c.name] > 1:
            c.name = f"{c.name} ({c.id})"


# --------------------------------------------------------------------------- members
@dataclass
class PersonaModel:
    """A synthesizer that learned the personas (their label is a column) plus the segmenter.

    Use :func:`sample_persona` to draw customers of one persona; save with :meth:`save`.
    """

    synth: Any  # synthcust.api.SynthModel
    segmenter: PersonaSegmenter
    names: dict[str, str]
    column: str = PERSONA_COLUMN

    def resolve(self, persona: str) -> str:
        """The persona id of ``persona`` (an id like ``P2`` or a card name)."""
        if persona in self.names:
            return persona
        for pid, name in self.names.items():
            if str(persona).strip().lower() == name.lower():
                return pid
        raise ConditionError(_unknown_persona(persona, list(self.names.items())))

    def save(self, path: str | os.PathLike) -> Path:
        """One model file: the synthesizer's, with the personas in its metadata.

        ``synthcust sample MODEL --condition persona=P2`` reads it too.
        """
        s = self.synth
        extra = {  # what SynthModel.save writes, plus the personas
            "source_schema": s.schema.to_dict(),
            "pii": s.pii.to_dict() if s.pii is not None else None,
            "column_order": s.column_order,
            "segments": {k: seg.rule for k, seg in s.segments.items()},
            "personas": {
                "column": self.column,
                "names": self.names,
                "segmenter": self.segmenter.to_dict(),
            },
        }
        return s.synthesizer.save(path, extra=extra)


def load_persona_model(path: str | os.PathLike) -> PersonaModel:
    """Load a :class:`PersonaModel` written by :meth:`PersonaModel.save`."""
    from synthcust import api
    from synthcust._utils.persist import load_bundle

    meta, _ = load_bundle(path)
    info = meta.get("personas")
    if not isinstance(info, dict):
        raise ModelFileError(
            f"{str(path)!r} is a synthcust model without personas; create one with "
            "`synthcust personas segment DATA -o OUTDIR`"
        )
    seg = PersonaSegmenter.from_dict(info.get("segmenter"), repr(str(path)))
    return PersonaModel(api.load(path), seg, dict(info["names"]), str(info["column"]))


def fit_persona_model(
    df: pd.DataFrame,
    segmenter: PersonaSegmenter,
    labels: np.ndarray | None = None,
    *,
    names: dict[str, str] | None = None,
    synthesizer: str = "copula",
    column: str = PERSONA_COLUMN,
    random_state: int | None = 0,
) -> PersonaModel:
    """Fit ``synthesizer`` on the used columns plus the persona label ``column``."""
    from synthcust import api

    if column in segmenter.columns_:
        raise DataError(
            f"the persona label column {column!r} is also a segmentation column; pick another "
            "name for the label"
        )
    if labels is None:
        labels = segmenter.predict(df)
    data = df[segmenter.columns_].copy()
    data[column] = np.asarray(labels, dtype=object).astype(str)
    synth = api.fit(data, synthesizer=synthesizer, random_state=random_state)
    names = dict(names or {p: p for p in segmenter.personas_})
    return PersonaModel(synth, segmenter, names, column)


def sample_persona(
    model: PersonaModel,
    n: int,
    persona: str,
    *,
    random_state: int | None = None,
    real: pd.DataFrame | None = None,
    with_names: bool = True,
    consistent: bool = False,
) -> pd.DataFrame:
    """``n`` synthetic customers of ``persona`` (an id or a name), by exact conditional sampling.

    The synthesizer draws every row with ``persona`` as an exact condition (no rejection).
    ``real``: the real customers; a drawn row equal to one of them in every learned column is
    redrawn, so no member is a real row. ``consistent``: also redraw rows the segmenter would
    assign to another persona (a synthesizer only approximates the personas' joint shape; see
    :func:`persona_agreement`). ``with_names``: add a fake ``name`` column (Faker).

    Raises :class:`~synthcust.exceptions.ConditionError` naming the existing personas when
    ``persona`` is not one of them.
    """
    if not isinstance(n, int | np.integer) or n <= 0:
        raise DataError(f"n must be a positive number of customers, got {n!r}")
    pid = model.resolve(persona)
    seed = np.random.default_rng(random_state)
    out: list[pd.DataFrame] = []
    got = 0
    for _ in range(20):
        part = model.synth.sample(n - got, conditions={model.column: pid},
                                  random_state=int(seed.integers(2**31 - 1)))
        if real is not None:
            part = part[~_equals_a_real_row(part, real, model.segmenter.columns_)]
        if consistent and len(part):
            part = part[model.segmenter.predict(part) == pid]
        out.append(part)
        got += len(part)
        if got >= n:
            break
    res = pd.concat(out, ignore_index=True).head(n)
    if len(res) < n:
        why = " or fell in another persona (drop consistent=True)" if consistent else ""
        raise ConditionError(
            f"persona {pid!r}: after 20 rounds only {len(res)} of {n} draws were new "
            f"customers{why}; the columns may be too few or too coarse — segment on more columns"
        )
    if with_names:
        from synthcust.privacy.pii_fake import FakeSpec, fake_columns
        from synthcust.schema.model import PIIKind

        fake = fake_columns([FakeSpec("name", PIIKind.PERSON_NAME)], len(res),
                            random_state=int(seed.integers(2**31 - 1)))
        res.insert(0, "name", fake["name"].to_numpy())
    return res


def _equals_a_real_row(synth: pd.DataFrame, real: pd.DataFrame, cols: list[str]) -> np.ndarray:
    cols = [c for c in cols if c in synth.columns and c in real.columns]
    if not cols:
        return np.zeros(len(synth), bool)

    def key(d: pd.DataFrame) -> pd.Series:
        return pd.util.hash_pandas_object(d[cols].astype(str), index=False)

    return key(synth).isin(set(key(real))).to_numpy()


def persona_agreement(
    model: PersonaModel, n: int = 300, random_state: int | None = 0
) -> dict[str, float]:
    """Share of ``n`` conditional draws of each persona that the segmenter assigns back to it.

    1.0 means the synthesizer reproduces each persona as the segmenter sees it; the Gaussian
    copula, whose dependence is one correlation matrix, typically lands lower than a model
    that can learn a mixture (measure it: it is printed on the cards).
    """
    rng = np.random.default_rng(random_state)
    out = {}
    for pid in model.segmenter.personas_:
        draws = model.synth.sample(n, conditions={model.column: pid},
                                   random_state=int(rng.integers(2**31 - 1)))
        out[pid] = float((model.segmenter.predict(draws) == pid).mean())
    return out


def add_members(
    cards: PersonaCards,
    model: PersonaModel,
    n: int = 3,
    *,
    real: pd.DataFrame | None = None,
    random_state: int | None = 0,
    n_check: int = 300,
) -> PersonaCards:
    """Attach ``n`` representative synthetic members (fake names) to every card.

    Members are conditional draws that are not real rows and that the segmenter assigns to
    the card's persona (``consistent=True``). ``n_check`` draws per persona measure the
    synthesizer's agreement with the segmenter (:func:`persona_agreement`), shown on the card.
    """
    rng = np.random.default_rng(random_state)
    agree = persona_agreement(model, n_check, int(rng.integers(2**31 - 1))) if n_check else {}
    for c in cards.cards:
        c.members = sample_persona(model, n, c.id, real=real, consistent=True,
                                   random_state=int(rng.integers(2**31 - 1)))
        c.agreement = agree.get(c.id)
    cards.member_method = (
        f"{model.synth.synthesizer.name} synthesizer fitted on the used columns plus the persona "
        "label, sampled with the label as an exact condition; rows equal to a real customer, "
        "or that the segmenter assigns to another persona, redrawn; names from Faker. "
        f"Agreement: share of {n_check} conditional draws per persona the segmenter assigns "
        "back to it"
    )
    return cards


# --------------------------------------------------------------------------- rendering
_PALETTE = ("#1f5fa8", "#e07b39", "#2e9d58", "#b04a9e", "#d1343a", "#8a6d3b", "#17a2b8",
            "#6c757d", "#9c27b0", "#795548")


def _e(x: Any) -> str:
    return html.escape(str(x))


def _sizes_svg(cards: PersonaCards) -> str:
    from synthcust.reporting import plots

    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 0.35 * len(cards.cards) + 0.8))
    labels = [f"{c.id} {c.name}"[:64] for c in cards.cards][::-1]
    shares = [c.share for c in cards.cards][::-1]
    colors = [_PALETTE[i % len(_PALETTE)] for i in range(len(cards.cards))][::-1]
    ax.barh(labels, shares, color=colors)
    for y, s in enumerate(shares):
        ax.text(s, y, f" {s:.0%}", va="center", fontsize=7)
    ax.set_xlabel("share of customers")
    ax.set_title("Persona sizes", fontsize=10, loc="left")
    return plots.svg(fig)


def _selection_svg(cards: PersonaCards) -> str | None:
    from synthcust.reporting import plots

    sel = cards.selection
    if len(sel) < 2:
        return None
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 2.6))
    ax.plot(sel["k"], sel["bic"], "o-", color="#1f5fa8", label="BIC (lower is better)")
    ax.plot(sel["k"], sel["icl"], "s--", color="#8a8a8a", label="ICL")
    ax.axvline(cards.k, color="#d1343a", linewidth=1, label=f"chosen k = {cards.k}")
    ax.set_xlabel("number of personas k")
    ax.set_xticks(sel["k"].tolist())
    ax2 = ax.twinx()
    ax2.plot(sel["k"], sel["stability"], "^:", color="#2e9d58", label="stability (ARI)")
    ax2.plot(sel["k"], sel["silhouette"], "v:", color="#e07b39", label="silhouette")
    ax2.set_ylim(min(0.0, float(np.nanmin(sel["silhouette"]))), 1.0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=6.5, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, -0.22), ncol=3)
    ax.set_title("Choosing the number of personas", fontsize=10, loc="left")
    return plots.svg(fig)


def _traits_svg(card: PersonaCard, color: str, top: int) -> str | None:
    from synthcust.reporting import plots

    ts = card.shown_traits()[:top]
    if not ts:
        return None
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(4.4, 0.3 * len(ts) + 0.9))
    labels = [(t.column if t.kind == "numeric" else
               f"{t.column} {'missing' if t.kind == 'missing' else '= ' + str(t.level)}")[:36]
              for t in ts][::-1]
    eff = [t.effect for t in ts][::-1]
    ax.barh(labels, eff, color=[color if e > 0 else "#9aa3b2" for e in eff])
    ax.axvline(0, color="#333", linewidth=0.8)
    ax.set_xlabel("effect vs the rest (Cohen's d or h)")
    ax.set_title(f"{card.id}: what sets them apart", fontsize=9, loc="left")
    return plots.svg(fig)


def _trait_table(card: PersonaCard, top: int) -> str:
    rows = []
    for t in card.shown_traits()[:top]:
        if t.kind == "numeric":
            what = _e(t.column)
            pv = f"median {_show(t.persona_median, t.is_date)} · mean " \
                f"{_show(t.persona_value, t.is_date)}"
            pop = f"median {_show(t.population_median, t.is_date)} · mean " \
                f"{_show(t.population_value, t.is_date)}"
        else:
            what = _e(f"{t.column} missing" if t.kind == "missing" else f"{t.column} = {t.level}")
            pv, pop = f"{t.persona_value:.1%}", f"{t.population_value:.1%}"
        lift = "" if t.lift is None else f"{t.lift:.2f}"
        rows.append(
            f"<tr><td>{what}</td><td class='n'>{_e(pv)}</td><td class='n'>{_e(pop)}</td>"
            f"<td class='n'>{lift}</td><td class='n'>{t.effect:+.2f}</td>"
            f"<td class='n'>{t.statistic:+.1f}</td><td class='n'>{t.p_value:.1e}</td>"
            f"<td>{_e(t.test)}</td></tr>"
        )
    if not rows:
        return "<p class='meta'>No trait passes the test and effect-size bar.</p>"
    return (
        "<table><tr><th>trait</th><th>persona</th><th>population</th><th>lift</th>"
        "<th>effect</th><th>statistic</th><th>p</th><th>test</th></tr>"
        + "".join(rows) + "</table>"
    )


def _members_table(m: pd.DataFrame | None) -> str:
    if m is None or len(m) == 0:
        return ""
    head = "".join(f"<th>{_e(c)}</th>" for c in m.columns)
    body = []
    for r in m.itertuples(index=False):
        cells = []
        for v in r:
            if isinstance(v, float | np.floating):
                cells.append(f"<td class='n'>{_e(_show(v))}</td>")
            elif isinstance(v, pd.Timestamp):
                cells.append(f"<td>{_e(v.date())}</td>")
            else:
                cells.append(f"<td>{_e('' if v is None else v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<details open><summary>Synthetic members (not real customers)</summary>"
        f"<div style='overflow-x:auto'><table><tr>{head}</tr>{''.join(body)}</table></div>"
        "</details>"
    )


def render_html(cards: PersonaCards, json_name: str | None = None, top: int = 6) -> str:
    """The persona cards as one self-contained HTML page (inline CSS and SVG)."""
    from synthcust.reporting.html import CSS

    method = cards.to_dict()["method"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        "<title>synthcust personas</title>",
        f"<style>{CSS}.persona{{background:#fff;border-radius:8px;padding:12px 16px;"
        "margin:16px 0;box-shadow:0 1px 2px rgba(0,0,0,.06);border-left:6px solid}"
        "</style></head><body><main>",
        "<h1>Customer personas</h1>",
        f"<p class='meta'>{cards.n_rows:,} customers · {cards.k} personas ("
        + ("k fixed by the user" if cards.chosen_by == "given" else
           f"k chosen by {_e(cards.chosen_by)}")
        + f") · columns: {_e(', '.join(cards.columns))}</p>",
        "<p>Each persona is a latent class of a mixture model over the columns above. Traits "
        f"compare the persona with everyone else: {_e(method['traits'])}; numeric columns: "
        f"{_e(method['numeric'])}; categories: {_e(method['levels'])}. Names and descriptions "
        "are generated from the top traits by fixed templates.</p>",
        "<div class='grid'>" + _sizes_svg(cards) + (_selection_svg(cards) or "") + "</div>",
    ]
    for i, c in enumerate(cards.cards):
        color = _PALETTE[i % len(_PALETTE)]
        typical = ", ".join(f"{k}: {_show(v) if isinstance(v, float) else v}"
                            for k, v in c.typical.items())
        parts.append(
            f"<section class='persona' style='border-left-color:{color}' id='{_e(c.id)}'>"
            f"<h2 style='margin-top:4px'>{_e(c.id)} · {_e(c.name)}</h2>"
            f"<p>{_e(c.description)}</p>"
            f"<div class='grid'>{_traits_svg(c, color, top) or ''}</div>"
            f"{_trait_table(c, top)}"
            f"<p class='meta'>Typical values: {_e(typical)}</p>"
            + (f"<p class='meta'>Synthetic agreement: {c.agreement:.0%} of conditional draws "
               "of this persona are assigned back to it by the segmenter.</p>"
               if c.agreement is not None else "")
            + f"{_members_table(c.members)}</section>"
        )
    sel = cards.selection.round(4)
    parts.append("<h2>How the number of personas was chosen</h2>")
    parts.append(
        "<p class='method'>Measured on the selection sample: log-likelihood, BIC, ICL (BIC + "
        "2 x classification entropy), silhouette of the hard labels, stability (mean adjusted "
        "Rand index between fits on different 80% subsamples from different starts) and the "
        "smallest persona's share.</p>"
    )
    parts.append(sel.to_html(index=False, border=0))
    if method.get("members"):
        parts.append(f"<p class='method'>Members: {_e(method['members'])}.</p>")
    if cards.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in cards.notes)
                     + "</ul>")
    if json_name:
        parts.append(f"<p class='meta'>Every figure is also in <code>{_e(json_name)}</code>.</p>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_cards(cards: PersonaCards, outdir: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``personas.html`` and ``personas.json`` into ``outdir`` (atomically)."""
    from synthcust.io.atomic import atomic_write_text

    d = Path(outdir)
    html_path, json_path = d / "personas.html", d / "personas.json"
    data = _strict(cards.to_dict())
    atomic_write_text(json_path, json.dumps(data, indent=1, default=str, allow_nan=False) + "\n")
    atomic_write_text(html_path, render_html(cards, json_path.name))
    return html_path, json_path
