"""Smoke test of the copula benchmark script (bench/bench_copula.py --quick --no-sdv).

Speed goals live in bench/, never in unit tests: this only checks that the harness runs end to
end on a small Adult subsample and prints our per-column KL table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "bench_copula.py"
DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country", "income",
]  # fmt: skip

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not (DATA_DIR / "adult" / "adult_train.csv.gz").is_file(),
        reason=f"benchmark data not found at {DATA_DIR} (../shared/data next to the repo)",
    ),
]


def test_bench_copula_quick_runs_and_prints_kl_table(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="the benchmark splits with scikit-learn (bench extra)")
    cmd = [
        sys.executable, str(SCRIPT), "--quick", "--no-sdv", "--datasets", "adult",
        "--data-dir", str(DATA_DIR), "--out-dir", str(tmp_path),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    out = proc.stdout
    assert "KL(real train || synthetic), per column (adult)" in out
    kl_lines = [ln for ln in out.splitlines() if ln.startswith("| column")]
    assert kl_lines and "synthcust" in kl_lines[0]
    for col in ADULT_COLUMNS:
        assert f"| {col} " in out, f"KL row for {col} missing"
    assert "SDV not run" in out

    [json_file] = tmp_path.glob("copula_*_quick.json")
    assert json_file.with_suffix(".md").is_file()
    res = json.loads(json_file.read_text())
    [adult] = res["datasets"]
    ours = adult["libs"]["ours"]
    assert adult["errors"] == {}
    assert adult["train_untouched"]
    assert set(ours["kl_median"]) == set(ADULT_COLUMNS)
    assert all(v >= 0 for v in ours["kl_median"].values())
    assert ours["peak_mb"] is not None and ours["peak_mb"] > 0
