"""Choice models: parameter recovery, latent classes, elasticities, WTP, persistence, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthcust.exceptions import DataError, ModelError, ModelFileError, NotFittedError
from synthcust.simulation.choice import (
    LatentClassLogit,
    MultinomialLogit,
    choice_data,
    choice_data_from_long,
    detect_spec,
    load_model,
    wide_to_long,
)
from synthcust.simulation.choice.numerics import design, mnl_fgh
from synthcust.synthesizers.checks import ModelCase, parametrize_with_checks

ALTS = ["a", "b", "c"]
TRUE = {"asc:b": 0.5, "asc:c": -0.4, "price": -1.2, "disp": 0.8}


def simulate_mnl(n: int = 4000, seed: int = 0, households: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    price = rng.uniform(1, 3, (n, 3))
    disp = (rng.random((n, 3)) < 0.25).astype(int)
    V = np.array([0.0, TRUE["asc:b"], TRUE["asc:c"]]) + TRUE["price"] * price + TRUE["disp"] * disp
    y = (V + rng.gumbel(size=V.shape)).argmax(1)
    df = pd.DataFrame({f"price.{a}": price[:, j] for j, a in enumerate(ALTS)})
    for j, a in enumerate(ALTS):
        df[f"disp.{a}"] = disp[:, j]
    df["choice"] = np.array(ALTS)[y]
    if households:
        df.insert(0, "id", np.arange(n) % households)
    return df


def simulate_two_classes(h: int = 300, t: int = 12, seed: int = 1, persona: bool = False):
    """Households in two classes: price-sensitive a-lovers (60%) and c-loyal (40%)."""
    rng = np.random.default_rng(seed)
    cls = (rng.random(h) < 0.4).astype(int)
    hh = np.repeat(np.arange(h), t)
    c = cls[hh]
    n = h * t
    price = rng.uniform(1, 3, (n, 3))
    asc = np.array([[0.0, 0.0, -1.0], [0.0, 0.5, 2.5]])[c]
    beta = np.array([-2.5, -0.5])[c]
    V = asc + beta[:, None] * price
    y = (V + rng.gumbel(size=V.shape)).argmax(1)
    df = pd.DataFrame({"id": hh, **{f"price.{a}": price[:, j] for j, a in enumerate(ALTS)}})
    df["choice"] = np.array(ALTS)[y]
    if persona:
        # the persona matches the class for 90% of households
        lab = np.where(rng.random(h) < 0.9, cls, 1 - cls)
        df["persona"] = np.array(["bargain", "loyal"])[lab][hh]
    return df, cls


@pytest.fixture(scope="module")
def mnl_df() -> pd.DataFrame:
    return simulate_mnl(households=200)


@pytest.fixture(scope="module")
def mnl(mnl_df) -> MultinomialLogit:
    return MultinomialLogit().fit(choice_data(mnl_df, detect_spec(mnl_df)))


def test_detect_spec_finds_alternatives_and_attributes(mnl_df):
    spec = detect_spec(mnl_df)
    assert spec.alternatives == tuple(ALTS)
    assert spec.attribute_names == ["price", "disp"]
    assert spec.household == "id" and spec.base_alt == "a"


def test_mnl_recovers_parameters_within_ci(mnl):
    s = mnl.summary(level=0.99)  # four 99% intervals: all cover the truth ~96% of the time
    for name, true in TRUE.items():
        assert s.loc[name, "ci_low"] <= true <= s.loc[name, "ci_high"], (name, s.loc[name])
    assert mnl.converged_
    # standard errors are the right size: neither tiny nor huge
    assert 0.01 < s.loc["price", "std_err"] < 0.1


def test_analytic_gradient_and_hessian_match_finite_differences(mnl_df):
    d = choice_data(mnl_df.head(300), detect_spec(mnl_df))
    D = design(d)
    Y = np.eye(3)[d.y]
    w = np.random.default_rng(0).uniform(0.5, 1.5, d.n)
    th = np.array([0.2, -0.1, -0.7, 0.3])
    _, g, H = mnl_fgh(th, D, Y, d.avail, w)
    eps = 1e-6
    num_g = np.array([(mnl_fgh(th + eps * e, D, Y, d.avail, w)[0]
                       - mnl_fgh(th - eps * e, D, Y, d.avail, w)[0]) / (2 * eps)
                      for e in np.eye(4)])  # fmt: skip
    num_H = np.array([(mnl_fgh(th + eps * e, D, Y, d.avail, w)[1]
                       - mnl_fgh(th - eps * e, D, Y, d.avail, w)[1]) / (2 * eps)
                      for e in np.eye(4)])  # fmt: skip
    np.testing.assert_allclose(g, num_g, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(H, num_H, rtol=1e-4, atol=1e-3)


def test_cluster_covariance_differs_and_is_positive(mnl_df):
    d = choice_data(mnl_df, detect_spec(mnl_df))
    m = MultinomialLogit(cov_type="cluster").fit(d)
    assert np.all(np.linalg.eigvalsh(m.cov_) > 0)
    assert m.cov_type_ == "cluster"


def test_long_format_gives_the_same_fit_as_wide(mnl_df, mnl):
    spec = detect_spec(mnl_df)
    long = wide_to_long(mnl_df, spec)
    assert len(long) == 3 * len(mnl_df) and long["chosen"].sum() == len(mnl_df)
    # drop alternative c at some occasions where it was not chosen: availability varies
    d = choice_data_from_long(long, occasion="occasion", alternative="alternative",
                              chosen="chosen", attributes=["price", "disp"])  # fmt: skip
    m = MultinomialLogit().fit(d)
    np.testing.assert_allclose(m.theta_, mnl.theta_, rtol=1e-6)
    drop = (long["alternative"] == "c") & (long["chosen"] == 0) & (long["occasion"] % 3 == 0)
    d2 = choice_data_from_long(long[~drop], occasion="occasion", alternative="alternative",
                               chosen="chosen", attributes=["price", "disp"])  # fmt: skip
    assert (~d2.avail).sum() == drop.sum()
    m2 = MultinomialLogit().fit(d2)
    assert np.all(np.isfinite(m2.theta_)) and abs(m2.summary().loc["price", "estimate"]
                                                   - TRUE["price"]) < 0.2  # fmt: skip


def test_latent_class_recovers_two_classes():
    df, cls = simulate_two_classes()
    d = choice_data(df, detect_spec(df))
    lc = LatentClassLogit(2, n_init=2, random_state=0).fit(d)
    t = lc.class_table()
    assert abs(t["share"].iloc[0] - 0.6) < 0.08  # classes ordered by size
    assert t.loc["class1", "price"] == pytest.approx(-2.5, abs=0.4)
    assert t.loc["class2", "price"] == pytest.approx(-0.5, abs=0.4)
    assert t.loc["class2", "asc:c"] == pytest.approx(2.5, abs=0.6)
    post = np.array(list(lc.posterior_.values()))
    assert ((post.argmax(1) == 1) == (cls == 1)).mean() > 0.9
    # the latent-class model fits much better than the pooled MNL (BIC)
    assert lc.bic_ < MultinomialLogit().fit(d).bic_ - 100
    s = lc.summary()
    assert (s["std_err"] > 0).all() and np.isfinite(s["std_err"]).all()


def test_latent_class_membership_tied_to_persona():
    df, _ = simulate_two_classes(persona=True)
    spec = detect_spec(df, persona="persona")
    lc = LatentClassLogit(2, n_init=2).fit(choice_data(df, spec))
    s = lc.summary()
    coef = s.loc["membership:class2:persona=loyal"]
    assert coef["estimate"] > 2 and coef["ci_low"] > 0  # loyal persona -> the loyal class
    # the prior of a "loyal" household leans to class 2 (c-loyal), a "bargain" one to class 1
    pop = df.drop(columns="choice").drop_duplicates("id").head(50)
    p = lc.predict_proba(choice_data(pop, spec, require_choice=False), posterior=False)
    loyal = pop["persona"].to_numpy() == "loyal"
    assert p[loyal, 2].mean() > p[~loyal, 2].mean() + 0.2
    bad = pop.assign(persona="student")
    with pytest.raises(DataError, match=r"persona.*student.*do not exist"):
        lc.predict_proba(choice_data(bad, spec, require_choice=False))


def test_elasticities_match_finite_differences(mnl_df, mnl):
    d = choice_data(mnl_df, detect_spec(mnl_df))
    el = mnl.elasticities(d, n_draws=40)
    E = el["estimate"].to_numpy()
    assert np.all(np.diag(E) < 0) and np.all(E[~np.eye(3, dtype=bool)] > 0)
    assert np.all(el["low"].to_numpy() <= E) and np.all(el["high"].to_numpy() >= E)
    base = mnl.predict_proba(d).mean(0)
    d2 = choice_data(mnl_df.assign(**{"price.b": mnl_df["price.b"] * 1.001}), detect_spec(mnl_df))
    num = (mnl.predict_proba(d2).mean(0) / base - 1) / 0.001
    np.testing.assert_allclose(E[:, 1], num, rtol=0.02)


def test_wtp_delta_method(mnl):
    w = mnl.wtp().set_index("parameter")
    assert w.loc["disp", "wtp"] == pytest.approx(TRUE["disp"] / -TRUE["price"], abs=0.15)
    assert w.loc["disp", "ci_low"] < w.loc["disp", "wtp"] < w.loc["disp", "ci_high"]
    draws = np.random.default_rng(0).multivariate_normal(mnl.theta_, mnl.cov_, 4000)
    k = mnl.names_.index("disp"), mnl.names_.index("price")
    sd = np.std(-draws[:, k[0]] / draws[:, k[1]])
    assert w.loc["disp", "std_err"] == pytest.approx(sd, rel=0.15)


def test_json_round_trip(tmp_path, mnl_df, mnl):
    d = choice_data(mnl_df, detect_spec(mnl_df))
    p = mnl.save(tmp_path / "m.json")
    m2 = load_model(p)
    np.testing.assert_allclose(m2.predict_proba(d), mnl.predict_proba(d))
    df, _ = simulate_two_classes(h=80, t=8)
    d2 = choice_data(df, detect_spec(df))
    lc = LatentClassLogit(2, n_init=1).fit(d2)
    lc2 = load_model(lc.save(tmp_path / "lc.json"))
    np.testing.assert_allclose(lc2.predict_proba(d2), lc.predict_proba(d2))
    assert b"pickle" not in p.read_bytes()
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ModelFileError, match="not a synthcust choice model"):
        load_model(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(ModelFileError):
        load_model(tmp_path / "junk.json")


def test_not_fitted():
    with pytest.raises(NotFittedError):
        MultinomialLogit().summary()


# ---------------------------------------------------------------- bad input
def test_choice_without_attribute_columns(mnl_df):
    df = mnl_df.copy()
    df.loc[5, "choice"] = "zeta"
    with pytest.raises(DataError, match=r"'zeta'.*no attribute columns.*price\.zeta"):
        choice_data(df, detect_spec(df))
    with pytest.raises(DataError, match=r"'price\.d'.*alternative 'd'"):
        choice_data(mnl_df, detect_spec(mnl_df, alternatives=["a", "b", "c", "d"]))


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_bad_prices_name_row_and_column(mnl_df, bad):
    df = mnl_df.copy()
    df.loc[7, "price.b"] = bad
    with pytest.raises(DataError, match=r"row 7 column 'price\.b'.*--drop-bad-prices"):
        choice_data(df, detect_spec(df))
    d = choice_data(df, detect_spec(df), bad_prices="drop")
    assert d.n == len(df) - 1 and "dropped 1 occasion" in d.notes[0]


def test_single_alternative_is_refused():
    df = pd.DataFrame({"price.a": [1.0, 2.0], "choice": ["a", "a"]})
    with pytest.raises(DataError, match="at least two alternatives"):
        detect_spec(df)


def test_never_chosen_and_collinear(mnl_df):
    df = mnl_df[mnl_df["choice"] != "c"]
    with pytest.raises(DataError, match=r"\['c'\] are never chosen"):
        MultinomialLogit().fit(choice_data(df, detect_spec(df)))
    df2 = mnl_df.assign(**{f"dup.{a}": 2 * mnl_df[f"price.{a}"] for a in ALTS})
    with pytest.raises(ModelError, match="collinear"):
        MultinomialLogit().fit(choice_data(df2, detect_spec(df2)))
    df3 = mnl_df.assign(**{f"flat.{a}": 1.0 for a in ALTS})
    with pytest.raises(ModelError, match=r"\['flat'\] never differ"):
        MultinomialLogit().fit(choice_data(df3, detect_spec(df3)))


def test_bic_selects_two_classes_and_one_class_equals_mnl():
    from synthcust.simulation.choice import select_n_classes

    df, _ = simulate_two_classes(h=150, t=10)
    d = choice_data(df, detect_spec(df))
    best, table = select_n_classes(d, range(1, 4), n_init=1)
    assert best.n_classes == 2 and list(table["classes"]) == [1, 2, 3]
    one = LatentClassLogit(1, n_init=1).fit(d)
    assert one.loglik_ == pytest.approx(MultinomialLogit().fit(d).loglik_, abs=1e-4)


def test_missing_price_as_unavailable(mnl_df):
    df = mnl_df.copy()
    unchosen = df.index[df["choice"] != "c"][:300]
    df.loc[unchosen, ["price.c", "disp.c"]] = np.nan
    d = choice_data(df, detect_spec(df), bad_prices="unavailable")
    assert (~d.avail[:, 2]).sum() == 300 and d.avail[:, :2].all()
    m = MultinomialLogit().fit(d)
    assert m.summary().loc["price", "ci_low"] < TRUE["price"] < m.summary().loc["price", "ci_high"]
    assert np.all(m.predict_proba(d)[~d.avail] == 0)
    df.loc[df.index[df["choice"] == "c"][0], "price.c"] = np.nan
    with pytest.raises(DataError, match="chosen alternative has no price"):
        choice_data(df, detect_spec(df), bad_prices="unavailable")


def test_persona_must_be_constant_within_household():
    df, _ = simulate_two_classes(h=30, t=5, persona=True)
    df.loc[1, "persona"] = "loyal" if df.loc[0, "persona"] == "bargain" else "bargain"
    with pytest.raises(DataError, match="household 0 has more than one value"):
        LatentClassLogit(2, n_init=1).fit(choice_data(df, detect_spec(df, persona="persona")))


def test_membership_separated_by_persona_stays_finite():
    """A persona that decides the class exactly: the ridge keeps the membership coefficients
    and their standard errors finite (unpenalised, both diverge), without moving the classes."""
    df, cls = simulate_two_classes(h=200, t=10)
    hh = df["id"].to_numpy()
    df["persona"] = np.array(["bargain", "loyal"])[cls][hh]  # persona == class, always
    spec = detect_spec(df, persona="persona")
    d = choice_data(df, spec)
    free = LatentClassLogit(2, n_init=1, membership_penalty=0.0).fit(d)
    ridge = LatentClassLogit(2, n_init=1, membership_penalty=0.16).fit(d)
    name = "membership:class2:persona=loyal"
    se = {m: m.summary().loc[name, "std_err"] for m in (free, ridge)}
    est = ridge.summary().loc[name, "estimate"]
    assert 3 < est < 30 and se[ridge] < 20 < se[free]
    assert np.allclose(ridge.B_, free.B_, atol=0.15)  # the classes themselves are the same


# --------------------------------------------------------------------------- shared model checks
_D_MNL = choice_data(simulate_mnl(n=600, households=60), detect_spec(simulate_mnl(n=10)))
_DF_LC, _ = simulate_two_classes(h=60, t=6)
_D_LC = choice_data(_DF_LC, detect_spec(_DF_LC))

CONTRACT_CASES = [
    ModelCase(
        name="mnl",
        make=lambda random_state: MultinomialLogit(),
        fit_args=(_D_MNL,),
        use=lambda m: (m.predict_proba(_D_MNL), m.cov_),
        kind="choice",
        seeded=False,  # maximum likelihood by Newton: no randomness
    ),
    ModelCase(
        name="latent-class",
        make=lambda random_state: LatentClassLogit(2, n_init=2, random_state=random_state),
        fit_args=(_D_LC,),
        use=lambda m: (m.predict_proba(_D_LC), m.cov_),
        kind="choice",
    ),
]


@parametrize_with_checks(CONTRACT_CASES)
def test_choice_models_pass_the_shared_checks(case, check):
    check(case)
