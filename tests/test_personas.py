"""Personas: planted segments are recovered, labels are stable, cards name the planted traits,
members are synthetic, bad input fails clearly, and the CLI works end to end."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from _cli import run
from conftest import shared_data
from synthcust._utils.persist import peek_kind
from synthcust.demo import simulate_customers
from synthcust.exceptions import ConditionError, DataError, ModelFileError, NotFittedError
from synthcust.personas import (
    PersonaSegmenter,
    add_members,
    align_labels,
    describe_personas,
    fit_persona_model,
    load_persona_model,
    persona_agreement,
    sample_persona,
)
from synthcust.personas.describe import PersonaCard
from synthcust.personas.kpi import kpi_stats, parse_kpi, wilson
from synthcust.personas.members import PersonaModel, kpi_edges, kpi_strata
from synthcust.personas.naming import name_cards
from synthcust.personas.segment import edge_warning
from synthcust.privacy import infer_schema_with_pii
from synthcust.synthesizers.checks import ModelCase, parametrize_with_checks, same
from synthcust.workflows.personas import cards_summary, segment_personas


def planted(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three planted segments over mixed columns with missing values, an id and an e-mail.

    seg 0 (50%): young, low spend, mostly app; seg 1 (30%): older, high spend, mostly store;
    seg 2 (20%): middle-aged, most have no spend recorded (missing), mostly web, churn a lot.
    """
    rng = np.random.default_rng(seed)
    z = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    age = np.round(np.array([26.0, 58.0, 42.0])[z] + rng.normal(0, 4, n))
    spend = np.exp(np.array([3.0, 5.5, 4.2])[z] + rng.normal(0, 0.35, n))
    spend[(z == 2) & (rng.random(n) < 0.8)] = np.nan
    spend[rng.random(n) < 0.03] = np.nan
    visits = rng.poisson(np.array([9.0, 3.0, 1.0])[z])
    chan_p = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.15, 0.7, 0.15]])[z]
    channel = np.array(["app", "web", "store"])[(chan_p.cumsum(1) > rng.random((n, 1))).argmax(1)]
    churned = rng.random(n) < np.array([0.1, 0.05, 0.6])[z]
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "email": [f"user{i}@example.com" for i in range(n)],
            "age": age,
            "spend": spend,
            "visits": visits,
            "channel": channel,
            "churned": churned,
        }
    )
    return df, z


@pytest.fixture(scope="module")
def data():
    return planted()


@pytest.fixture(scope="module")
def fitted(data):
    df, _ = data
    return PersonaSegmenter(k_range=(2, 5), n_init=3, random_state=0).fit(df)


