"""augment-study: protocols, CIs, verdict, and proof that only real rows are ever scored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, roc_auc_score
from typer.testing import CliRunner

from synthcust.exceptions import DataError
from synthcust.studies import augment_runner
from synthcust.studies.augment import augment_study, bootstrap_auc_f1
from synthcust.studies.augment_result import study_verdict

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _data(n: int = 1600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "u": rng.random(n) * 1000,  # unique floats: identify every real row
            "x": x,
            "age": rng.integers(18, 80, n),
            "plan": rng.choice(["basic", "pro", "team"], n),
            "y": np.where(x + 0.8 * rng.normal(size=n) > 1.6, "yes", "no"),
        }
    )


def test_bootstrap_auc_f1_matches_sklearn_with_weights_and_ties() -> None:
    rng = np.random.default_rng(1)
    n = 300
    y = rng.random(n) < 0.2
    P = np.round(rng.random((3, n)) * 0.5 + 0.4 * y, 1)  # many ties
    W = rng.multinomial(n, np.full(n, 1 / n), size=4).astype(float)
    auc, f1 = bootstrap_auc_f1(y, P, W)
    for s in range(3):
        for b in range(4):
            w = W[b]
            assert auc[s, b] == pytest.approx(roc_auc_score(y, P[s], sample_weight=w))
            assert f1[s, b] == pytest.approx(f1_score(y, P[s] >= 0.5, sample_weight=w))


def test_no_synthetic_row_reaches_the_evaluation_set(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    df = _data()
    real_u = set(df["u"])
    scored: list[np.ndarray] = []
    trained: list[np.ndarray] = []
    orig_score, orig_fit = augment_runner.score_rows, augment_runner.Runner.fit_predict

    def spy_score(clf, X_real, classes, positive):  # type: ignore[no-untyped-def]
        scored.append(X_real["u"].to_numpy())
        return orig_score(clf, X_real, classes, positive)

    def spy_fit(self, Xt, yt, balanced, seed, evals):  # type: ignore[no-untyped-def]
        trained.append(Xt["u"].to_numpy())
        return orig_fit(self, Xt, yt, balanced, seed, evals)

    monkeypatch.setattr(augment_runner, "score_rows", spy_score)
    monkeypatch.setattr(augment_runner.Runner, "fit_predict", spy_fit)
    methods = ["none", "smote", "borderline", "adasyn", "generative", "hybrid", "augment:copula"]
    r = augment_study(
        df, "y", methods=methods, repeats=1, n_small=600, n_fit=480, n_synthetic=800, n_boot=20
    )
    assert r.full is not None and r.small is not None
    # the test would be vacuous if no synthetic row were trained on: check they were
    n_synth = sum(int((~np.isin(u, list(real_u))).sum()) for u in trained)
    assert n_synth > 1000
    assert len(scored) == 2 * len(methods) + len(methods)  # small: holdout + rest; full: holdout
    for u in scored:
        assert np.isin(u, list(real_u)).all()  # every evaluated row is a real row
    # full data: the evaluation rows are exactly the real holdout, and none was trained on
    full_eval = scored[0]
    assert len(full_eval) == round(0.2 * (df["y"] == "yes").sum()) + round(
        0.2 * (df["y"] == "no").sum()
    )
    assert not np.isin(full_eval, trained[0]).any()


def test_study_tables_and_verdict_shape() -> None:
    r = augment_study(
        _data(),
        "y",
        methods=["none", "class_weight", "smote"],
        repeats=3,
        n_small=600,
        n_fit=480,
        n_boot=50,
    )
    assert list(r.full.index) == ["none", "class_weight", "smote"]
    assert r.full.loc["none", "f1_diff"] == 0
    sm = r.full.loc["smote"]
    assert sm["f1_diff_lower"] <= sm["f1_diff"] <= sm["f1_diff_upper"]
    assert sm["train_rows"] > r.full.loc["none", "train_rows"]  # oversampled
    s = r.small.loc["smote"]
    assert s["auc_diff_rest_lower"] <= s["auc_diff_rest"] <= s["auc_diff_rest_upper"]
    assert len(r.per_seed_small) == 3 * 3
    assert r.positive == "yes" and "Full data (3 seeds)" in r.verdict
    assert "bootstrap" in r.how["full-data comparison"]
    assert "t-interval" in r.how["small-data protocol"]
    svg = r.plot_svg()
    assert svg.startswith("<svg") and "smote" in svg
    d = json.loads(r.to_json())
    assert d["full"][0]["method"] == "none" and d["verdict"] == r.verdict


def test_parallel_seeds_give_the_same_figures() -> None:
    kw = {"methods": ["none", "smote"], "repeats": 2, "small": False, "n_boot": 30}
    a = augment_study(_data(900), "y", n_jobs=1, **kw)
    b = augment_study(_data(900), "y", n_jobs=2, **kw)
    cols = [c for c in a.full.columns if c != "seconds"]
    pd.testing.assert_frame_equal(a.full[cols], b.full[cols])
    assert a.notes == b.notes


def _table(diff: float, lo: float, hi: float) -> pd.DataFrame:
    row = {"f1": 0.5 + diff, "auc": 0.9, "auc_diff": 0.0, "auc_diff_lower": -0.01}
    row.update(f1_diff=diff, f1_diff_lower=lo, f1_diff_upper=hi, auc_diff_upper=0.01)
    none = dict.fromkeys(row, 0.0) | {"f1": 0.5, "auc": 0.9}
    return pd.DataFrame.from_dict({"none": none, "smote": row}, orient="index")


def test_verdict_says_no_reliable_gain_when_the_ci_includes_zero() -> None:
    v = study_verdict(_table(0.02, -0.01, 0.05), None, 20)
    assert "no reliable gain" in v and "smote" in v
    v = study_verdict(_table(0.05, 0.03, 0.07), None, 20)
    assert "smote helped most" in v and "+0.0500" in v and "threshold" in v
    v = study_verdict(_table(-0.05, -0.07, -0.03), None, 20)
    assert "Reliably worse F1: smote" in v


def test_bad_input_is_refused() -> None:
    df = _data(400)
    with pytest.raises(DataError, match="looks continuous"):
        augment_study(df.assign(y=df["x"]), "y", repeats=1)
    with pytest.raises(DataError, match="single class"):
        augment_study(df.assign(y="no"), "y", repeats=1)
    with pytest.raises(DataError, match="unknown method 'smot'"):
        augment_study(df, "y", methods=["smot"], repeats=1)
    text = df.assign(
        note=[f"customer wrote a long comment number {i} about it" for i in range(400)]
    )
    with pytest.raises(DataError, match=r"\['note'\]"):
        augment_study(text, "y", repeats=1)
    r = augment_study(text, "y", methods=["none", "smote"], repeats=1, small=False, drop=["note"])
    assert any("dropped" in n for n in r.notes)


def test_cli_augment_study_writes_report_and_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from synthcust.cli import app

    src = tmp_path / "d.csv"
    _data(1400).to_csv(src, index=False)
    html, js = tmp_path / "r.html", tmp_path / "r.json"
    res = CliRunner().invoke(
        app,
        [
            "augment-study",
            str(src),
            "--target",
            "y",
            "--repeats",
            "2",
            "--methods",
            "none,smote,generative",
            "--n-boot",
            "30",
            "--report",
            str(html),
            "--json",
            str(js),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "verdict" in res.output
    d = json.loads(js.read_text())
    assert [row["method"] for row in d["full"]] == ["none", "smote", "generative"]
    page = html.read_text()
    assert "<svg" in page and "How these figures were measured" in page
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporaries


@pytest.mark.shared_data
def test_bank_study_bounded() -> None:
    path = SHARED / "bank" / "bank_full.csv.gz"
    if not path.is_file():
        pytest.skip(f"needs {path} (the shared real datasets, beside the repo); not present here")
    bank = pd.read_csv(path).sample(15_000, random_state=0)  # bounded: a third of Bank
    r = augment_study(
        bank,
        "y",
        methods=["none", "smote", "generative"],
        repeats=2,
        n_boot=50,
    )
    assert r.positive == "yes"
    assert 0.85 < r.full.loc["none", "auc"] < 0.97  # HGB on Bank (duration included)
    assert r.small.loc["none", "auc_rest"] > 0.8
    assert r.full.loc["smote", "train_rows"] > r.full.loc["none", "train_rows"] * 1.5
    assert "Full data (2 seeds)" in r.verdict and "Small data (960 real rows" in r.verdict
