"""The epsilon/utility curve: one DP fit per epsilon, each charged to the ledger, refused up
front when the budget or the input is wrong, and written as a self-contained page."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from _cli import run
from synthcust.evaluation.splits import train_holdout_split
from synthcust.exceptions import SynthcustError
from synthcust.store import BudgetError, Workspace, fingerprint_frame
from synthcust.studies.privacy_curve import (
    parse_epsilons,
    privacy_curve,
    write_curve_report,
)

BOUNDS = {"age": (18, 90), "spend": (0, 1000)}


def _customers(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    plan = rng.choice(["basic", "pro", "max"], n, p=[0.6, 0.3, 0.1])
    spend = (rng.gamma(2.0, 30.0, n) + (plan != "basic") * 40).round(2)
    logit = -(age - 50) / 8 + (plan == "pro") - 0.01 * spend
    churn = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"age": age, "plan": plan, "spend": spend, "churn": churn})


@pytest.fixture(scope="module")
def data():
    df = _customers()
    train, holdout = train_holdout_split(df, target="churn", random_state=0)
    return df, train, holdout


@pytest.fixture(scope="module")
def charged_curve(data, tmp_path_factory):
    """A curve at a tiny and a large epsilon, charged to a fresh workspace's ledger."""
    df, train, holdout = data
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    ds = ws.register_dataset(df, name="customers")
    calls = []

    def charge(e, d):
        calls.append((e, d))
        return ws.charge(ds, e, d, "MST (test)", synthesizer="dp_marginal")

    result = privacy_curve(
        train,
        holdout,
        epsilons=[8, 0.05],
        delta=1e-9,
        target="churn",
        bounds=BOUNDS,
        charge=charge,
        remaining=ws.budget(ds).remaining,
    )
    yield result, ws, ds, calls
    ws.close()


def test_one_point_per_epsilon_and_more_epsilon_is_more_faithful(charged_curve):
    result, *_ = charged_curve
    assert result.epsilons == [0.05, 8.0]  # ascending, whatever the order given
    assert len(result.points) == 2 and result.reference is not None
    for p in [*result.points, result.reference]:
        assert 0 < p.accuracy <= 1
    tiny, large = result.points
    # at epsilon 0.05 the noise (fresh OS entropy, so it differs per run) may leave one class of
    # the target in the synthetic rows: then there is no TSTR AUC, and None says so honestly
    for p in (large, result.reference):
        assert p.tstr_auc is not None and 0 <= p.tstr_auc <= 1
    assert tiny.tstr_auc is None or 0 <= tiny.tstr_auc <= 1
    # at epsilon 0.05 the noise (sigma in the hundreds of rows per cell) swamps 1,600 rows;
    # at 8 the marginals are nearly exact
    assert large.accuracy > tiny.accuracy + 0.1, (tiny.accuracy, large.accuracy)
    assert large.privacy["epsilon"] == 8 and tiny.privacy["epsilon"] == 0.05
    assert 0.8 < result.real_accuracy <= 1 and 0.5 < result.real_tstr_auc <= 1
    table = result.table()
    assert list(table["model"])[-1].startswith("copula") and len(table) == 3


def test_ledger_records_one_charge_per_epsilon_and_their_sum(charged_curve):
    result, ws, ds, calls = charged_curve
    assert calls == [(0.05, 1e-9), (8.0, 1e-9)]
    entries = ws.ledger(ds)
    assert [e.epsilon for e in entries] == [0.05, 8.0]
    assert {e.status for e in entries} == {"committed"}
    b = ws.budget(ds)
    assert b.charges == 2 and b.spent == pytest.approx(8.05) == result.total_epsilon
    assert b.delta_spent == pytest.approx(2e-9) == result.total_delta


def test_budget_too_small_is_refused_before_any_charge(data, tmp_path):
    df, train, holdout = data
    with Workspace(tmp_path) as ws:
        ds = ws.register_dataset(df, name="customers")
        ws.set_budget(ds, 1.0)
        calls = []

        def charge(e, d):
            calls.append(e)
            return ws.charge(ds, e, d, "MST (test)")

        with pytest.raises(BudgetError, match=r"1\.5 = 0\.5 \+ 1.*only 1 is left"):
            privacy_curve(
                train,
                holdout,
                epsilons="0.5,1",
                delta=1e-9,
                target="churn",
                bounds=BOUNDS,
                charge=charge,
                remaining=ws.budget(ds).remaining,
            )
        assert calls == [] and ws.ledger(ds) == [] and ws.budget(ds).spent == 0