def test_recovers_planted_segments_and_k(data, fitted):
    _, z = data
    assert fitted.k_ == 3, fitted.selection_frame()
    assert adjusted_rand_score(z, fitted.labels_) > 0.8
    assert "customer_id" not in fitted.columns_ and "email" not in fitted.columns_
    assert any("email (PII: email)" in n for n in fitted.notes_)
    # new rows from the same world get the right persona too
    new, z_new = planted(600, seed=1)
    assert adjusted_rand_score(z_new, fitted.predict(new)) > 0.8
    proba = fitted.predict_proba(new)
    assert list(proba.columns) == ["P1", "P2", "P3"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("criterion", ["icl", "stability", "silhouette"])
def test_criteria(data, criterion):
    df, _ = data
    seg = PersonaSegmenter(k_range=(2, 5), n_init=3, criterion=criterion, random_state=0)
    sel = seg.fit(df).selection_frame()
    assert sel["k"].tolist() == [2, 3, 4, 5]
    if criterion == "silhouette":  # a distance criterion: k=2 and 3 are close on this data
        assert seg.k_ == sel.loc[sel["silhouette"].idxmax(), "k"]
    else:
        assert seg.k_ == 3, sel
        if criterion == "stability":
            assert sel.set_index("k").loc[3, "stability"] > 0.9


def test_labels_are_stable_across_seeds(data, fitted):
    df, _ = data
    other = PersonaSegmenter(k=3, n_init=3, random_state=7).fit(df)
    # same ids for the same people without any alignment (personas ordered by size)
    assert (other.labels_ == fitted.labels_).mean() > 0.97
    assert other.personas_ == ["P1", "P2", "P3"]
    sizes = pd.Series(other.labels_).value_counts()
    assert sizes["P1"] >= sizes["P2"] >= sizes["P3"]
    # aligning to a reference keeps ids even when the order would differ
    mapping = align_labels(np.array([2, 2, 0, 1]), np.array(["b", "b", "a", "c"]))
    assert mapping == {0: "a", 1: "c", 2: "b"}
    ref_aligned = PersonaSegmenter(k=3, n_init=3, random_state=3).fit(df, reference=fitted)
    assert (ref_aligned.labels_ == fitted.labels_).mean() > 0.97


def test_json_round_trip(tmp_path, data, fitted):
    df, _ = data
    p = fitted.save(tmp_path / "seg.synthcust")
    assert peek_kind(p) == "personas"  # the one model file format, nothing pickled
    back = PersonaSegmenter.load(p)
    assert (back.predict(df) == fitted.predict(df)).all()
    np.testing.assert_allclose(back.predict_proba(df), fitted.predict_proba(df), atol=1e-9)
    (tmp_path / "old.json").write_text(json.dumps(fitted.to_dict()))  # plain JSON of old
    assert (PersonaSegmenter.load(tmp_path / "old.json").predict(df) == fitted.predict(df)).all()
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(ModelFileError, match="not a synthcust persona model"):
        PersonaSegmenter.load(tmp_path / "bad.json")
    with pytest.raises(NotFittedError):
        PersonaSegmenter().predict(df)


def test_cards_list_the_planted_traits(data, fitted):
    df, _ = data
    cards = describe_personas(df, fitted)
    assert [c.id for c in cards.cards] == fitted.personas_
    assert sum(c.size for c in cards.cards) == len(df)
    old = max(cards.cards, key=lambda c: c.typical["age"])
    top = [t for t in old.traits if t.distinguishing][:4]
    cols = {(t.column, t.level) for t in top}
    assert ("age", None) in cols or ("spend", None) in cols
    age = next(t for t in old.traits if t.column == "age" and t.kind == "numeric")
    assert age.effect > 1 and age.p_value < 1e-10 and age.test.startswith("Welch")
    store = next(t for t in old.traits if t.column == "channel" and t.level == "store")
    assert store.distinguishing and store.lift > 2
    # the no-spend segment: missing spend is its trait, and names come from the traits
    lapsed = max(cards.cards, key=lambda c: next(
        t.persona_value for t in c.traits if t.column == "spend" and t.kind == "missing"))
    miss = next(t for t in lapsed.traits if t.column == "spend" and t.kind == "missing")
    assert miss.distinguishing and miss.persona_value > 0.6
    assert "Senior" in old.name and "Store" in old.name
    assert len({c.name for c in cards.cards}) == 3
    assert old.description.startswith(f"{old.share:.0%} of customers")
    json.dumps(cards.to_dict())  # JSON-able


def test_members_are_synthetic_and_sampling_is_exact(tmp_path, data, fitted):
    df, _ = data
    cards = describe_personas(df, fitted)
    model = fit_persona_model(df, fitted, names={c.id: c.name for c in cards.cards},
                              random_state=0)
    add_members(cards, model, 4, real=df, random_state=0)
    real_rows = set(map(tuple, df[fitted.columns_].astype(str).to_numpy()))
    for c in cards.cards:
        m = c.members
        assert len(m) == 4 and (m["persona"] == c.id).all()
        assert m["name"].str.contains(" ").all()  # a fake full name
        assert not set(m["name"]) & set(df["email"])
        assert not set(map(tuple, m[fitted.columns_].astype(str).to_numpy())) & real_rows
    path = model.save(tmp_path / "p.synthcust")
    back = load_persona_model(path)
    old = max(cards.cards, key=lambda c: c.typical["age"])
    s = sample_persona(back, 300, old.name, random_state=1)  # by name
    assert (s["persona"] == old.id).all()
    # the synthetic members of the persona look like it: older than the population
    assert s["age"].median() > df["age"].median() + 8
    with pytest.raises(ConditionError, match="unknown persona 'P9'; the personas are: P1"):
        sample_persona(back, 5, "P9")
    with pytest.raises(DataError, match="positive"):
        sample_persona(back, 0, "P1")


@pytest.fixture(scope="module")
def world():
    """The demo world (planted personas, churn differs by persona) and its segmenter."""
    df = simulate_customers(2000, random_state=0, with_pii=False)
    seg = PersonaSegmenter(k=4, n_init=2, random_state=0).fit(df)
    return df, seg


def test_members_are_the_persona_with_its_churn(world):
    """Members of each persona are assigned back to it and keep its real churn rate (inside
    the real 95% CI); the raw conditional copula draws of the old design did not."""
    df, seg = world
    model = fit_persona_model(df, seg, seg.labels_, synthesizer="autoregressive",
                              kpi=["churned"], random_state=0)
    assert model.columns_[:2] == ["persona", "churned"]  # label first, KPI right after
    real = kpi_stats(df, parse_kpi(df, "churned"), seg.labels_, seg.personas_)
    rates = [r.value for r in real]
    assert max(rates) > 2 * min(rates)  # the personas differ in churn: the check can fail
    for pid, r in zip(seg.personas_, real, strict=True):
        m = sample_persona(model, 400, pid, random_state=1, with_names=False)
        assert len(m) == 400 and (m["persona"] == pid).all()
        assert (seg.predict(m) >= "").all() and (seg.predict(m) == pid).mean() >= 0.9
        rate = m["churned"].astype(str).eq("True").mean()
        assert r.low <= rate <= r.high, (pid, rate, r)
    # the copula alone, conditioned on the label, puts many draws in other personas
    cop = fit_persona_model(df, seg, seg.labels_, synthesizer="copula", random_state=0)
    raw = persona_agreement(cop, 300, random_state=0)
    assert min(raw.values()) < 0.9, raw
    # ... yet its members are assigned back too, at any n (the old loop failed from 100 rows)
    low = min(raw, key=raw.get)
    m = sample_persona(cop, 2500, low, random_state=2, with_names=False)
    assert len(m) == 2500 and (seg.predict(m) == low).all()
    progress = []
    sample_persona(cop, 50, low, random_state=3, progress=lambda *a: progress.append(a))
    assert progress and progress[-1][0] == 50 and "members" in progress[-1][2]


def test_members_that_cannot_be_reached_fail_with_a_fix(world, monkeypatch):
    df, seg = world
    cop = fit_persona_model(df, seg, seg.labels_, synthesizer="copula", random_state=0)
    other = {p: q for p, q in zip(seg.personas_, seg.personas_[1:] + seg.personas_[:1],
                                 strict=True)}
    monkeypatch.setattr(seg, "predict", lambda d: np.array([other[p] for p in d["persona"]]))
    with pytest.raises(ConditionError, match=r"only 0 of .* draws of the copula model were "
                       r"members.*--synthesizer autoregressive"):
        sample_persona(cop, 10, "P1", random_state=0)


def test_kpi_pinned_on_every_card(world):
    df, seg = world
    cards = describe_personas(df, seg, seg.labels_, kpi=["churned", "income",
                                                         "preferred_channel=app"])
    assert cards.kpi == ["churned = True", "mean income", "preferred_channel = app"]
    for c in cards.cards:
        rows = df[seg.labels_ == c.id]
        churn, inc, app = c.kpis
        assert churn.value == pytest.approx(rows["churned"].mean())
        assert churn.low < churn.value < churn.high and churn.n == len(rows)
        assert churn.population == pytest.approx(df["churned"].mean())
        assert inc.value == pytest.approx(rows["income"].mean()) and inc.low < inc.value
        assert app.value == pytest.approx((rows["preferred_channel"] == "app").mean())
        assert c.to_dict()["kpis"][0]["text"].startswith("churned = True: ")
    assert parse_kpi(pd.DataFrame({"income": ["<=50K"] * 3 + [">50K"]}), "income").level == \
        ">50K"  # two levels: the rarer one
    with pytest.raises(DataError, match=r"KPI 'preferred_channel' has 3 levels; name the one"):
        describe_personas(df, seg, kpi=["preferred_channel"])
    with pytest.raises(DataError, match=r"no level 'fax'"):
        describe_personas(df, seg, kpi=["preferred_channel=fax"])
    with pytest.raises(DataError, match=r"unknown column 'churn'.*did you mean 'churned'"):
        describe_personas(df, seg, kpi=["churn"])
    lo, hi = wilson(np.array([0, 30]), np.array([10, 30]))
    assert lo[0] == 0 and 0.2 < hi[0] < 0.35 and hi[1] == pytest.approx(1) and lo[1] > 0.85


def test_k_at_the_edge_of_the_range_warns(data):
    df, _ = data  # three planted personas
    seg = PersonaSegmenter(k_range=(2, 3), n_init=2, random_state=0).fit(df)
    assert seg.k_ == 3 and "largest k tried (2..3)" in seg.k_warning_
    assert "--max-k 6" in seg.k_warning_ and seg.k_warning_ in seg.notes_
    cards = describe_personas(df, seg)
    assert cards.warnings == [seg.k_warning_]
    assert PersonaSegmenter(k_range=(2, 5), n_init=2, random_state=0).fit(df).k_warning_ is None
    assert PersonaSegmenter(k=3, random_state=0).fit(df).k_warning_ is None  # k given
    low = PersonaSegmenter(k_range=(3, 5), n_init=2, random_state=0).fit(df)
    assert low.k_ == 3 and "smallest k tried (3..5)" in low.k_warning_ and "--min-k 2" in \
        low.k_warning_
    assert "no well-separated personas" in edge_warning(2, (2, 8), "bic", (2, 8), 1000)
    assert "rows allow" in edge_warning(4, (2, 4), "bic", (2, 8), 20)


def test_redundant_traits_are_collapsed():
    """"No internet service" in three add-on columns follows from internet == "No": one trait."""
    rng = np.random.default_rng(0)
    n = 1200
    z = rng.random(n) < 0.3  # offline customers
    internet = np.where(z, "No", rng.choice(["DSL", "Fiber optic"], n))
    df = pd.DataFrame({"age": np.where(z, 60, 30) + rng.normal(0, 5, n),
                       "internet": internet})
    for addon in ("security", "backup", "streaming"):
        df[addon] = np.where(z, "No internet service", rng.choice(["Yes", "No"], n))
    seg = PersonaSegmenter(k=2, random_state=0).fit(df)
    cards = describe_personas(df, seg)
    off = max(cards.cards, key=lambda c: c.typical["age"])
    top = off.traits[0]
    assert top.column == "internet" and top.level == "No" and top.distinguishing
    assert top.same_as == ("security = No internet service", "backup = No internet service",
                           "streaming = No internet service")
    assert not [t for t in off.traits if t.level == "No internet service"]
    assert "same customers: security = No internet service" in top.sentence()


def test_names_read_like_segment_names(data, fitted):
    df, _ = data
    a = describe_personas(df, fitted)
    b = describe_personas(df, fitted)
    names = [c.name for c in a.cards]
    assert names == [c.name for c in b.cards]  # deterministic
    assert len(set(names)) == len(names)  # unique
    for n in names:
        assert not re.search(r"\bP\d|[_=:()]", n), n  # no ids, no column dumps
        assert all(w[0].isupper() for w in n.split()), n  # title case
    young = min(a.cards, key=lambda c: c.typical["age"])
    assert "Young" in young.name and "Spending" in young.name
    # twins (same traits) get their next defining word, then an ordinal, never the id
    twins = [PersonaCard(f"P{i}", "", "", 10, 0.1, list(a.cards[0].traits), {})
             for i in range(3)]
    name_cards(twins, 6)
    got = [c.name for c in twins]
    assert len(set(got)) == 3 and not any("P1" in g or "P2" in g for g in got)
    assert got[1].endswith("Second Group")


def test_bad_input_is_clear(data):
    df, _ = data
    small = df.head(12)
    with pytest.raises(DataError, match=r"k=5 personas need at least 25 rows"):
        PersonaSegmenter(k=5).fit(small)
    with pytest.raises(DataError, match="k >= 2"):
        PersonaSegmenter(k=1).fit(df)
    with pytest.raises(DataError, match="no usable columns for personas"):
        PersonaSegmenter(k=2).fit(df[["customer_id", "email"]])
    bad = df.assign(empty=np.nan)
    with pytest.raises(DataError, match=r"'empty'.*entirely missing"):
        PersonaSegmenter(k=2, columns=["age", "empty"]).fit(bad)
    seg = PersonaSegmenter(k=2, random_state=0).fit(bad.head(300))
    assert "empty" not in seg.columns_ and any("empty (entirely missing)" in n for n in seg.notes_)
    with pytest.raises(DataError, match="PII"):
        PersonaSegmenter(k=2, columns=["age", "email"]).fit(df)
    with pytest.raises(DataError, match=r"unknown column 'agee'.*did you mean 'age'"):
        PersonaSegmenter(k=2, columns=["agee"]).fit(df)
    with pytest.raises(DataError, match="unknown criterion"):
        PersonaSegmenter(criterion="aic").fit(df)
    with pytest.raises(DataError, match="not in the table"):
        PersonaSegmenter(k=2, random_state=0).fit(df.head(200)).predict(df[["age"]])


def test_tables_of_one_type_and_dates_as_text(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    z = rng.integers(0, 2, n)
    cats = pd.DataFrame({
        "plan": np.where(z, rng.choice(["a", "b"], n, p=[0.9, 0.1]),
                         rng.choice(["a", "b"], n, p=[0.1, 0.9])),
        "active": z.astype(bool),
    })
    seg = PersonaSegmenter(k_range=(2, 4), random_state=0).fit(cats)
    assert seg.k_ == 2 and adjusted_rand_score(z, seg.labels_) > 0.8
    nums = pd.DataFrame({"x": rng.normal(4 * z, 1), "y": rng.poisson(2 + 6 * z).astype(float)})
    nums.loc[::7, "x"] = np.nan
    seg = PersonaSegmenter(k_range=(2, 4), random_state=0).fit(nums)
    assert seg.k_ == 2 and adjusted_rand_score(z, seg.labels_) > 0.8
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300, n) + 500 * z, "D")
    dates = pd.DataFrame({"signup": pd.Series(day).dt.strftime("%d/%m/%Y")})  # day first
    seg = PersonaSegmenter(k=2, random_state=0).fit(dates)
    assert seg.plan_.dates == ["signup"] and adjusted_rand_score(z, seg.labels_) > 0.9
    back = PersonaSegmenter.load(seg.save(tmp_path / "d.synthcust"))  # dates re-read
    assert (back.predict(dates) == seg.labels_).all()
    card = describe_personas(dates, seg).cards
    assert {c.typical["signup"][:4] for c in card} <= {"2020", "2021", "2022"}


