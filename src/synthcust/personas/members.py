"""Synthetic members of personas: drawn from a model of the persona, then checked by the segmenter.

Why members need both a model and the segmenter
------------------------------------------------
A persona is defined by the segmenter: persona X is the customers whose most likely latent
class is X, a region of the table's space with sharp edges. A synthesizer conditioned on the
persona label only *approximates* that region: the Gaussian copula, whose dependence is one
correlation matrix, puts 10-45% of its "persona X" draws where the segmenter sees another
persona (and so gets the persona's KPIs wrong); the autoregressive model, 60-95%.

So members are drawn in two steps, and the result is exact in distribution for the model:

1. **Proposal**: a synthesizer (the flagship autoregressive model by default) learns the
   persona label as the *first* column next to the segmenter's columns and any KPI columns;
   draws are made with the label as a sampling condition (for the autoregressive model the
   first column is drawn first, so the condition is exact ancestral sampling, no resampling).
2. **Acceptance**: a draw is kept only when the segmenter assigns it to X (and, for the
   members shown on cards, when it equals no real customer). Rejection sampling keeps the
   model's distribution *restricted to the persona's region*, i.e. the model's
   ``p(row | label = X, segmenter(row) = X)``, the synthetic counterpart of the real persona
   (the real rows whose segmenter label is X). Batches grow with the measured acceptance rate,
   so any ``n`` is reached in a few rounds; it fails (with the measured rate) only when the
   model almost never lands in the persona.
3. **KPI quotas**: acceptance rates differ between, say, churners and stayers, so plain
   rejection would shift a KPI's rate. With KPI columns, members are therefore taken per KPI
   value (numeric KPIs: per quintile bin), in the proportions of the real persona, counted
   when the model is fitted (the maximum-likelihood estimate of ``p(kpi | persona)``; the
   network's own estimate is available as ``kpi_quota="model"``). Within each KPI value the
   rest of the row comes from the model, conditioned and accepted as above.

Examples
--------
>>> from synthcust.demo import simulate_customers
>>> from synthcust.personas import PersonaSegmenter
>>> df = simulate_customers(600, random_state=0, with_pii=False)
>>> seg = PersonaSegmenter(k=3, random_state=0).fit(df)
>>> model = fit_persona_model(df, seg, synthesizer="copula", random_state=0)
>>> s = sample_persona(model, 5, "P2", random_state=1, with_names=False)
>>> s["persona"].tolist(), bool((seg.predict(s) == "P2").all())
(['P2', 'P2', 'P2', 'P2', 'P2'], True)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from synthcust._utils.persist import load_bundle
from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import (
    ConditionError,
    DataError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)
from synthcust.personas.describe import PersonaCards
from synthcust.personas.segment import PersonaSegmenter
from synthcust.personas.traits import unknown_persona_message
from synthcust.privacy.pii_fake import FakeSpec, fake_columns
from synthcust.schema.model import PIIKind
from synthcust.synthesizers import REGISTRY
from synthcust.synthesizers.fitted import fit_model, load_model, prepare_schema
from synthcust.synthesizers.neural.torchutil import torch_available

__all__ = [
    "MIN_ACCEPTANCE",
    "PERSONA_COLUMN",
    "PersonaModel",
    "add_members",
    "fit_persona_model",
    "kpi_edges",
    "kpi_strata",
    "load_persona_model",
    "member_synthesizer",
    "persona_agreement",
    "sample_persona",
]

PERSONA_COLUMN = "persona"
#: below this measured share of draws landing in the persona, sampling gives up (it would
#: need more than 200 draws per member)
MIN_ACCEPTANCE = 0.005
#: ``progress(done, total, message)``: members accepted so far out of those asked for
Progress = Callable[[int, int, str], None]


def member_synthesizer() -> str:
    """The synthesizer members are drawn from when none is named.

    The flagship ``"autoregressive"`` when torch is installed (its draws land in the persona
    far more often than the copula's), else ``"copula"``; the same rule as
    :func:`synthcust.workflows.defaults.default_synthesizer`.

    Returns
    -------
    str
        A name of :data:`synthcust.synthesizers.REGISTRY`.
    """
    return "autoregressive" if torch_available() else "copula"


class PersonaModel:
    """A synthesizer that learned the personas (their label is a column) plus the segmenter.

    ``PersonaModel(synthesizer).fit(df, segmenter)``; use :func:`sample_persona` to draw
    customers of one persona; save with :meth:`save`.

    Parameters
    ----------
    synthesizer
        A name of :data:`synthcust.synthesizers.REGISTRY` (default: :func:`member_synthesizer`,
        the flagship).
    names
        Persona id -> card name (default: the ids).
    column
        Name of the persona label column the synthesizer learns.
    kpi
        KPI or target columns (``churned``, ``income``): learned right after the label, so the
        model's rate of each per persona is a plain learned frequency, and members keep it
        (acceptance is done per KPI value, see :func:`sample_persona`). They need not be
        segmentation columns.
    params
        Parameters of the synthesizer.
    random_state
        Seed of the synthesizer (resolved by it with :func:`~synthcust._utils.rng.resolve_rng`).

    Attributes
    ----------
    synth_ : SynthModel
        The fitted synthesizer (with its schema), conditioned on ``column`` to draw members.
    segmenter_ : PersonaSegmenter
        The segmenter whose personas it learned.
    names_ : dict
        Persona id -> name.
    columns_ : list of str
        The columns it learned, persona label first.
    """

    def __init__(self, synthesizer: str | None = None, *, names: dict[str, str] | None = None,
                 column: str = PERSONA_COLUMN, kpi: list[str] | None = None,
                 params: dict | None = None, random_state: int | None = 0) -> None:
        self.synthesizer = synthesizer
        self.names = names
        self.column = column
        self.kpi = kpi
        self.params = params
        self.random_state = random_state

    def fit(self, df: pd.DataFrame, segmenter: PersonaSegmenter,
            labels: np.ndarray | None = None) -> PersonaModel:
        """Fit the synthesizer on the persona labels plus the segmenter's (and extra) columns.

        Parameters
        ----------
        df
            The customers (at least the segmenter's columns).
        segmenter
            A fitted :class:`~synthcust.personas.PersonaSegmenter`.
        labels
            Persona id per row (default: ``segmenter.predict(df)``).

        Returns
        -------
        PersonaModel
            ``self``, fitted.
        """
        name = self.synthesizer or member_synthesizer()
        if name not in REGISTRY:
            raise SchemaError(f"unknown synthesizer {name!r}; available: "
                              f"{', '.join(sorted(REGISTRY))}")
        cols = list(dict.fromkeys([*(self.kpi or []), *segmenter.columns_]))
        if self.column in cols:
            raise DataError(
                f"the persona label column {self.column!r} is also a column of the table; pick "
                "another name for the label (column=...)"
            )
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DataError(f"column {missing[0]!r} is not in the table; the persona model "
                            f"learns {', '.join(cols)}")
        if labels is None:
            labels = segmenter.predict(df)
        # the label first: the autoregressive model then draws it first, so conditioning on
        # it is exact ancestral sampling (no importance resampling)
        data = pd.DataFrame({self.column: np.asarray(labels, dtype=object).astype(str)},
                            index=df.index)
        data = pd.concat([data, df[cols]], axis=1)
        self.synth_ = fit_model(data, prepare_schema(data), name, params=self.params,
                                random_state=self.random_state)
        self.segmenter_ = segmenter
        self.names_ = dict(self.names or {p: p for p in segmenter.personas_})
        self.columns_ = [self.column, *cols]
        kpi = list(self.kpi or [])
        self.kpi_edges_ = kpi_edges(df, kpi)
        self.kpi_shares_: dict[str, dict[str, float]] = {}
        if kpi:  # each persona's real KPI distribution: the member quotas (counted, the
            key = kpi_strata(df, kpi, self.kpi_edges_)  # MLE of a categorical conditional)
            tab = pd.crosstab(pd.Series(data[self.column].to_numpy()), pd.Series(key),
                              normalize="index")
            self.kpi_shares_ = {str(p): {str(k): float(v) for k, v in row.items() if v > 0}
                                for p, row in tab.iterrows()}
        return self

    def _check(self) -> None:
        if not hasattr(self, "synth_"):
            raise NotFittedError("this PersonaModel is not fitted; call fit(df) first")

    @property
    def synthesizer_name(self) -> str:
        """The name of the fitted synthesizer."""
        self._check()
        return str(self.synth_.synthesizer.name)

    def resolve(self, persona: str) -> str:
        """The persona id of ``persona`` (an id like ``P2`` or a card name)."""
        self._check()
        if persona in self.names_:
            return persona
        for pid, name in self.names_.items():
            if str(persona).strip().lower() == name.lower():
                return pid
        raise ConditionError(unknown_persona_message(persona, list(self.names_.items())))

    def draw(self, n: int, persona: str, random_state: int | None = None) -> pd.DataFrame:
        """``n`` raw conditional draws of ``persona`` (an id), not checked by the segmenter."""
        self._check()
        return self.synth_.sample(n, conditions={self.column: persona},
                                  random_state=random_state)

    def save(self, path: str | os.PathLike) -> Path:
        """One model file: the synthesizer's, with the personas in its metadata.

        ``synthcust sample MODEL --condition persona=P2`` reads it too.

        Returns
        -------
        Path
            The path written.
        """
        self._check()
        s = self.synth_
        extra = {  # what SynthModel.save writes, plus the personas
            "source_schema": s.schema.to_dict(),
            "pii": s.pii.to_dict() if s.pii is not None else None,
            "column_order": s.column_order,
            "segments": {k: seg.rule for k, seg in s.segments.items()},
            "personas": {"column": self.column, "names": self.names_,
                         "segmenter": self.segmenter_.to_dict(),
                         "params": {"synthesizer": self.synthesizer_name, "names": self.names,
                                    "kpi": self.kpi,
                                    "kpi_edges": self.kpi_edges_,
                                    "kpi_shares": self.kpi_shares_,
                                    "random_state": self.random_state
                                    if isinstance(self.random_state, int | None) else None}},
        }
        return s.synthesizer.save(path, extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike) -> PersonaModel:
        """Load a model written by :meth:`save`.

        Raises
        ------
        ModelFileError
            When ``path`` is a synthcust model without personas, or not a model file.
        """
        meta, _ = load_bundle(path, kind="synthesizer")
        info = meta.get("personas")
        if not isinstance(info, dict):
            raise ModelFileError(
                f"{str(path)!r} is a synthcust model without personas; create one with "
                "`synthcust personas segment DATA -o OUTDIR`"
            )
        synth = load_model(path)
        params = dict(info.get("params") or {})  # files of before the params were kept
        model = cls(str(params.get("synthesizer", synth.synthesizer.name)),
                    names=params.get("names", info["names"]), column=str(info["column"]),
                    kpi=params.get("kpi"),
                    random_state=params.get("random_state", synth.synthesizer.random_state))
        model.synth_ = synth
        model.segmenter_ = PersonaSegmenter.from_dict(info.get("segmenter"), repr(str(path)))
        model.names_ = dict(info["names"])
        cols = [*(model.kpi or []), *model.segmenter_.columns_]
        model.columns_ = [model.column, *dict.fromkeys(cols)]
        model.kpi_edges_ = dict(params.get("kpi_edges") or {})
        model.kpi_shares_ = dict(params.get("kpi_shares") or {})
        return model


def load_persona_model(path: str | os.PathLike) -> PersonaModel:
    """Load a :class:`PersonaModel` written by :meth:`PersonaModel.save`."""
    return PersonaModel.load(path)


def fit_persona_model(
    df: pd.DataFrame,
    segmenter: PersonaSegmenter,
    labels: np.ndarray | None = None,
    *,
    names: dict[str, str] | None = None,
    synthesizer: str | None = None,
    column: str = PERSONA_COLUMN,
    kpi: list[str] | None = None,
    params: dict | None = None,
    random_state: int | None = 0,
) -> PersonaModel:
    """``PersonaModel(synthesizer, ...).fit(df, segmenter, labels)``: see :class:`PersonaModel`."""
    return PersonaModel(synthesizer, names=names, column=column, kpi=kpi,
                        params=params, random_state=random_state).fit(df, segmenter, labels)


def sample_persona(
    model: PersonaModel,
    n: int,
    persona: str,
    *,
    random_state: int | None = None,
    real: pd.DataFrame | None = None,
    with_names: bool = True,
    consistent: bool = True,
    kpi_quota: str = "data",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """``n`` synthetic customers of ``persona`` (an id or a name): see the module docstring.

    Parameters
    ----------
    model
        A fitted :class:`PersonaModel`.
    n
        Members wanted (any positive number).
    persona
        Persona id (``P2``) or card name.
    random_state
        Seed of the draws and the fake names.
    real
        The real customers: a draw equal to one of them in every learned column is rejected,
        so no member is a real row.
    with_names
        Add a fake ``name`` column (Faker).
    consistent
        Keep only draws the segmenter assigns to ``persona`` (default; rejection sampling,
        see the module docstring). ``False`` returns the raw conditional draws, of which only
        :func:`persona_agreement` lands in the persona.
    kpi_quota
        Members per KPI value (when the model learned KPIs): ``"data"`` (default) the real
        persona's shares, counted when the model was fitted (the maximum-likelihood estimate
        of ``p(kpi | persona)``); ``"model"`` the network's own shares among 2,000-20,000 raw
        draws. Either way the segmenter's check is applied per KPI value, so it cannot shift
        the rate.
    progress
        ``progress(accepted, n, message)`` after every round of draws.

    Returns
    -------
    DataFrame
        ``n`` rows: the persona label, the learned columns (and ``name`` first).

    Raises
    ------
    ConditionError
        When ``persona`` is not one of the personas (the message lists them), or when fewer
        than :data:`MIN_ACCEPTANCE` of the draws land in the persona.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise DataError(f"n must be a positive number of customers, got {n!r}")
    n = int(n)
    pid = model.resolve(persona)
    seed = resolve_rng(random_state)
    say = progress or (lambda done, total, msg: None)
    if kpi_quota not in ("data", "model"):
        raise DataError(f"kpi_quota must be 'data' or 'model', got {kpi_quota!r}")
    pool = _MemberPool(model, pid, n, consistent, real, kpi_quota)
    while not pool.done():
        part = model.draw(pool.next_size(), pid, int(seed.integers(2**31 - 1)))
        pool.add(part)
        got = pool.accepted_total()
        say(min(got, n), n, f"{pid}: {min(got, n):,} of {n:,} members "
            f"({pool.rate():.0%} of {pool.drawn:,} draws kept)")
        if pool.drawn >= 200 and pool.rate() < MIN_ACCEPTANCE:
            raise ConditionError(_thin_message(model, pid, got, pool.drawn, consistent, real))
    res = pool.result(seed)
    if len(res) < n:
        raise ConditionError(_thin_message(model, pid, len(res), pool.drawn, consistent, real))
    if with_names:
        fake = fake_columns([FakeSpec("name", PIIKind.PERSON_NAME)], len(res),
                            random_state=int(seed.integers(2**31 - 1)))
        res.insert(0, "name", fake["name"].to_numpy())
    return res


def kpi_edges(df: pd.DataFrame, kpi: list[str]) -> dict[str, list[float]]:
    """Quintile edges of each numeric KPI with more than 10 values (its strata are bins)."""
    out = {}
    for c in kpi:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) \
                and s.nunique() > 10:
            x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            out[c] = [float(v) for v in np.unique(np.nanquantile(x, [0.2, 0.4, 0.6, 0.8]))]
    return out


