"""Smoke test of the rule-violation benchmark (bench/bench_rules.py --quick).

Runs the CI settings (Adult, 1,500 training rows, the copula and SMOTE-NC) end to end and
checks what the benchmark claims: the rules it lists hold in every real training row, the
default fit and oversampler break none of them, the useless baseline breaks many.
"""

from __future__ import annotations

import json

import pytest

from _bench import DATA_DIR, load_script, needs_data


@needs_data
def test_quick_run_finds_rules_and_breaks_none(tmp_path, capsys):
    bench = load_script("bench_rules")
    out = tmp_path / "rules.json"
    res = bench.main(["--quick", "--out", str(out), "--data-dir", str(DATA_DIR)])
    adult = res["datasets"]["adult"]
    assert adult["training_rows"] == 1500
    assert len(adult["rules"]) >= 5
    assert all(r["support"] >= 50 for r in adult["rules"])
    texts = {r["rule"] for r in adult["rules"]}
    assert "if education == 'Bachelors' then education_num == 13" in texts
    # before: the copula breaks rules; after (default): none; baseline: most rows
    cop = adult["synthesizers"]["copula"]
    assert cop["off"]["rows_breaking"] > 0
    assert cop["auto"]["rows_breaking"] == 0 and cop["auto"]["rules_broken"] == 0
    assert adult["oversampling"]["smotenc"]["auto"]["rows_breaking"] == 0
    assert adult["baseline_independent"]["share_breaking"] > 0.5
    assert json.loads(out.read_text())["datasets"]["adult"]["rules"] == adult["rules"]
    assert "| adult | copula |" in capsys.readouterr().out


def test_violations_counts_rows_and_rules():
    import pandas as pd

    from synthcust.constraints.auto import discover_rules
    from synthcust.schema.infer import infer_schema

    bench = load_script("bench_rules")
    n = 300
    real = pd.DataFrame(
        {"s": ["No"] * 100 + ["DSL"] * 200, "a": ["none"] * 100 + ["Yes", "No"] * 100}
    )
    rules = discover_rules(real)
    assert len(rules) == 2
    fake = real.copy()
    fake.loc[[0, 1], "a"] = "Yes"  # two rows break both directions' rule once each
    v = bench.violations(fake, infer_schema(real), rules)
    assert v["rows_breaking"] == 2 and v["rules_broken"] == 1 and v["rows"] == n
    assert v["worst_rate"] == pytest.approx(2 / n)