def test_demo_world_premium_shoppers_are_found():
    from synthcust.demo import simulate_customers

    df = simulate_customers(3000, random_state=0, with_pii=False, include_latent=True)
    truth = df.pop("true_persona").astype(str).to_numpy()
    seg = PersonaSegmenter(k=5, n_init=2, random_state=0).fit(
        df.drop(columns=["true_churn_probability"])
    )
    cards = describe_personas(df, seg, seg.labels_)
    big = max(cards.cards, key=lambda c: c.typical["avg_order_value"] or 0)
    share = (truth[seg.labels_ == big.id] == "premium_shopper").mean()
    assert share > 0.8, (big.name, share)
    assert "price-insensitive" in big.name.lower() or "big-basket" in big.name.lower()


# --------------------------------------------------------------------------- shared checks
class _ComparableSegmenter(PersonaSegmenter):
    """Equal by state: the shared checks compare fit inputs with ``==`` (a plain object is
    only equal to itself, so an unchanged deep copy would count as modified)."""

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and same(vars(self), vars(other))


_CHECK_DF = planted(400, seed=5)[0]
_CHECK_SEG = _ComparableSegmenter(k=3, n_init=2, random_state=0).fit(_CHECK_DF)
CASES = [
    ModelCase(
        name="persona-segmenter",
        make=lambda rs: PersonaSegmenter(k_range=(2, 3), n_init=2, random_state=rs),
        fit_args=(_CHECK_DF,),
        use=lambda m: m.predict_proba(_CHECK_DF),
        kind="personas",
    ),
    ModelCase(
        name="persona-segmenter-given-columns",
        make=lambda rs: PersonaSegmenter(
            k=2, n_init=2, columns=["age", "spend", "channel"],
            schema=infer_schema_with_pii(_CHECK_DF), random_state=rs),
        fit_args=(_CHECK_DF,),
        use=lambda m: m.predict_proba(_CHECK_DF),
        kind="personas",
    ),
    ModelCase(
        name="persona-model",
        make=lambda rs: PersonaModel("copula", random_state=rs),
        fit_args=(_CHECK_DF, _CHECK_SEG),
        use=lambda m: sample_persona(m, 20, "P2", random_state=0, with_names=False),
        kind="synthesizer",
        seeded=False,  # its randomness is the synthesizer's; members are drawn with a seed
    ),
]


