"""Validity diagnostics: constraints, keys, ranges, categories, formats, and the report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthcust.constraints.model import FixedCombinations, UniqueKey, parse_constraint
from synthcust.evaluation.validity import evaluate_validity
from synthcust.schema.infer import infer_schema

N = 200


def _real(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    price = rng.integers(10, 100, n).astype(float)
    disc = np.floor(price * rng.uniform(0, 0.3, n))
    first = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    last = first + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    city = rng.choice(["Paris", "Lyon", "Nice"], n)
    return pd.DataFrame(
        {
            "customer_id": [f"C-{i:05d}" for i in range(n)],
            "age": rng.integers(18, 90, n),
            "price": price,
            "discount": disc,
            "sale": price - disc,
            "first_order": first,
            "last_order": last,
            "signup": first.strftime("%d/%m/%Y"),
            "city": city,
            "region": pd.Series(city).map({"Paris": "IDF", "Lyon": "ARA", "Nice": "PACA"}),
            "plan": rng.choice(["basic", "plus", None], n, p=[0.6, 0.3, 0.1]),
            "active": rng.random(n) < 0.7,
        }
    )


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return _real()


@pytest.fixture(scope="module")
def schema(real):
    s = infer_schema(real, detect_pii=False)
    return s.with_constraints(
        "sale == price - discount",
        "last_order >= first_order",
        FixedCombinations(("city", "region")),
        UniqueKey("customer_id", "C-#####"),
    )


def _failures(sec) -> dict[tuple[str, str], dict]:
    return {(f["check"], f["target"]): f for f in sec.extra["failures"]}


def test_schema_sees_the_columns_as_intended(schema):
    kinds = {c.name: c.kind.value for c in schema}
    assert kinds["customer_id"] == "id"
    assert kinds["signup"] == "datetime" and schema["signup"].datetime_format == "%d/%m/%Y"
    assert kinds["age"] == "numeric" and kinds["plan"] == "categorical"


def test_perfect_copy_scores_one(real, schema):
    sec = evaluate_validity(real, real.copy(), schema)
    assert sec.metric("validity").value == 1.0
    assert sec.metric("validity").status == "pass"
    for key in ("constraints", "keys", "ranges", "categories", "formats", "structure"):
        m = sec.metric(f"validity_{key}")
        assert m.value == 1.0, key
        assert m.reference == 1.0, key
    assert sec.extra["failures"] == []
    assert "failures" not in sec.tables
    checks = sec.tables["checks"]
    assert set(checks["check"]) == {"structure", "constraint", "key", "range", "category", "format"}
    assert (checks["synthetic"] == 1.0).all()


def test_without_schema_it_is_inferred(real):
    sec = evaluate_validity(real, real.copy())
    assert sec.metric("validity").value == 1.0
    assert sec.metric("validity_constraints").value is None  # none inferred


def test_planted_violations_are_each_found(real, schema):
    s = real.copy()
    s["signup"] = s["signup"].astype(object)
    s.loc[0, "sale"] = s.loc[0, "price"] + 5  # identity broken
    s.loc[1, "last_order"] = s.loc[1, "first_order"] - pd.Timedelta(days=3)  # inequality broken
    s.loc[2, "age"] = 150  # out of the real range
    s.loc[3, "plan"] = "platinum"  # unseen category
    s.loc[4, "customer_id"] = s.loc[5, "customer_id"]  # duplicated key
    s.loc[6, "signup"] = "2021-13-45"  # not a date in the column's format
    s.loc[7, "region"] = "PACA"  # Paris/PACA never occurs
    sec = evaluate_validity(real, s, schema)
    f = _failures(sec)
    one = 1 - 1 / N

    ident = f[("constraint", "sale == price - discount")]
    assert ident["synthetic"] == pytest.approx(one) and ident["real"] == 1.0
    assert ident["bad_rows"] == 1 and "sale=" in ident["examples"][0]

    ineq = f[("constraint", "last_order >= first_order")]
    assert ineq["synthetic"] == pytest.approx(one) and ineq["bad_rows"] == 1

    rng = f[("range", "age")]
    assert rng["synthetic"] == pytest.approx(one) and rng["examples"] == ["150"]

    cat = f[("category", "plan")]
    assert cat["synthetic"] == pytest.approx(one) and cat["examples"] == ["platinum"]

    key = f[("key", "customer_id")]
    assert key["synthetic"] == pytest.approx(one) and key["examples"] == [s.loc[5, "customer_id"]]
    uk = f[("constraint", "customer_id is a unique key like C-#####")]
    assert uk["bad_rows"] == 2  # the constraint marks every copy

    fmt = f[("format", "signup")]
    assert fmt["synthetic"] == pytest.approx(one) and fmt["examples"] == ["2021-13-45"]

    combo = f[("constraint", "fixed combinations of city, region")]
    assert combo["synthetic"] == pytest.approx(one) and combo["examples"] == [
        "city=Paris, region=PACA"
    ]
    # the unseen region value is fine on its own (PACA occurs), so no category failure there
    assert ("category", "region") not in f

    assert len(f) == 8
    score = sec.metric("validity")
    assert score.value < 1.0 and score.status == "warn"
    checks = sec.tables["checks"]
    assert score.value == pytest.approx(checks["synthetic"].mean())
    assert len(sec.tables["failures"]) == 8
    assert sec.metric("validity_ranges").value < 1.0
    assert sec.metric("validity_structure").value == 1.0


def test_missing_is_valid_only_where_real_has_missing(real, schema):
    s = real.copy()
    s.loc[:9, "plan"] = None  # real plan has missing values: still valid
    s["age"] = s["age"].astype(float)
    s.loc[:9, "age"] = np.nan  # real age never is missing: 10 invalid
    sec = evaluate_validity(real, s, schema)
    f = _failures(sec)
    assert ("category", "plan") not in f
    assert f[("range", "age")]["synthetic"] == pytest.approx(1 - 10 / N)
    assert f[("range", "age")]["examples"] == ["(missing)"]
    assert ("format", "age") not in f  # whole numbers stored as float are fine


def test_dtype_and_integer_checks(real, schema):
    s = real.copy()
    s["age"] = s["age"] + np.where(np.arange(N) < 4, 0.5, 0.0)  # 4 non-whole ages
    s["price"] = s["price"].astype(str)  # numbers as text: parse, so valid
    s["active"] = np.where(s["active"], "yes", "no")  # booleans as text
    s["city"] = np.arange(N)  # a number where the real data has text
    sec = evaluate_validity(real, s, schema)
    f = _failures(sec)
    assert f[("format", "age")]["synthetic"] == pytest.approx(1 - 4 / N)
    assert ("format", "price") not in f
    assert ("format", "active") not in f
    assert f[("format", "city")]["synthetic"] == 0.0
    assert (
        "int64"
        in sec.tables["checks"].set_index(["check", "target"]).loc[("format", "city")]["note"]
    )


def test_missing_synthetic_column_is_reported_not_raised(real, schema):
    s = real.drop(columns=["discount"])
    sec = evaluate_validity(real, s, schema)
    checks = sec.tables["checks"].set_index(["check", "target"])
    row = checks.loc[("constraint", "sale == price - discount")]
    assert pd.isna(row["synthetic"]) and "missing from the synthetic data" in row["note"]
    assert checks.loc[("structure", "table columns")]["synthetic"] == pytest.approx(11 / 12)
    assert any("discount" in s_ for s_ in sec.skipped)
    assert sec.metric("validity").value < 1.0


def test_real_data_breaking_its_own_rule_sets_the_ceiling():
    real = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 1, 5]})  # row 2 breaks b >= a
    schema = infer_schema(real, detect_pii=False).with_constraints(parse_constraint("b >= a"))
    sec = evaluate_validity(real, real.copy(), schema)
    m = sec.metric("validity_constraints")
    assert m.value == 0.75 and m.reference == 0.75 and m.status == "pass"
    assert sec.extra["failures"] == []


def test_report_renders_the_section(real, tmp_path):
    from synthcust.evaluation.evaluate import evaluate
    from synthcust.reporting import render_html, scorecard_table, write_report

    train = real.iloc[:150]
    synth = train.copy()
    synth.loc[synth.index[0], "plan"] = "platinum"
    cols = ["age", "price", "plan", "city", "active"]
    rep = evaluate(train[cols], synth[cols], None, random_state=0)
    assert next(iter(rep.sections)) == "validity"
    assert rep.scorecard()[0].key == "validity"
    html_path, json_path = write_report(rep, tmp_path / "report.html")
    page = html_path.read_text()
    assert "Validity: does every synthetic value obey" in page
    assert "platinum" in page and "Checks the synthetic data fails" in page
    data = json.loads(json_path.read_text())
    keys = {m["key"] for m in data["sections"]["validity"]["metrics"]}
    assert {"validity", "validity_ranges", "validity_categories", "validity_formats"} <= keys
    assert data["sections"]["validity"]["extra"]["failures"][0]["examples"] == ["platinum"]
    assert data["scorecard"][0]["key"] == "validity"
    table = scorecard_table(rep)
    assert "platinum" in str(table.caption)
    clean = evaluate(train[cols], train[cols].copy(), None, random_state=0)
    assert "Every check is fully valid" in render_html(clean)


def test_copula_samples_are_valid():
    from synthcust.synthesizers import REGISTRY

    rng = np.random.default_rng(1)
    n = 600
    real = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": np.round(rng.lognormal(10, 0.5, n), 2),
            "score": rng.normal(0, 1, n),
            "joined": pd.Timestamp("2019-01-01")
            + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
            "segment": rng.choice(["a", "b", "c", "d"], n),
            "channel": rng.choice(["web", "store", None], n, p=[0.5, 0.4, 0.1]),
            "vip": rng.random(n) < 0.2,
        }
    )
    model = REGISTRY["copula"](random_state=0).fit(real)
    synth = model.sample(n, random_state=0)
    sec = evaluate_validity(real, synth)
    for key in ("validity_ranges", "validity_categories", "validity_formats"):
        assert sec.metric(key).value == 1.0, (key, sec.extra["failures"])
    assert sec.metric("validity").value == 1.0