def kpi_strata(frame: pd.DataFrame, kpi: list[str], edges: dict[str, list[float]]) -> np.ndarray:
    """The KPI stratum of each row: the joint KPI value (numeric KPIs binned at ``edges``)."""
    key = pd.Series("", index=frame.index)
    for c in kpi:
        s = frame[c]
        if c in edges:
            x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            v = pd.Series(np.digitize(x, edges[c]), index=frame.index).astype(str)
            v = v.where(np.isfinite(x), "nan")
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            x = pd.to_numeric(s, errors="coerce").astype(float)  # 1 and 1.0 are one value
            v = x.astype(str).where(x.notna(), "nan")
        else:
            v = s.astype(str).where(s.notna(), "nan")
        key = key + "|" + v
    return key.to_numpy()


class _MemberPool:
    """Accepted draws per KPI stratum; the quota of each stratum is the model's own share of
    it among *all* draws of the persona (before acceptance), so the segmenter's check cannot
    shift a KPI rate: members follow ``p(kpi | persona) p(rest | kpi, persona, in region)``.
    Without KPI columns there is one stratum (plain rejection sampling)."""

    #: rounds after which strata that stay short are given up (their quota moves to the rest)
    max_rounds = 40
    #: draws of the first round with KPIs, per member asked for and at most/least (the
    #: quotas' precision: +-0.003 on a rate of 0.2 at 20,000 draws)
    first_round = (20, 2000, 20_000)

    def __init__(self, model: PersonaModel, pid: str, n: int, consistent: bool,
                 real: pd.DataFrame | None, quota: str = "data") -> None:
        self.model, self.pid, self.n = model, pid, n
        self.consistent, self.real = consistent, real
        self.kpi = [c for c in (model.kpi or []) if c in model.columns_]
        # the quotas: the real persona's KPI shares (counted at fit), else the model's draws
        real_shares = model.kpi_shares_.get(pid) if quota == "data" else None
        self.target = pd.Series(real_shares, dtype=float) if real_shares else None
        self.raw: pd.Series = pd.Series(dtype=float)  # draws per stratum
        self.kept: pd.Series = pd.Series(dtype=float)  # accepted draws per stratum
        self.parts: list[pd.DataFrame] = []
        self.keys: list[np.ndarray] = []
        self.drawn = 0
        self.rounds = 0
        self.dropped: set[str] = set()

    def _strata(self, part: pd.DataFrame) -> np.ndarray:
        if not self.kpi:
            return np.zeros(len(part), dtype=object).astype(str)
        return kpi_strata(part, self.kpi, self.model.kpi_edges_)

    def add(self, part: pd.DataFrame) -> None:
        keep = np.ones(len(part), bool)
        if self.consistent and len(part):
            keep &= self.model.segmenter_.predict(part) == self.pid
        if self.real is not None:
            keep &= ~_equals_a_real_row(part, self.real, self.model.columns_[1:])
        key = self._strata(part)
        self.raw = self.raw.add(pd.Series(key).value_counts(), fill_value=0)
        self.kept = self.kept.add(pd.Series(key[keep]).value_counts(), fill_value=0)
        self.parts.append(part[keep])
        self.keys.append(key[keep])
        self.drawn += len(part)
        self.rounds += 1
        if self.target is not None and not self.raw.index.isin(self.target.index).any():
            self.target = None  # the model writes the KPI unlike the data: its own shares

    def accepted_total(self) -> int:
        return int(self.kept.sum())

    def rate(self) -> float:
        return self.accepted_total() / max(self.drawn, 1)

    def quota(self) -> pd.Series:
        base = self.raw if self.target is None else self.target
        share = base.drop(list(self.dropped), errors="ignore")
        share = share / share.sum()
        exact = share * self.n
        q = np.floor(exact)
        rest = int(self.n - q.sum())  # largest remainders get the rows left
        if rest:
            q[(exact - q).sort_values(ascending=False, kind="stable").index[:rest]] += 1
        return q.astype(int)

    def short(self) -> pd.Series:
        q = self.quota()
        return (q - self.kept.reindex(q.index, fill_value=0)).clip(lower=0)

    def done(self) -> bool:
        if self.drawn == 0:
            return False
        strata = len(self.raw if self.target is None else self.target)
        if len(self.dropped) >= strata:
            return True
        short = self.short()
        if short.sum() == 0:
            return True
        if self.rounds >= self.max_rounds:  # give up strata that stay short: their quota
            self.dropped |= set(short.index[short > 0])  # goes to the others
        return len(self.dropped) >= strata

    def next_size(self) -> int:
        if self.drawn == 0:  # with KPIs, the quotas are the model's shares in these draws
            per, lo, hi = self.first_round
            first = min(max(per * self.n, lo), hi) if self.kpi and self.target is None else 0
            return max(math.ceil(1.15 * self.n) + 8, first)
        short = self.short()
        raw = self.raw.reindex(short.index, fill_value=0)
        acc = (self.kept.reindex(short.index, fill_value=0) / raw.clip(lower=1)).clip(
            lower=MIN_ACCEPTANCE)
        share = (raw / self.raw.sum()).clip(lower=1 / max(self.drawn, 1))  # unseen: rare
        want = float((short / (acc * share)).max())
        return int(min(math.ceil(1.15 * want) + 8, 20 * self.n + 1000, 200_000))

    def result(self, rng: np.random.Generator) -> pd.DataFrame:
        rows = pd.concat(self.parts, ignore_index=True)
        key = np.concatenate(self.keys) if self.keys else np.array([], dtype=object)
        take = np.zeros(len(rows), bool)
        strata = len(self.raw if self.target is None else self.target)
        quota = self.quota() if len(self.dropped) < strata else pd.Series(dtype=int)
        for k, q in quota.items():  # the first q accepted draws of each stratum
            idx = np.flatnonzero(key == k)[: int(q)]
            take[idx] = True
        out = rows[take]
        if len(out) < self.n:  # strata given up: fill with the other accepted draws
            out = pd.concat([out, rows[~take].head(self.n - len(out))])
        return out.iloc[rng.permutation(len(out))].reset_index(drop=True)


