"""synthcust.reporting: the Report interface, escaping, and id columns left out of evaluate."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthcust.evaluation.diversity import coverage
from synthcust.evaluation.evaluate import evaluate, unscored_columns
from synthcust.reporting import (
    Report,
    Section,
    html_table,
    metric_rows_html,
    plots,
    render,
    render_html,
    rests_on_html,
    write_report,
)
from synthcust.reporting.diversity import DiversityReport
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Role

EVIL = "<script>alert(1)</script>"


def _frame(n: int, seed: int, id_start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(id_start, id_start + n)],
            "x": x,
            "g": np.where(x + rng.normal(size=n) > 0, "a", "b"),
        }
    )


@dataclass
class _Toy(Report):
    rows: pd.DataFrame
    title = "toy report"

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "nan": float("nan"), "i": np.int64(3)}

    def context(self) -> dict[str, Any]:
        fig, ax = plots.pyplot().subplots()
        ax.plot([0, 1], [0, 1])
        return {
            "sections": [
                Section(EVIL, intro=EVIL, tables={EVIL: self.rows}, figures=[plots.svg(fig)])
            ],
            "notes": [f"measured {EVIL}"],
        }


def test_report_writes_html_and_json_atomically(tmp_path):
    rows = pd.DataFrame({EVIL: [1.23456, 2.0], "b": [EVIL, "ok"]})
    path = _Toy(rows).write(tmp_path / "toy.html")
    assert path == tmp_path / "toy.html"
    page = path.read_text()
    data = json.loads((tmp_path / "toy.json").read_text())
    assert data["nan"] is None and data["i"] == 3 and data["rows"][0]["b"] == EVIL
    assert EVIL not in page and "&lt;script&gt;" in page  # data text is escaped everywhere
    assert page.count("<svg") == 1  # the trusted plot is not
    assert "toy.json" in page and "1.235" in page
    assert "<style>" in page and "http://" not in page.replace("http://www.w3.org", "")
    assert not list(tmp_path.glob(".*.tmp"))
    body = _Toy(rows).body_html()
    assert "<html" not in body and "&lt;script&gt;" in body and "<svg" in body


def test_fragment_helpers_escape():
    df = pd.DataFrame({EVIL: [1.5], "n": [True]})
    t = html_table(df)
    assert EVIL not in t and "&lt;script&gt;" in t and "1.500" in t and ">True<" in t
    assert "first 1 of 3 rows" in html_table(pd.concat([df] * 3), max_rows=1)
    assert html_table(df.head(0)) == "<p>(empty)</p>"
    r = rests_on_html({"model": EVIL, "assumptions": [EVIL]})
    assert EVIL not in r and r.count("&lt;script&gt;") == 2 and "Unvalidated" in r
    assert "&lt;script&gt;" in render("sections.html.j2", title=EVIL)


def test_evaluation_report_escapes_a_script_column_name(tmp_path):
    real, synth = _frame(400, 0), _frame(400, 1)
    real[EVIL] = real["g"]
    synth[EVIL] = synth["g"]
    rep = evaluate(real, synth, random_state=0)
    page = render_html(rep)
    assert EVIL not in page and "&lt;script&gt;" in page
    html_path, json_path = write_report(rep, tmp_path / "r.html")
    assert EVIL not in html_path.read_text()
    assert EVIL in json_path.read_text()  # the JSON keeps the name as it is
    metric_rows_html(rep.sections["fidelity"].metrics)  # renders


def test_evaluate_leaves_id_columns_out_and_says_why():
    # synthetic ids are new ids by design: scoring them would report a huge KL and thousands
    # of invented categories (issue 18)
    real, synth = _frame(600, 0), _frame(600, 1, id_start=10_000)
    rep = evaluate(real, synth, random_state=0)
    assert "customer_id" not in rep.meta["columns"]
    assert rep.meta["left_out"] == {"customer_id": "identifier (schema kind id)"}
    assert any("customer_id" in s and "identifier" in s for s in rep.all_skipped())
    assert rep.sections["fidelity"].metric("kl_max").value < 0.5
    assert "customer_id" not in json.dumps(rep.sections["fidelity"].to_dict())
    page = render_html(rep)
    assert "Not scored" in page and "customer_id" in page
    # the same with the ids left in: the id column is what breaks the headline
    same = evaluate(real, synth, random_state=0, schema=infer_schema(real).drop(["customer_id"]))
    assert "customer_id" not in same.meta["left_out"]


def test_unscored_columns_follow_the_schema_roles():
    df = _frame(300, 0).assign(code=lambda d: d["g"])
    schema = infer_schema(df)
    cols = tuple(replace(c, role=Role.KEY) if c.name == "code" else c for c in schema.columns)
    schema = replace(schema, columns=cols)
    out = unscored_columns(schema)
    assert out["code"] == "key (schema role key)" and "customer_id" in out
    assert "customer_id" not in unscored_columns(schema, keep=("customer_id",))


def test_diversity_report_on_the_interface(tmp_path):
    real = pd.DataFrame({"region": ["n"] * 900 + [EVIL] * 100})
    rep = DiversityReport(coverage(real, real, ["region"]))
    page = rep.write(tmp_path / "d.html").read_text()
    assert EVIL not in page and "too small to speak for" in page and "<svg" in page
    assert json.loads((tmp_path / "d.json").read_text())["kind"] == "diversity"


@pytest.mark.parametrize("template", ["base.html.j2", "sections.html.j2", "evaluation.html.j2"])
def test_templates_autoescape(template):
    from synthcust.reporting import environment

    assert environment().get_template(template).environment.autoescape is True
