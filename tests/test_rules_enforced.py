"""The data's own rules (issue 19 item 4): discovered with enough support, enforced by default.

A planted table holds a multi-level implication (``service == 'No'`` implies ``'none'`` in six
add-on columns, and back), a numeric-spike implication (``pdays == -1`` implies
``poutcome == 'unknown'``), ``total >= monthly`` and an identity ``paid == base + fee``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthcust.constraints.auto import MIN_SUPPORT, discover_rules
from synthcust.constraints.discover import check_constraints, suggest_constraints
from synthcust.schema.infer import infer_schema
from synthcust.synthesizers import REGISTRY
from synthcust.synthesizers.oversampling.oversample import make_oversampler

ADDONS = [f"addon{k}" for k in range(6)]
HAS_TORCH = importlib.util.find_spec("torch") is not None


def planted(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    service = rng.choice(["No", "DSL", "Fiber"], n, p=[0.25, 0.4, 0.35])
    df = pd.DataFrame({"service": service})
    for c in ADDONS:
        df[c] = np.where(service == "No", "none", rng.choice(["Yes", "No"], n))
    pdays = np.where(rng.random(n) < 0.7, -1, rng.integers(1, 400, n))
    df["pdays"] = pdays
    df["poutcome"] = np.where(pdays == -1, "unknown", rng.choice(["failure", "success"], n))
    df["monthly"] = rng.gamma(2.0, 30.0, n).round(2)
    df["total"] = (df["monthly"] * rng.integers(1, 60, n)).round(2)
    df["base"] = rng.uniform(5, 50, n).round(2)
    df["fee"] = rng.choice([0.0, 1.5, 2.99], n)
    df["paid"] = (df["base"] + df["fee"]).round(2)
    df["noise"] = rng.normal(size=n)
    return df


def texts(found) -> set[str]:
    return {s.constraint.describe() for s in found}


INTERNET = {f"if service == 'No' then {c} == 'none'" for c in ADDONS}
BACK = {f"if {c} == 'none' then service == 'No'" for c in ADDONS}


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return planted()


@pytest.fixture(scope="module")
def rules(df):
    return discover_rules(df)


# --------------------------------------------------------------------------- discovery
def test_planted_rules_are_discovered_with_their_support(df, rules):
    got = texts(rules)
    assert got >= INTERNET and got >= BACK
    assert "if pdays == -1 then poutcome == 'unknown'" in got
    assert "total >= monthly" in got
    assert any(t.startswith("paid == ") and "base" in t and "fee" in t for t in got), got
    # multi-level: add-on -> add-on is implied through the service column, not listed again
    assert not any(t.startswith("if addon0") and "addon1" in t for t in got)
    n_no = int((df["service"] == "No").sum())
    by_text = {s.constraint.describe(): s for s in rules}
    assert by_text["if service == 'No' then addon3 == 'none'"].support == n_no
    assert all(s.exact and s.support >= MIN_SUPPORT for s in rules)
    # every rule found holds in every real row
    assert all(
        r.share == 1.0
        for r in check_constraints(df, infer_schema(df), [s.constraint for s in rules])
    )


def test_suggest_finds_the_multi_level_implication(df):
    assert texts(suggest_constraints(df)) >= INTERNET


def test_a_rule_broken_in_one_row_is_not_discovered(df):
    broken = df.copy()
    i = int(np.flatnonzero(broken["service"] == "No")[0])
    broken.loc[i, "addon2"] = "Yes"
    broken.loc[i + 1 if broken.loc[i + 1, "total"] > 1 else i + 2, "total"] = 0.01
    got = texts(discover_rules(broken))
    assert "if service == 'No' then addon2 == 'none'" not in got
    assert "if service == 'No' then addon1 == 'none'" in got  # the others still hold
    assert "total >= monthly" not in got


def test_too_little_support_makes_no_rule():
    small = planted(n=400, seed=3)
    keep = (small["service"] != "No") | (np.arange(len(small)) % 10 == 0)  # ~10 'No' rows
    small = small[keep].reset_index(drop=True)
    assert (small["service"] == "No").sum() < MIN_SUPPORT
    got = texts(discover_rules(small))
    assert not (INTERNET & got)
    assert discover_rules(planted(n=2 * MIN_SUPPORT - 1)) == []  # too few rows for any rule


# --------------------------------------------------------------------------- enforcement
def violations(model, n: int = 2000, seed: int = 1) -> dict[str, int]:
    out = model.sample(n, random_state=seed)
    cons = [s.constraint for s in model.rules_]
    res = check_constraints(out, model.schema_, cons)
    return {str(r.constraint): r.failing for r in res}


CASES = [("copula", {})]
if HAS_TORCH:
    CASES += [
        ("autoregressive", {"epochs": 3}),
        ("ctgan", {"epochs": 2}),
        ("tvae", {"epochs": 2}),
    ]


@pytest.mark.parametrize(("name", "params"), CASES, ids=[c[0] for c in CASES])
def test_every_synthesizer_obeys_the_rules_by_default(df, name, params):
    model = REGISTRY[name](random_state=0, **params).fit(df)
    assert texts(model.rules_) >= INTERNET
    bad = {k: v for k, v in violations(model).items() if v}
    assert bad == {}, bad


def test_rules_off_lets_the_model_break_them(df):
    model = REGISTRY["copula"](random_state=0).fit(df, rules="off")
    assert model.rules_ == [] and model.plan_ is None
    out = model.sample(2000, random_state=1)
    cons = [s.constraint for s in discover_rules(df)]
    broken = sum(r.failing for r in check_constraints(out, infer_schema(df), cons))
    assert broken > 0


def test_saved_model_keeps_its_rules(df, tmp_path):
    model = REGISTRY["copula"](random_state=0).fit(df)
    back = type(model).load(model.save(tmp_path / "m.synthcust"))
    assert texts(back.rules_) == texts(model.rules_)
    pd.testing.assert_frame_equal(
        model.sample(300, random_state=4), back.sample(300, random_state=4)
    )
    assert not any(violations(back, 500).values())


def test_dp_fit_discovers_nothing(df):
    """No rule is read off private rows: dp_marginal, and DP-SGD (dp_epsilon given)."""
    model = REGISTRY["dp_marginal"](epsilon=1.0, bounds="private", random_state=0).fit(df)
    assert getattr(model, "rules_", []) == []
    if HAS_TORCH:
        assert REGISTRY["ctgan"](dp_epsilon=1.0)._private_fit()
        assert not REGISTRY["ctgan"]()._private_fit()


def test_workflow_default_and_opt_out(df):
    from synthcust.workflows.fit import fit

    on = fit(df, synthesizer="copula", random_state=0)
    assert texts(on.model.synthesizer.rules_) >= INTERNET
    off = fit(df, synthesizer="copula", random_state=0, rules="off")
    assert off.model.synthesizer.rules_ == []
    with pytest.raises(Exception, match="rules must be one of"):
        fit(df, synthesizer="copula", rules="sometimes")


# --------------------------------------------------------------------------- oversampling
@pytest.mark.parametrize("method", ["smotenc", "generative"])
def test_oversampled_rows_obey_the_rules(df, rules, method):
    rng = np.random.default_rng(5)
    y = pd.Series(np.where(rng.random(len(df)) < 0.1, "yes", "no"), name="churn")
    sampler = make_oversampler(method, random_state=0)
    Xr, _ = sampler.fit_resample(df, y)
    new = Xr[sampler.synthetic_mask_].reset_index(drop=True)
    res = check_constraints(new, infer_schema(df), [s.constraint for s in rules])
    bad = {str(r.constraint): r.failing for r in res if r.failing}
    assert bad == {}, bad


def test_smote_repairs_implications_it_breaks():
    """SMOTE-NC votes each category among the neighbours independently: with many numeric
    columns the neighbours mix services, and the votes break the rule unless repaired."""
    rng = np.random.default_rng(7)
    n = 1200
    df = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(8)})
    service = np.where(rng.random(n) < 0.3, "No", rng.choice(["DSL", "Fiber"], n))
    df["service"] = service
    for k in range(3):
        df[f"addon{k}"] = np.where(service == "No", "none", rng.choice(["Yes", "No"], n))
    y = pd.Series(np.where(rng.random(n) < 0.2, 1, 0), name="y")
    assert "if service == 'No' then addon0 == 'none'" in texts(discover_rules(df))

    def broken(mode: str) -> int:
        s = make_oversampler("smotenc", random_state=0, rules=mode)
        Xr, _ = s.fit_resample(df, y)
        new = Xr[s.synthetic_mask_]
        return sum(
            int(((new["service"] == "No") != (new[f"addon{k}"] == "none")).sum()) for k in range(3)
        )

    assert broken("off") > 0
    assert broken("auto") == 0


def test_repair_meets_every_rule_on_a_column_at_once():
    """Two rules imply one column (Bank: contact == 'unknown' -> poutcome != 'success';
    pdays == -1 <-> poutcome == 'unknown'): a repair must meet both, not trade one for the
    other."""
    from synthcust.constraints.implications import as_implication, repair_implications
    from synthcust.rules.constraints import Rule

    rules = [
        Rule("poutcome != 'success'", "contact == 'unknown'"),
        Rule("poutcome == 'unknown'", "pdays == -1"),
        Rule("pdays == -1", "poutcome == 'unknown'"),
    ]
    order = ["contact", "pdays", "poutcome"]
    imps = sorted(
        (as_implication(r).oriented(order) for r in rules), key=lambda i: order.index(i.then_col)
    )
    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame(
        {
            "contact": rng.choice(["unknown", "cellular"], n),
            "pdays": np.where(rng.random(n) < 0.6, -1.0, rng.integers(1, 300, n)),
            "poutcome": rng.choice(["unknown", "success", "failure", "other"], n),
        }
    )
    typed = df.copy()
    fixed = repair_implications(df, typed, imps, np.random.default_rng(1))
    assert fixed > 0
    res = check_constraints(df, infer_schema(df), rules)
    assert [r.failing for r in res] == [0, 0, 0]


# --------------------------------------------------------------------------- real data
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.skipif(
    not (SHARED / "bank" / "bank_full.csv.gz").is_file(),
    reason=f"needs {SHARED}/bank (the shared real datasets, beside the repo); not present here",
)
def test_bank_pdays_previous_poutcome_rules_hold_in_default_samples():
    """Bank: pdays == -1 <-> previous == 0, pdays == -1 -> poutcome == 'unknown' are found on
    real rows and no default sample breaks them."""
    bank = pd.read_csv(SHARED / "bank" / "bank_full.csv.gz", sep=None, engine="python")
    train = bank.sample(4000, random_state=0).reset_index(drop=True)
    model = REGISTRY["copula"](random_state=0).fit(train)
    got = texts(model.rules_)
    assert {"if pdays == -1 then previous == 0", "if pdays == -1 then poutcome == 'unknown'"} <= got
    assert not any(violations(model, 4000).values())


def test_dp_model_obeys_declared_implications_only(df):
    """A DP model discovers nothing but takes declared implications, enforced on the generated
    rows alone; other constraints are refused before anything is read."""
    from synthcust.exceptions import ModelError

    declared = sorted(INTERNET | BACK)
    schema = infer_schema(df, detect_pii=False).with_constraints(*declared)
    model = REGISTRY["dp_marginal"](epsilon=1.0, bounds="private", random_state=0)
    model.fit(df, schema)
    out = model.sample(2000, random_state=1)
    res = check_constraints(out, schema, list(schema.constraints))
    assert sum(r.failing for r in res) == 0
    with pytest.raises(ModelError, match="not supported by a differentially private"):
        REGISTRY["dp_marginal"](epsilon=1.0, bounds="private").fit(
            df, schema.with_constraints("total >= monthly")
        )


def test_repair_without_donors_uses_a_value_the_rule_names():
    """A model drawing continuous values for a whole-number column (dp_marginal's bins) leaves
    no generated row to copy from: the rule's own value is written (the nearest of a set)."""
    from synthcust.constraints.implications import as_implication, repair_implications
    from synthcust.rules.constraints import Rule

    rules = [Rule("num == 9", "edu == 'HS-grad'"), Rule("num in (13, 14)", "edu == 'Degree'")]
    imps = [as_implication(r).oriented(["edu", "num"]) for r in rules]
    df = pd.DataFrame({"edu": ["HS-grad", "Degree", "Degree", "Other"],
                       "num": [9.37, 13.2, 13.9, 5.5]})  # fmt: skip
    typed = df.copy()
    assert repair_implications(df, typed, imps, np.random.default_rng(0)) == 3
    assert df["num"].tolist() == [9.0, 13.0, 14.0, 5.5]