@parametrize_with_checks(CASES)
def test_model_contract(case, check):
    check(case)


# --------------------------------------------------------------------------- CLI


def test_cli_end_to_end(tmp_path, capsys, monkeypatch, data):
    df, _ = data
    src = tmp_path / "customers.csv"
    df.head(900).to_csv(src, index=False)
    out = tmp_path / "personas"
    code, text, err = run(["personas", "segment", src, "-o", out, "--max-k", "4",
                           "--members", "2", "--seed", "0", "--kpi", "churned"],
                          capsys, monkeypatch)
    assert code == 0, err
    for f in ("personas.html", "personas.json", "segmenter.synthcust", "personas.synthcust",
              "labels.csv"):
        assert (out / f).exists(), f
    cards = json.loads((out / "personas.json").read_text())
    assert cards["k"] == 3 and len(cards["personas"]) == 3
    assert all(len(p["members"]) == 2 for p in cards["personas"])
    html = (out / "personas.html").read_text()
    assert html.count("<svg") >= 4 and "<script" not in html
    labels = pd.read_csv(out / "labels.csv")
    assert list(labels.columns) == ["customer_id", "persona", "persona_name"]
    assert "@example.com" not in html  # no real e-mail reaches the cards
    assert "P1" in text and "chosen by bic" in text
    assert cards["kpi"] == ["churned = True"] and "KPI" in text and "churned" in text
    assert all(p["kpis"][0]["low"] <= p["kpis"][0]["value"] <= p["kpis"][0]["high"]
               for p in cards["personas"])
    assert "churned = True: " in html and "warning" not in text  # k = 3 inside 2..4
    name = cards["personas"][1]["name"]
    code, text, err = run(["personas", "sample", out / "personas.synthcust", "--persona", name,
                           "-n", "20", "-o", tmp_path / "p2.csv", "--seed", "1",
                           "--consistent"],
                          capsys, monkeypatch)
    assert code == 0, err
    s = pd.read_csv(tmp_path / "p2.csv")
    assert len(s) == 20 and (s["persona"] == "P2").all() and "name" in s.columns
    code, _, err = run(["personas", "sample", out / "personas.synthcust", "--persona", "P7",
                        "-n", "5", "-o", tmp_path / "x.csv"], capsys, monkeypatch)
    assert code == 1 and "unknown persona 'P7'; the personas are: P1" in err
    code, _, err = run(["personas", "predict", out / "segmenter.synthcust", tmp_path / "p2.csv",
                        "-o", tmp_path / "lab.csv"], capsys, monkeypatch)
    assert code == 0, err
    assert (pd.read_csv(tmp_path / "lab.csv")["persona"] == "P2").all()  # --consistent
    # the copula reproduces each persona only in part (measured, shown on the cards)
    assert all(0.3 < p["synthetic_agreement"] <= 1 for p in cards["personas"])
    code, _, err = run(["personas", src, "-o", tmp_path / "o2", "--k", "500"],
                       capsys, monkeypatch)
    assert code == 1 and "k=500" in err
    code, out_, _ = run(["personas", "--help"], capsys, monkeypatch)
    assert code == 0 and "segment" in out_ and "sample" in out_


