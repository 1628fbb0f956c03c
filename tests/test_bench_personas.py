"""Smoke test of the persona-member benchmark (bench/bench_persona_members.py --quick).

The quick setting (1,500 rows, k = 3, 300 members per persona) runs on the demo world, and on
Adult and Bank when ../shared/data is present (skipped with a reason otherwise). It checks the
harness end to end and the goals on these small settings: every persona's members are assigned
back (>= 90%), their KPI rate is inside the real persona's 95% CI, and the useless baseline
(unconditional draws) is assigned back only about as often as the persona's size.
"""

from __future__ import annotations

import json

import pytest

from _bench import DATA_DIR, load_script


def _check(res: dict, name: str) -> None:
    rows = [r for r in res["personas"] if r["dataset"] == name]
    assert len(rows) == 3, rows
    for r in rows:
        assert r["assigned_back"] >= 0.9, r
        assert r["inside_ci"], r
        assert r["baseline_assigned"] < 0.8, r  # the useless baseline: about the size
        assert r["profile_tvd"] < r["baseline_tvd"], r  # the whole profile, not just the KPI
    assert res["summary"][name]["kpi_inside_ci"] == 3


def test_quick_demo_world(tmp_path, capsys):
    bench = load_script("bench_persona_members")
    out = tmp_path / "members.json"
    res = bench.main(["--quick", "--datasets", "demo", "--json", str(out)])
    _check(res, "demo")
    assert json.loads(out.read_text())["settings"]["quick"] is True
    text = capsys.readouterr().out
    assert "demo" in text and "real KPI (95% CI)" in text


@pytest.mark.skipif(
    not (DATA_DIR / "adult" / "adult_train.csv.gz").is_file()
    or not (DATA_DIR / "bank" / "bank_full.csv.gz").is_file(),
    reason=f"benchmark data not found at {DATA_DIR} (../shared/data next to the repo)",
)
def test_quick_adult_and_bank():
    bench = load_script("bench_persona_members")
    res = bench.main(["--quick", "--datasets", "adult,bank"])
    _check(res, "adult")
    _check(res, "bank")
