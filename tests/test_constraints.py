"""Business-rule constraints: declaring, validating, enforcing with every synthesizer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthcust.constraints import (
    AllowedValues,
    FixedCombinations,
    Identity,
    Inequality,
    Range,
    Rule,
    UniqueKey,
    constraint_from_dict,
    parse_constraint,
)
from synthcust.constraints import plan as plan_mod
from synthcust.constraints.plan import ConstraintPlan
from synthcust.exceptions import ConditionError, ConstraintError, SchemaError
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Schema
from synthcust.synthesizers import REGISTRY, BaseSynthesizer
from synthcust.synthesizers import Range as CondRange

FAST: dict[str, dict] = {
    "autoregressive": {"epochs": 8, "hidden": 64},
    "ctgan": {"epochs": 2, "batch_size": 100},
    "tvae": {"epochs": 10, "batch_size": 100},
}
CITY = {"Paris": "IDF", "Lyon": "ARA", "Grenoble": "ARA", "Lille": "HDF"}


def make_orders(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    gap = rng.integers(0, 200, n)
    price = rng.choice([9.99, 19.99, 49.0, 99.5], n)
    disc = np.round(price * rng.choice([0.0, 0.1, 0.25], n), 2)
    city = rng.choice(list(CITY), n)
    seg = rng.choice(["student", "family", "pro"], n, p=[0.3, 0.4, 0.3])
    age = np.where(seg == "student", rng.integers(18, 31, n), rng.integers(25, 80, n))
    n_orders = rng.integers(1, 20, n)
    first_spend = rng.gamma(2.0, 20.0, n).round(2)
    return pd.DataFrame(
        {
            "customer_id": [f"CUST-{i:06d}" for i in rng.permutation(n) + 1],
            "segment": seg,
            "age": age,
            "city": city,
            "region": [CITY[c] for c in city],
            "first_order": first,
            "last_order": first + pd.to_timedelta(gap, unit="D"),
            "n_orders": n_orders,
            "max_orders": n_orders + rng.integers(0, 5, n),
            "price": price,
            "discount": disc,
            "sale_price": np.round(price - disc, 2),
            "first_spend": first_spend,
            "total_spend": (first_spend + rng.gamma(2.0, 30.0, n)).round(2),
        }
    )


RULES = [
    "last_order >= first_order",
    "max_orders >= n_orders",
    "sale_price == price - discount",
    "if segment == 'student' then age <= 30",
    "18 <= age <= 90",
    "segment in ('student', 'family', 'pro')",
]


def constrained_schema(df: pd.DataFrame) -> Schema:
    s = infer_schema(df, detect_pii=False)
    return s.with_constraints(
        *RULES,
        FixedCombinations(("city", "region")),
        UniqueKey("customer_id", "CUST-######"),
        Inequality("first_spend", "total_spend", strict=True),
    )


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return make_orders()


# ---------------------------------------------------------------------- declaring
def test_parse_constraint_forms():
    assert parse_constraint("last_order >= first_order") == Inequality("first_order", "last_order")
    assert parse_constraint("a < b") == Inequality("a", "b", strict=True)
    assert parse_constraint("b > a") == Inequality("a", "b", strict=True)
    assert parse_constraint("age >= 18") == Range("age", 18, None)
    assert parse_constraint("0 <= x <= 1") == Range("x", 0, 1)
    assert parse_constraint("plan in ('a', 'b')") == AllowedValues("plan", ("a", "b"))
    idn = parse_constraint("total == a + b + c")
    assert isinstance(idn, Identity) and idn.inputs == ("a", "b", "c")
    spaced = parse_constraint("`sale price` == `list price` - discount")
    assert isinstance(spaced, Identity) and spaced.column == "sale price"
    assert spaced.inputs == ("list price", "discount")
    r = parse_constraint("if segment == 'student' then age <= 30")
    assert isinstance(r, Rule) and r.if_ == "segment == 'student'" and r.then == "age <= 30"


def test_expression_language_is_safe():
    for bad in ("__import__('os').system('x')", "a.b == 1", "open('f') == 1", "[x for x in y]"):
        with pytest.raises(SchemaError):
            parse_constraint(bad)
    with pytest.raises(SchemaError, match="only the functions"):
        Identity("t", "eval('1')")


def test_json_round_trip_and_errors(orders):
    s = constrained_schema(orders)
    d = json.loads(json.dumps(s.to_dict()))
    back = Schema.from_dict(d)
    assert back.constraints == s.constraints
    assert {c["type"] for c in d["constraints"]} >= {
        "inequality", "identity", "rule", "range", "allowed_values", "fixed_combinations",
        "unique_key",
    }  # fmt: skip
    d["constraints"].append({"type": "inequality", "low": "frist_order", "high": "last_order"})
    d["constraints"].append({"type": "identity", "column": "x"})
    d["constraints"].append({"type": "greater"})
    with pytest.raises(SchemaError) as e:
        Schema.from_dict(d)
    msg = str(e.value)
    assert "did you mean 'first_order'" in msg
    assert "missing ['expression']" in msg
    assert "unknown type 'greater'" in msg
    with pytest.raises(SchemaError, match="unknown field"):
        constraint_from_dict({"type": "range", "column": "a", "low": 1, "lo": 2})
    with pytest.raises(SchemaError, match="unknown column 'agee'"):
        s.with_constraints("agee >= 18")


def test_contradictions_and_bad_kinds(orders):
    s = infer_schema(orders, detect_pii=False)
    with pytest.raises(ConstraintError, match="contradictory inequalities"):
        ConstraintPlan([parse_constraint("max_orders > n_orders"),
                        parse_constraint("n_orders > max_orders")], s)  # fmt: skip
    with pytest.raises(ConstraintError, match="contradictory ranges"):
        ConstraintPlan([Range("age", 50, None), Range("age", None, 40)], s)
    with pytest.raises(SchemaError, match="no value can satisfy"):
        Range("age", 50, 40)
    with pytest.raises(ConstraintError, match="circle"):
        ConstraintPlan([Identity("price", "sale_price + discount"),
                        Identity("sale_price", "price - discount")], s)  # fmt: skip
    with pytest.raises(ConstraintError, match="inequality needs two numeric or two datetime"):
        ConstraintPlan([Inequality("segment", "age")], s)
    with pytest.raises(ConstraintError, match="not numeric"):
        ConstraintPlan([Identity("age", "city + 1")], s)
    with pytest.raises(ConstraintError, match="derived twice"):
        ConstraintPlan([Identity("sale_price", "price - discount"),
                        Identity("sale_price", "price")], s)  # fmt: skip


def test_real_data_breaking_a_constraint_is_refused(orders):
    bad = orders.copy()
    bad.loc[[3, 7], "sale_price"] += 1.0
    s = infer_schema(bad, detect_pii=False).with_constraints("sale_price == price - discount")
    with pytest.raises(ConstraintError) as e:
        REGISTRY["copula"](random_state=0).fit(bad, s)
    msg = str(e.value)
    assert "2 of 500 real rows (0.40%)" in msg and "row 3" in msg and "will not enforce" in msg


def test_key_format_too_small(orders):
    s = infer_schema(orders, detect_pii=False).with_constraints(UniqueKey("customer_id", "C-##"))
    with pytest.raises(ConstraintError, match="real rows"):  # real keys do not match C-##
        REGISTRY["copula"](random_state=0).fit(orders, s)
    k = UniqueKey("customer_id", "C-##")
    with pytest.raises(SchemaError, match="at most 100 distinct keys, 150 rows"):
        k.make(150, np.random.default_rng(0))
    keys = k.make(100, np.random.default_rng(0))
    assert keys.is_unique and keys.str.fullmatch(r"C-\d\d").all()


# ---------------------------------------------------------------------- enforcing
@pytest.mark.parametrize("name", sorted(n for n in REGISTRY if n != "dp_marginal"))
def test_every_synthesizer_obeys_every_constraint(name, orders):
    """Every synthesizer except the DP one, which refuses constraints (enforcing them learns
    from the private rows without paying privacy budget for it)."""
    s = constrained_schema(orders)
    m = REGISTRY[name](random_state=0, **FAST.get(name, {})).fit(orders, s)
    out = m.sample(600, random_state=1)
    assert len(out) == 600
    assert list(out.columns) == list(orders.columns)
    assert out.dtypes.to_dict() == orders.dtypes.to_dict()
    for desc, ok in m.plan_.check(out).items():
        assert ok.all(), f"{name}: {desc} broken by {(~ok).sum()} rows"
    # independent checks, not through the plan
    assert (out.last_order >= out.first_order).all()
    assert np.allclose(out.sale_price, (out.price - out.discount).round(2))
    assert set(zip(out.city, out.region, strict=True)) <= set(CITY.items())
    assert out.customer_id.is_unique and out.customer_id.str.fullmatch(r"CUST-\d{6}").all()
    assert (out.total_spend > out.first_spend).all()
    assert out.loc[out.segment == "student", "age"].le(30).all()


def test_conditions_with_constraints(orders):
    s = constrained_schema(orders)
    m = REGISTRY["copula"](random_state=0).fit(orders, s)
    out = m.sample(300, conditions={"region": "ARA"}, random_state=2)  # member of a combination
    assert (out.region == "ARA").all() and set(out.city) <= {"Lyon", "Grenoble"}
    out = m.sample(200, conditions={"city": ["Paris", "Lille"], "segment": "pro"})
    assert set(out.city) <= {"Paris", "Lille"} and (out.segment == "pro").all()
    assert set(zip(out.city, out.region, strict=True)) <= set(CITY.items())
    # a condition on a reparametrised (difference) column and on a derived one: checked after
    lo = pd.Timestamp("2023-06-01")
    out = m.sample(200, conditions={"last_order": CondRange(lo, None), "sale_price": CondRange(40)})
    assert (out.last_order >= lo).all() and len(out) == 200 and (out.sale_price >= 40).all()
    assert (out.last_order >= out.first_order).all()
    with pytest.raises(ConditionError, match="no combination of city, region"):
        m.sample(10, conditions={"city": "Paris", "region": "ARA"})


def test_save_load_keeps_constraints(orders, tmp_path):
    s = constrained_schema(orders)
    m = REGISTRY["copula"](random_state=0).fit(orders, s)
    p = m.save(tmp_path / "m.synthcust")
    back = BaseSynthesizer.load(p)
    a, b = m.sample(200, random_state=5), back.sample(200, random_state=5)
    pd.testing.assert_frame_equal(a, b)
    assert back.schema_.constraints == s.constraints


def test_missing_low_falls_back_to_rejection():
    rng = np.random.default_rng(0)
    n = 400
    a = rng.normal(10, 2, n)
    b = a + rng.gamma(2, 1, n)
    a[rng.random(n) < 0.2] = np.nan  # b is known where a is not
    df = pd.DataFrame({"a": a, "b": b})
    s = infer_schema(df, detect_pii=False).with_constraints("b >= a")
    m = REGISTRY["copula"](random_state=0).fit(df, s)
    assert m.plan_.reparams == [] and any("rejection" in note for note in m.notes)
    out = m.sample(500)
    both = out.a.notna() & out.b.notna()
    assert (out.b[both] >= out.a[both]).all() and out.a.isna().any()


def test_rejection_is_bounded_and_names_the_constraint(orders, monkeypatch):
    s = infer_schema(orders, detect_pii=False)
    plan = ConstraintPlan([Range("age", 18, 90)], s).fit(orders)
    calls = []

    def draw(m: int) -> pd.DataFrame:
        calls.append(m)
        out = orders.sample(m, replace=True, random_state=len(calls)).reset_index(drop=True)
        out["age"] = 200  # never obeys
        return out

    with pytest.raises(ConstraintError, match=r"only 0 of 50 rows.*'18 <= age <= 90' held in 0"):
        plan.sample(50, draw, [])
    assert len(calls) <= plan_mod.MAX_ROUNDS and sum(calls) <= plan_mod.MAX_FACTOR * 50
    # a constraint that holds in half the rows: still exactly n rows
    flip = iter(range(10**6))

    def half(m: int) -> pd.DataFrame:
        out = orders.sample(m, replace=True, random_state=next(flip)).reset_index(drop=True)
        out.loc[out.index % 2 == 0, "age"] = 200
        return out

    got = plan.sample(777, half, [])
    assert len(got) == 777 and got.age.le(90).all()


def test_unconstrained_path_unchanged(orders):
    m = REGISTRY["copula"](random_state=0).fit(orders, rules="off")
    assert m.plan_ is None and m.rules_ == []
    out = m.sample(50)
    assert list(out.columns) == list(orders.columns)


def test_datetimes_keep_the_resolution_of_the_data():
    """Minute-resolution timestamps (invoice times) come out at minute resolution."""
    rng = np.random.default_rng(0)
    t0 = pd.Timestamp("2011-01-01 08:00")
    first = t0 + pd.to_timedelta(rng.integers(0, 500_000, 400), unit="min")
    last = first + pd.to_timedelta(rng.integers(0, 90_000, 400), unit="min")
    df = pd.DataFrame({"first": first, "last": last, "x": rng.normal(size=400)})
    s = infer_schema(df, detect_pii=False)
    for schema in (s, s.with_constraints("last >= first")):
        m = REGISTRY["copula"](random_state=0).fit(df, schema)
        assert m.column_spec("first").datetime_step == 60
        out = m.sample(300)
        for c in ("first", "last"):
            assert (out[c].dt.second == 0).all(), c
        assert (out["last"] >= out["first"]).all() or schema is s


def test_identities_reject_slips_of_a_model_that_learned_them_else_repair(orders):
    s = infer_schema(orders, detect_pii=False).with_constraints("sale_price == price - discount")
    plan = ConstraintPlan(s.constraints, s).fit(orders)
    seeds = iter(range(10**6))

    def slips(share: float):
        def draw(m: int) -> pd.DataFrame:
            out = orders.sample(m, replace=True, random_state=next(seeds)).reset_index(drop=True)
            wrong = np.random.default_rng(next(seeds)).random(m) < share
            out.loc[wrong, "sale_price"] = out.loc[wrong, "sale_price"] + 1.0
            return out

        return draw

    got = plan.sample(400, slips(0.2), [])
    assert plan.last_identity_mode == "reject" and len(got) == 400
    assert np.allclose(got.sale_price, (got.price - got.discount).round(2))
    assert set(got.sale_price) <= set(orders.sale_price)  # only the model's own, real values
    got = plan.sample(400, slips(0.9), [])
    assert plan.last_identity_mode == "repair" and len(got) == 400
    assert np.allclose(got.sale_price, (got.price - got.discount).round(2))
    assert got.sale_price.dtype == orders.sale_price.dtype


def test_api_round_trip_rebalance_and_small_key_format(orders, tmp_path):
    import synthcust.api as sc

    rules = ["last_order >= first_order", UniqueKey("customer_id", "CUST-######")]
    model = sc.fit(orders, synthesizer="autoregressive", random_state=0, constraints=rules,
                   synthesizer_params={"epochs": 3, "hidden": 32})  # fmt: skip
    model.save(tmp_path / "m.synthcust")
    back = sc.load(tmp_path / "m.synthcust")
    out = back.sample(300, random_state=1)
    assert (out.last_order >= out.first_order).all() and out.customer_id.is_unique
    reb = back.synthesizer.rebalance(400, "segment", {"student": 0.5, "pro": 0.5}, random_state=0)
    assert len(reb) == 400 and reb.customer_id.is_unique
    assert (reb.last_order >= reb.first_order).all()
    small = infer_schema(orders, detect_pii=False).with_constraints(
        UniqueKey("customer_id", "CUST-######")
    )
    m = REGISTRY["copula"](random_state=0).fit(orders, small)
    with pytest.raises(SchemaError, match="at most 1,000,000 distinct keys, 1,000,001 rows"):
        m.sample(1_000_001)


def test_repaired_values_stay_in_the_real_range(orders):
    s = infer_schema(orders, detect_pii=False).with_constraints("sale_price == price - discount")
    plan = ConstraintPlan(s.constraints, s).fit(orders)
    seeds = iter(range(10**6))

    def draw(m: int) -> pd.DataFrame:
        out = orders.sample(m, replace=True, random_state=next(seeds)).reset_index(drop=True)
        out["sale_price"] = -1.0  # never right: repair mode
        out.loc[out.index % 4 == 0, "discount"] = out.price * 3  # repaired value far below
        return out

    got = plan.sample(300, draw, [])
    assert plan.last_identity_mode == "repair" and len(got) == 300
    assert got.sale_price.between(orders.sale_price.min(), orders.sale_price.max()).all()
    assert np.allclose(got.sale_price, (got.price - got.discount).round(2))
