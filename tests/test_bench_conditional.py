"""The conditional-generation benchmark (bench/bench_conditional.py) on its --quick settings,
plus exact checks of its statistics (the two-proportion test, Benjamini-Hochberg, the random
conditions). Skips the data-driven part when ../shared/data is absent."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _bench import load_script, needs_data


def test_two_proportion_test_and_benjamini_hochberg() -> None:
    b = load_script("bench_conditional")
    # 0.30 of 1,000 vs 0.25 of 1,000: z = 0.05 / sqrt(0.275 * 0.725 * 0.002) = 2.504
    assert b.two_prop_p(0.30, 1_000, 0.25, 1_000) == pytest.approx(0.01228, abs=1e-4)
    assert b.two_prop_p(0.2, 500, 0.2, 80) == pytest.approx(1.0)
    assert math.isnan(b.two_prop_p(0.2, 500, 0.0, 0))
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.9, np.nan])
    # BH at 5% over 5 tests: thresholds 0.01, 0.02, 0.03, 0.04, 0.05 -> the first two only
    assert b.benjamini_hochberg(p).tolist() == [True, True, False, False, False, False]


def test_random_conditions_have_their_support_and_mix() -> None:
    b = load_script("bench_conditional")
    rng = np.random.default_rng(0)
    n = 5_000
    df = pd.DataFrame(
        {
            "plan": rng.choice(["a", "b", "c", "d"], n, p=[0.6, 0.3, 0.08, 0.02]),
            "age": rng.integers(18, 90, n),
            "spend": rng.gamma(2, 10, n),
            "y": rng.choice(["no", "yes"], n),
        }
    )
    conds = b.draw_conditions(df, "y", 20, np.random.default_rng(1))
    assert len(conds) == 20 and len({c.rule for c in conds}) == 20
    for c in conds:
        assert "y" not in c.conditions and 1 <= len(c.conditions) <= 3
        share = b.segment_mask(df, c.conditions).mean()
        assert share == pytest.approx(c.support) and 0.01 <= share <= 0.6
    assert sum(c.support < 0.05 for c in conds) == 6  # 30% rare


@needs_data
def test_quick_run_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    b = load_script("bench_conditional")
    out = tmp_path / "res.json"
    res = b.main(["--quick", "--models", "copula", "autoregressive", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["datasets"]["adult"]["rows_fit"] == 3_000
    for name in ("copula", "autoregressive"):
        s = res["datasets"]["adult"]["models"][name]["summary"]
        assert s["conditions"] == 8 and s["failed"] == 0 and s["violations"] == 0
        # exact conditioning: no condition disagrees after Benjamini-Hochberg, and both
        # errors beat the useless baseline (the overall rate for every segment)
        assert s["agree_bh"] == 1.0
        assert s["err_cond"] < s["err_baseline"] and s["err_filtered"] < s["err_baseline"]
