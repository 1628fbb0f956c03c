"""Smoke test of the copula benchmark script (bench/bench_copula.py --quick --no-sdv).

Speed goals live in bench/, never in unit tests: this only checks that the harness runs end to
end on a small Adult subsample and prints our per-column KL table and the quality section, plus
a few exact checks of the script's accuracy (1 - TVD) helper.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _bench import DATA_DIR, load_script, needs_data

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "bench_copula.py"
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country", "income",
]  # fmt: skip





def test_accuracy_tvd_is_exact_on_small_frames() -> None:
    bench = load_script("bench_copula")
    rng = np.random.default_rng(0)
    n = 2_000
    real = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "spike": np.where(rng.random(n) < 0.8, 0, rng.integers(1, 100, n)),
            "cat": rng.choice(list("abcdefghijklmn"), n),  # 14 categories: 4 fold into "other"
            "miss": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        }
    )
    same = bench.accuracy_tvd(real, real.sample(frac=1.0, random_state=1))  # row order is moot
    assert same["univariate"] == pytest.approx(1.0)
    assert same["bivariate"] == pytest.approx(1.0)
    assert same["accuracy"] == pytest.approx(1.0)

    shifted = real.assign(x=real["x"] + 10)
    acc = bench.accuracy_tvd(real, shifted)
    # all of x lands in the top bin (1 - TVD = 0.1); the other columns are untouched
    assert acc["per_column"]["x"] == pytest.approx(0.1, abs=0.01)
    assert acc["per_column"]["cat"] == pytest.approx(1.0)
    assert acc["univariate"] < 1.0 and acc["bivariate"] < 1.0

    # unseen and rare categories both count as "other"
    renamed = real.assign(cat=real["cat"].replace({"a": "zz"}))
    codes, ks = bench.bin_codes(real, [real, renamed])
    j = list(real.columns).index("cat")
    assert ks[j] == 11
    assert codes[0].shape == (n, 4) and codes[0].dtype == np.int64
    other = ks[j] - 1
    was_a = (real["cat"] == "a").to_numpy()
    assert (codes[1][was_a, j] == other).all()


@pytest.mark.shared_data
@needs_data
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

    # quality section: printed and in the JSON (SDMetrics may be skipped without sdmetrics)
    assert "Quality (adult; synthetic sample of" in out
    assert "real holdout / TRTR" in out
    q = adult["quality"]
    oq = q["libs"]["ours"]
    assert 0.5 <= oq["detection"]["auc"] <= 1.0
    assert len(oq["detection"]["fold_aucs"]) == 5
    assert 0.5 < oq["tstr"]["auc"] <= 1.0
    assert 0.5 < q["real"]["trtr"]["auc"] <= 1.0
    for acc in (oq["accuracy"], q["real"]["accuracy"]):
        assert 0.5 < acc["bivariate"] <= acc["univariate"] <= 1.0
    if q["sdmetrics_skipped_reason"]:
        assert "SDMetrics skipped" in out
    else:
        assert 0.0 < oq["sdmetrics"]["overall"] <= 1.0


EVAL_SCRIPT = ROOT / "bench" / "bench_evaluation.py"




def test_independent_kl_agrees_with_synthcust() -> None:
    """The bench's second KL implementation (numpy + scipy) matches synthcust's to rounding."""
    from synthcust.evaluation.fidelity import kl_per_column

    load_script("bench_copula")  # bench_evaluation imports bench_copula's helpers
    bench = load_script("bench_evaluation")
    rng = np.random.default_rng(3)
    n = 3_000

    def draw(shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": rng.integers(18, 90, n),  # integers: ties on bin edges
                "spend": np.where(rng.random(n) < 0.6, 0.0, rng.gamma(2, 50, n) + shift),
                "miss": np.where(rng.random(n) < 0.1, np.nan, rng.normal(shift, 1, n)),
                "tier": rng.choice(["gold", "silver", "bronze", None], n, p=[0.1, 0.3, 0.5, 0.1]),
            }
        )

    real, synth = draw(0.0), draw(0.5)
    synth.loc[:9, "tier"] = "invented"
    ours = kl_per_column(real, synth).to_dict()
    theirs = bench.kl_independent(real, synth)
    assert set(ours) == set(theirs)
    for c in ours:
        assert ours[c] == pytest.approx(theirs[c], rel=1e-9, abs=1e-12), c
    assert ours["miss"] > 0.01  # the shift is seen: the comparison is not 0 == 0


@pytest.mark.shared_data
@needs_data
def test_bench_evaluation_quick_runs(tmp_path: Path) -> None:
    cmd = [
        sys.executable, str(EVAL_SCRIPT), "--quick", "--no-sdv", "--no-sdmetrics",
        "--datasets", "adult", "--data-dir", str(DATA_DIR), "--out-dir", str(tmp_path),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    [json_file] = tmp_path.glob("evaluation_*_quick.json")
    res = json.loads(json_file.read_text())
    ours = res["datasets"]["adult"]["libs"]["ours"]
    assert ours["kl_max_abs_diff"] < 1e-9
    for key in ("accuracy", "tstr_auc", "detection_auc", "dcr_share"):
        assert abs(ours["ours"][key] - ours["independent"][key]) < 0.05, key
    assert (tmp_path / "eval_adult_ours_quick.html").is_file()
    assert "| max per-column KL |" in proc.stdout


@pytest.mark.shared_data
@needs_data
def test_bench_epoch_speed_quick_runs(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    cmd = [
        sys.executable, str(ROOT / "bench" / "bench_epoch_speed.py"), "--quick", "--skip-sdv",
        "--data-dir", str(DATA_DIR), "--out", str(tmp_path), "--name", "t",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    res = json.loads(next(tmp_path.glob("epoch_speed_*_t.json")).read_text())
    models = res["datasets"]["adult"]["models"]
    assert set(models) == {
        "synthcust CTGAN float32", "synthcust CTGAN auto",
        "synthcust TVAE float32", "synthcust TVAE auto",
    }  # fmt: skip
    for r in models.values():
        assert r["per_epoch_s"] > 0 and len(r["fit_s"]["1"]) == 1
    assert "| model | per epoch (s) |" in proc.stdout