@pytest.mark.parametrize(
    ("epsilons", "bounds", "message"),
    [
        ("", BOUNDS, "cannot read the epsilon list"),
        ("0.5,,2", BOUNDS, "cannot read the epsilon list"),
        ("0.5,abc", BOUNDS, "not a number"),
        ("0", BOUNDS, "epsilon must be a finite number > 0"),
        ("1,-2", BOUNDS, "epsilon must be a finite number > 0"),
        ("nan", BOUNDS, "epsilon must be a finite number > 0"),
        ("1e6", BOUNDS, "above"),
        ("1,2,1", BOUNDS, "listed twice"),
        ([], BOUNDS, "cannot read the epsilon list"),
        ("1,2", {"age": (18, 90)}, "public bounds"),  # spend has none
    ],
)
def test_bad_input_is_refused_before_any_fit(data, epsilons, bounds, message):
    _, train, holdout = data
    calls = []
    with pytest.raises(SynthcustError, match=message):
        privacy_curve(
            train,
            holdout,
            epsilons=epsilons,
            delta=1e-9,
            target="churn",
            bounds=bounds,
            charge=lambda e, d: calls.append(e),
        )
    assert calls == []


def test_delta_at_or_above_one_over_n_and_unknown_target_are_refused(data):
    _, train, holdout = data
    kw = {"epsilons": "1", "bounds": BOUNDS, "charge": lambda e, d: pytest.fail("charged")}
    with pytest.raises(SynthcustError, match="delta"):
        privacy_curve(train, holdout, delta=0.01, target="churn", **kw)
    with pytest.raises(SynthcustError, match="target column 'nope'"):
        privacy_curve(train, holdout, delta=1e-9, target="nope", **kw)


def test_parse_epsilons():
    assert parse_epsilons("8, 0.5,2") == [0.5, 2.0, 8.0]
    assert parse_epsilons([1, 2.5]) == [1.0, 2.5]


def test_report_is_self_contained_html_with_svg_and_json(charged_curve, tmp_path):
    result, *_ = charged_curve
    html_path, json_path = write_curve_report(result, tmp_path / "curve.html")
    page = html_path.read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and "</html>" in page
    assert "<metadata>" not in page  # no date or outside names in the figure
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page and "<script" not in page and "<link" not in page
    assert "8.05 = 0.05 + 8" in page and "not differentially private" in page
    d = json.loads(json_path.read_text(encoding="utf-8"))
    assert [p["epsilon"] for p in d["points"]] == [0.05, 8.0]
    assert d["total_epsilon"] == pytest.approx(8.05) and d["reference"]["epsilon"] is None
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically: no leftovers




def test_cli_privacy_curve(data, tmp_path, capsys, monkeypatch):
    df = data[0]
    path, ws, out = tmp_path / "d.csv", tmp_path / "ws", tmp_path / "c.html"
    ws.mkdir()
    df.to_csv(path, index=False)
    fp = fingerprint_frame(pd.read_csv(path))
    base = ["privacy-curve", path, "--target", "churn", "--workspace", ws, "-o", out]
    bounds = ["--bound", "age=18..90", "--bound", "spend=0..1000"]

    def spent():
        with Workspace(ws) as w:
            return [e.epsilon for e in w.ledger(fp)]

    for bad, msg in [
        (["--epsilons", "1,0", *bounds], "epsilon must be"),
        (["--epsilons", ",", *bounds], "cannot read the epsilon list"),
        (["--epsilons", "1,2"], "public bounds"),  # no bounds: pre-flight, nothing charged
        (["--epsilons", "1", "--target", "nope", *bounds], "target column 'nope'"),
        (["--epsilons", "4,8", *bounds], "only 10 is left"),  # 12 > the default 10
    ]:
        code, o, err = run(base + bad, capsys, monkeypatch)
        assert code == 1 and msg in " ".join(err.split()), (bad, o, err)
        assert spent() == [] and not out.exists()
    code, o, err = run([*base, "--epsilons", "4,0.5", *bounds], capsys, monkeypatch)
    assert code == 0, o + err
    text = " ".join(o.split())
    assert "epsilon 4.5 (the sum: basic composition)" in text
    assert "budget left 5.5 of 10" in text and "report written to" in text
    assert "copula (not private)" in text
    assert spent() == [0.5, 4.0] and out.exists() and out.with_suffix(".json").exists()
    code, o, err = run([*base, "--epsilons", "2,4", *bounds], capsys, monkeypatch)
    assert code == 1 and "6 = 2 + 4" in err and "5.5" in err
    assert spent() == [0.5, 4.0]
