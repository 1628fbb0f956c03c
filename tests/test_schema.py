from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthcust.exceptions import DataError, SchemaError
from synthcust.schema import Column, Kind, Schema
from synthcust.schema.infer import infer_schema
from synthcust.schema.validate import validate


def test_infer_kinds(mixed_frame):
    s = infer_schema(mixed_frame, detect_pii=False)
    kinds = {c.name: c.kind for c in s}
    assert kinds == {
        "customer_id": Kind.ID,
        "age": Kind.NUMERIC,
        "plan": Kind.CATEGORICAL,
        "spend": Kind.NUMERIC,
        "income": Kind.NUMERIC,
        "signup": Kind.DATETIME,
        "active": Kind.BOOLEAN,
        "region": Kind.CATEGORICAL,
        "country": Kind.CONSTANT,
    }
    assert s["age"].integer and not s["spend"].integer
    assert s["region"].missing_markers == ("?",)


def test_infer_text_dates_and_markers():
    df = pd.DataFrame(
        {
            "d": ["2024-01-31", "2023-12-01", "unknown", "2022-02-28"] * 5,
            "eu": ["31/01/2024", "01/12/2023", "15/06/2020", "28/02/2022"] * 5,
            "num_txt": ["1", "2", "3", "N/A"] * 5,
            "yn": ["yes", "no", "no", "yes"] * 5,
            "review": [
                f"I really liked product number {i} because it was great" for i in range(20)
            ],
        }
    )
    s = infer_schema(df, detect_pii=False)
    assert s["d"].kind == Kind.DATETIME and s["d"].datetime_format == "%Y-%m-%d"
    assert s["d"].missing_markers == ("unknown",)
    assert s["eu"].kind == Kind.DATETIME and s["eu"].datetime_format == "%d/%m/%Y"
    assert s["num_txt"].kind == Kind.NUMERIC and s["num_txt"].missing_markers == ("N/A",)
    assert s["yn"].kind == Kind.BOOLEAN
    assert s["review"].kind == Kind.TEXT


def test_mixed_types_and_all_null_are_reported():
    df = pd.DataFrame({"x": ["1", "2", "abc", "4", "5"] * 4, "empty": [np.nan] * 20})
    s = infer_schema(df, detect_pii=False)
    assert s["x"].kind == Kind.CATEGORICAL
    assert s["empty"].kind == Kind.CONSTANT
    joined = " ".join(s.warnings)
    assert "'abc'" in joined and "'x'" in joined
    assert "entirely missing" in joined


def test_infinities_are_warned():
    df = pd.DataFrame({"v": [1.0, np.inf, 3.0, 4.0]})
    s = infer_schema(df, detect_pii=False)
    assert s["v"].kind == Kind.NUMERIC
    assert any("infinite" in w for w in s.warnings)


def test_json_round_trip(mixed_frame, tmp_path):
    s = infer_schema(mixed_frame, detect_pii=False).with_target("active")
    p = tmp_path / "schema.json"
    p.write_text(json.dumps(s.to_dict()))
    back = Schema.from_dict(json.loads(p.read_text()))
    assert back == s
    assert back.target == "active"


def test_edit_reports_every_problem_at_once(mixed_frame):
    s = infer_schema(mixed_frame, detect_pii=False)
    with pytest.raises(SchemaError) as ei:
        s.edit({"agee": {"kind": "numeric"}, "plan": {"kind": "categorial", "colour": 1}})
    msg = str(ei.value)
    assert len(ei.value.problems) == 3
    assert "'agee'" in msg and "did you mean 'age'" in msg
    assert "'categorial'" in msg and "did you mean 'categorical'" in msg
    assert "'colour'" in msg


def test_edit_applies(mixed_frame):
    s = infer_schema(mixed_frame, detect_pii=False)
    s2 = s.edit({"age": {"kind": "categorical"}})
    assert s2["age"].kind == Kind.CATEGORICAL and s["age"].kind == Kind.NUMERIC


def test_from_dict_future_version_and_garbage():
    with pytest.raises(SchemaError, match="newer"):
        Schema.from_dict({"synthcust_schema_version": 99, "columns": []})
    with pytest.raises(SchemaError, match="not a synthcust schema"):
        Schema.from_dict({"hello": 1})
    with pytest.raises(SchemaError) as ei:
        Schema.from_dict({"columns": [{"name": "a", "kind": "nope"}, {"name": "a", "kind": "id"}]})
    assert len(ei.value.problems) == 2


def test_duplicate_columns_rejected():
    df = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    with pytest.raises(DataError, match="duplicate"):
        infer_schema(df)


def test_validate_lists_all_problems(mixed_frame):
    s = infer_schema(mixed_frame, detect_pii=False)
    bad = mixed_frame.drop(columns=["plan"]).assign(extra=1)
    bad["age"] = bad["age"].astype(object)
    bad.loc[3, "age"] = "old"
    probs = validate(bad, s)
    text = "\n".join(map(str, probs))
    assert "'plan'" in text and "not in the data" in text
    assert "'extra'" in text
    assert "'old'" in text
    assert sum(p.severity == "error" for p in probs) == 2


def test_schema_rejects_duplicate_columns_in_model():
    with pytest.raises(SchemaError):
        Schema((Column("a", Kind.NUMERIC), Column("a", Kind.ID)))
