"""Constraint discovery: known rules are found, random columns give none, accepted rules fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _cli import run
from synthcust.constraints import FixedCombinations, Identity, Inequality, UniqueKey
from synthcust.constraints.discover import check_constraints, suggest_constraints
from synthcust.constraints.plan import ConstraintPlan
from synthcust.schema.infer import infer_schema

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _known(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    price = np.round(rng.uniform(5, 50, n), 2)
    disc = np.round(rng.uniform(0, 4, n) * (rng.random(n) < 0.5), 2)
    qty = rng.integers(1, 9, n)
    region = rng.choice(["north", "south", "east", "west"], n)
    code = pd.Series(region).map({"north": "N", "south": "S", "east": "E", "west": "W"})
    first = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    last = first + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    a, b, c = (np.round(rng.uniform(0, 10, n), 2) for _ in range(3))
    return pd.DataFrame(
        {
            "customer_id": [f"CUST-{i:06d}" for i in rng.permutation(n)],
            "price": price,
            "disc": disc,
            "qty": qty,
            "net": np.round(price - disc, 2),
            "revenue": np.round((price - disc) * qty, 2),
            "disc_pct": np.round(disc / price, 6),
            "part_a": a,
            "part_b": b,
            "part_c": c,
            "total": np.round(a + b + c, 2),
            "noise": rng.normal(0, 1, n),
            "region": region,
            "region_code": code,
            "first_order": first,
            "last_order": last,
        }
    )


def _by_text(found):
    return {s.constraint.describe(): s for s in found}


def test_finds_known_rules_and_they_fit():
    df = _known()
    found = suggest_constraints(df)
    got = _by_text(found)
    for want in (
        "net == price - disc",
        "disc_pct == disc / price",
        "total == part_a + part_b + part_c",
        "last_order >= first_order",
        "customer_id is a unique key like CUST-######",
    ):
        assert want in got, (want, list(got))
    fc = [s.constraint for s in found if isinstance(s.constraint, FixedCombinations)]
    assert [set(c.columns) for c in fc] == [{"region", "region_code"}]
    assert "determine each other" in got["fixed combinations of region, region_code"].reason
    assert "revenue == net * qty" in got or "revenue == qty * net" in got, list(got)
    assert all(s.exact and s.holds == 1.0 and s.support > 0 for s in found)
    # one orientation per relation, no column derived twice
    targets = [s.constraint.column for s in found if isinstance(s.constraint, Identity)]
    assert len(targets) == len(set(targets)) == 4
    # the exact suggestions, accepted together, pass the plan
    schema = infer_schema(df, detect_pii=False).with_constraints(*(s.constraint for s in found))
    ConstraintPlan(schema.constraints, schema).fit(df)
    assert all(r.share == 1.0 for r in check_constraints(df, schema, reference=df))


def test_no_false_identity_or_inequality_on_independent_columns():
    rng = np.random.default_rng(1)
    n = 500
    df = pd.DataFrame(
        {
            "x": rng.normal(10, 3, n).round(2),
            "y": rng.normal(10, 3, n).round(2),
            "z": rng.uniform(0, 20, n).round(1),
            "k": rng.integers(0, 30, n),
            "m": rng.integers(0, 30, n),
            "cat": rng.choice(list("abc"), n),
            "zero": 0.0,
        }
    )
    df["w"] = df["x"] + rng.normal(0, 0.5, n).round(2)  # correlated, not an identity
    found = suggest_constraints(df)
    assert not any(isinstance(s.constraint, Identity | FixedCombinations) for s in found), found
    assert not any(isinstance(s.constraint, Inequality) for s in found), found


def test_skips_trivial_and_non_overlapping():
    rng = np.random.default_rng(2)
    n = 300
    a = rng.uniform(0, 10, n).round(2)
    df = pd.DataFrame(
        {
            "a": a,
            "big": rng.uniform(100, 200, n).round(2),  # never overlaps a: no inequality
            "zero": np.zeros(n),
            "same": a,  # a + zero: not an identity (zero does not vary)
        }
    )
    found = suggest_constraints(df)
    assert found == [], found


def test_near_rules_are_marked_and_not_accepted(tmp_path):
    df = _known(400)
    df.loc[:9, "net"] += 1.0  # 10 of 400 rows break net == price - disc
    exact = _by_text(suggest_constraints(df))
    assert "net == price - disc" not in exact
    near = _by_text(suggest_constraints(df, min_support=0.95))
    s = near["net == price - disc"]
    assert not s.exact and s.holds == pytest.approx(0.975) and "not exact" in s.reason


def test_existing_schema_constraints_are_respected():
    df = _known(300)
    schema = infer_schema(df, detect_pii=False).with_constraints("net == price - disc")
    found = suggest_constraints(df, schema)
    texts = [s.constraint.describe() for s in found]
    assert "net == price - disc" not in texts
    assert not any(
        isinstance(s.constraint, Identity) and s.constraint.column == "net" for s in found
    )


def test_integer_id_key_and_missing_values():
    rng = np.random.default_rng(3)
    n = 200
    a = rng.uniform(0, 5, n).round(1)
    b = rng.uniform(0, 5, n).round(1)
    s = a + b
    a[:20] = np.nan  # the identity still holds where its inputs are known ...
    s[:20] = np.nan  # ... and the target is missing exactly there
    df = pd.DataFrame({"id": rng.permutation(n) + 1000, "a": a, "b": b, "s": s.round(1)})
    schema = infer_schema(df, detect_pii=False)
    found = _by_text(suggest_constraints(df, schema))
    assert "s == a + b" in found and found["s == a + b"].support == 180
    keys = [x.constraint for x in found.values() if isinstance(x.constraint, UniqueKey)]
    if schema["id"].kind.value == "id":
        assert keys == [UniqueKey("id")]


# --------------------------------------------------------------------------- CLI


def test_cli_suggest_accept_and_check(tmp_path, capsys, monkeypatch):
    df = _known(300)
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "schema.json"
    code, text, err = run(
        ["constraints", "suggest", data, "--accept", "-o", out], capsys, monkeypatch
    )
    assert code == 0, err
    assert "net == price - disc" in text and "holds" in text
    d = json.loads(out.read_text())
    assert {"type": "identity", "column": "net", "expression": "price - disc",
            "tolerance": 0.005} in d["constraints"]  # fmt: skip
    code, text, err = run(
        ["constraints", "check", data, "--schema", out, "--real", data], capsys, monkeypatch
    )
    assert code == 0, err + text
    assert "100%" in text
    bad = df.copy()
    bad.loc[:2, "net"] = -1.0
    bad_csv = tmp_path / "bad.csv"
    bad.to_csv(bad_csv, index=False)
    code, text, _ = run(["constraints", "check", bad_csv, "--schema", out], capsys, monkeypatch)
    assert code == 1 and "broken" in text and "99.00%" in text
    code, _, err = run(["constraints", "suggest", data, "--accept"], capsys, monkeypatch)
    assert code == 1 and "-o" in err


# --------------------------------------------------------------------------- shared data
@pytest.mark.shared_data
def test_oj_identities_dependency_and_copula_obeys_them():
    path = SHARED / "choice" / "oj.csv"
    if not path.exists():
        pytest.skip(f"needs {path} (the shared real datasets, beside the repo); not present here")
    from synthcust.synthesizers import REGISTRY

    df = pd.read_csv(path)
    found = suggest_constraints(df)
    texts = {s.constraint.describe() for s in found}
    for want in (
        "SalePriceMM == PriceMM - DiscMM",
        "SalePriceCH == PriceCH - DiscCH",
        "PriceDiff == SalePriceMM - SalePriceCH",
        "PctDiscMM == DiscMM / PriceMM",
        "PctDiscCH == DiscCH / PriceCH",
        "ListPriceDiff == PriceMM - PriceCH",
        "fixed combinations of StoreID, Store7, STORE",
    ):
        assert want in texts, (want, sorted(texts))
    schema = infer_schema(df, detect_pii=False).with_constraints(*(s.constraint for s in found))
    model = REGISTRY["copula"](random_state=0).fit(df, schema)
    out = model.sample(2000, random_state=1)
    checks = model.plan_.check(out)
    # the declared rules, plus the ones the fit discovers by default (rules="auto")
    assert {s.constraint.describe() for s in found} <= set(checks)
    for name, ok in checks.items():
        assert ok.all(), (name, float(ok.mean()))


@pytest.mark.shared_data
def test_online_retail_first_last_dates():
    path = SHARED / "online_retail" / "online_retail.csv.gz"
    if not path.exists():
        pytest.skip(f"needs {path} (the shared real datasets, beside the repo); not present here")
    lines = pd.read_csv(
        path,
        nrows=60_000,
        dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"},
        parse_dates=["InvoiceDate"],
    ).dropna(subset=["CustomerID"])
    lines["spend"] = lines["Quantity"] * lines["UnitPrice"]
    per = lines.groupby("CustomerID").agg(
        first_invoice=("InvoiceDate", "min"),
        last_invoice=("InvoiceDate", "max"),
        n_invoices=("InvoiceNo", "nunique"),
        total_spend=("spend", "sum"),
    )
    per = per.reset_index(drop=True)
    found = suggest_constraints(per)
    texts = {s.constraint.describe() for s in found}
    assert "last_invoice >= first_invoice" in texts, sorted(texts)
    schema = infer_schema(per, detect_pii=False).with_constraints(*(s.constraint for s in found))
    ConstraintPlan(schema.constraints, schema).fit(per)