def _thin_message(model: PersonaModel, pid: str, got: int, drawn: int, consistent: bool,
                  real: pd.DataFrame | None) -> str:
    why = []
    if consistent:
        why.append("the segmenter assigned the rest to other personas")
    if real is not None:
        why.append("or they copied a real customer")
    fix = ("fit the persona model with the autoregressive synthesizer "
           "(`--synthesizer autoregressive`)" if model.synthesizer_name != "autoregressive"
           else "refit with more epochs (the model has not learned this persona's shape)")
    return (f"persona {pid!r}: only {got:,} of {drawn:,} draws of the "
            f"{model.synthesizer_name} model were members of it ({'; '.join(why)}), below "
            f"{MIN_ACCEPTANCE:.1%}; {fix}, or use fewer personas (`--k`)")


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
    """Share of ``n`` raw conditional draws of each persona that the segmenter assigns back.

    This is the acceptance rate of :func:`sample_persona` (members themselves are always
    assigned back): 1.0 means the synthesizer alone reproduces each persona as the segmenter
    sees it. The copula, whose dependence is one correlation matrix, lands far lower than the
    autoregressive model.
    """
    rng = resolve_rng(random_state)
    out = {}
    for pid in model.segmenter_.personas_:
        draws = model.draw(n, pid, int(rng.integers(2**31 - 1)))
        out[pid] = float((model.segmenter_.predict(draws) == pid).mean())
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

    Members are drawn by :func:`sample_persona` (assigned back to the card's persona, never a
    real row). ``n_check`` raw draws per persona measure the synthesizer's own agreement with
    the segmenter (:func:`persona_agreement`), shown on the card.
    """
    rng = resolve_rng(random_state)
    agree = persona_agreement(model, n_check, int(rng.integers(2**31 - 1))) if n_check else {}
    for c in cards.cards:
        c.members = sample_persona(model, n, c.id, real=real,
                                   random_state=int(rng.integers(2**31 - 1)))
        c.agreement = agree.get(c.id)
    cards.member_method = (
        f"{model.synthesizer_name} synthesizer fitted on the persona label (first) plus the "
        "used columns, sampled with the label as an exact condition; draws the segmenter "
        "assigns to another persona, or equal to a real customer, rejected (so every member "
        f"is assigned back to its persona); names from Faker. Agreement: share of {n_check} raw "
        "conditional draws per persona the segmenter assigns back to it (the acceptance rate)"
    )
    return cards