# --------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_bank_marketing_personas_within_a_minute():
    """45,211 real bank clients x 16 columns: fit, cards and labels in well under 60 s."""
    df = pd.read_csv(shared_data("bank", "bank_full.csv.gz"))
    t = time.perf_counter()
    seg = PersonaSegmenter(k_range=(2, 6), n_init=3, random_state=0).fit(df)
    cards = describe_personas(df, seg, seg.labels_)
    elapsed = time.perf_counter() - t
    assert elapsed < 60, elapsed
    assert 2 <= seg.k_ <= 6 and len(seg.columns_) == 17
    # 'unknown' is read as missing: it is never a category level
    assert all("unknown" not in lv for lv in seg.plan_.levels.values())
    assert all(any(t.distinguishing for t in c.traits) for c in cards.cards)
    # the personas differ in what matters to the bank: term-deposit uptake
    yes = [next(t.persona_value for t in c.traits if t.column == "y" and t.level == "yes")
           for c in cards.cards]
    assert max(yes) > 2 * min(yes)


def test_workflow_pins_the_schema_target_as_kpi(world):
    df, _ = world
    schema = infer_schema_with_pii(df).with_target("churned")
    res = segment_personas(df, schema=schema, k=3, members=2, synthesizer="copula")
    assert res.cards.kpi == ["churned = True"] and res.model.kpi == ["churned"]
    assert all(c.kpis[0].n == c.size and len(c.members) == 2 for c in res.cards.cards)
    assert cards_summary(res.cards)[0]["kpis"][0].startswith("churned = True: ")
    none = segment_personas(df, schema=schema, k=3, members=0, kpi=[], synthesizer="copula")
    assert none.cards.kpi == [] and not none.model.kpi


def test_kpi_strata_read_one_value_one_way():
    """Real 0/1 integers and synthetic floats (or booleans) fall in the same KPI stratum."""
    ints = pd.DataFrame({"k": pd.array([0, 1, None], dtype="Int64"), "b": [True, False, True]})
    floats = pd.DataFrame({"k": [0.0, 1.0, np.nan], "b": ["True", "False", "True"]})
    assert list(kpi_strata(ints, ["k", "b"], {})) == list(kpi_strata(floats, ["k", "b"], {}))
    edges = kpi_edges(pd.DataFrame({"x": np.arange(100.0)}), ["x"])
    assert len(edges["x"]) == 4  # quintiles of a numeric KPI
