"""Smoke test of the rule-violation benchmark (bench/bench_rules.py --quick).

Runs the CI settings (Adult, 1,500 training rows, the copula and SMOTE-NC) end to end and
checks what the benchmark claims: the rules it lists hold in every real training row, the
default fit and oversampler break none of them, the useless baseline breaks many.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "bench_rules.py"
DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"

needs_data = pytest.mark.skipif(
    not (DATA_DIR / "adult" / "adult_train.csv.gz").is_file(),
    reason=f"benchmark data not found at {DATA_DIR} (../shared/data next to the repo)",
)


def _load_script():  # bench/ is not a package: load the script as a module
    spec = importlib.util.spec_from_file_location("bench_rules", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_rules", mod)
    spec.loader.exec_module(sys.modules["bench_rules"])
    return sys.modules["bench_rules"]


@needs_data
def test_quick_run_finds_rules_and_breaks_none(tmp_path, capsys):
    bench = _load_script()
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

    bench = _load_script()
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
