"""Relational synthesizer (customers -> orders -> lines), its evaluation and its CLI."""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import shared_data
from synthcust.evaluation.relational import (
    customer_features,
    evaluate_relational,
)
from synthcust.exceptions import DataError, ModelError, ModelFileError, NotFittedError
from synthcust.reporting.relational import write_relational_report
from synthcust.synthesizers.multi_table import relational as rel_mod
from synthcust.synthesizers.multi_table.relational import (
    RelationalSpec,
    RelationalSynthesizer,
    Relationship,
    detect_relationships,
)

T0 = pd.Timestamp("2024-01-01")


def make_tables(n: int = 300, seed: int = 0, lines: bool = True) -> dict[str, pd.DataFrame]:
    """Gold customers order more often, spend more and buy product P1 more."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(["basic", "gold"], n, p=[0.7, 0.3])
    gold = tier == "gold"
    cust = pd.DataFrame(
        {"customer_id": np.arange(1000, 1000 + n), "tier": tier, "age": rng.integers(18, 80, n)}
    )
    k = np.where(gold, rng.poisson(6, n) + 1, rng.poisson(1.5, n) + 1)
    owner = np.repeat(np.arange(n), k)
    gap = rng.exponential(np.where(gold[owner], 10.0, 40.0))
    start = rng.integers(0, 120, n)
    pos = pd.Series(owner).groupby(owner).cumcount().to_numpy()
    t = start[owner] + pd.Series(gap).groupby(owner).cumsum().to_numpy() - gap * (pos == 0)
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i:06d}" for i in range(len(owner))],
            "customer_id": cust["customer_id"].to_numpy()[owner],
            "placed": T0 + pd.to_timedelta(np.round(t * 24 * 60), unit="min"),
            "channel": rng.choice(["web", "app"], len(owner)),
            "amount": np.round(rng.gamma(2, np.where(gold[owner], 40, 15)), 2),
        }
    )
    out = {"customers": cust, "orders": orders}
    if lines:
        m = rng.integers(1, 6, len(orders))
        o = np.repeat(np.arange(len(orders)), m)
        p_gold = gold[owner][o]
        prod = np.where(
            rng.random(len(o)) < np.where(p_gold, 0.6, 0.2),
            "P1",
            rng.choice(["P2", "P3", "P4"], len(o)),
        )
        out["lines"] = pd.DataFrame(
            {"order_id": orders["order_id"].to_numpy()[o], "product": prod,
             "qty": rng.integers(1, 4, len(o))}
        )  # fmt: skip
    return out


SPEC = RelationalSpec(
    (
        Relationship("customers", "orders", "customer_id", "customer_id"),
        Relationship("orders", "lines", "order_id", "order_id"),
    ),
    {"customers": "customer_id", "orders": "order_id"},
    {"orders": "placed", "lines": None},
)


@pytest.fixture(scope="module")
def real() -> dict[str, pd.DataFrame]:
    return make_tables()


@pytest.fixture(scope="module")
def fitted(real) -> RelationalSynthesizer:
    return RelationalSynthesizer(random_state=0).fit(real)


@pytest.fixture(scope="module")
def synth(fitted) -> dict[str, pd.DataFrame]:
    return fitted.sample(400, random_state=1)


# ---------------------------------------------------------------------------- the model
def test_detects_relationships_keys_and_order(fitted):
    spec = fitted.spec_
    assert {str(r) for r in spec.relationships} == {
        "orders.customer_id=customers.customer_id",
        "lines.order_id=orders.order_id",
    }
    assert spec.order_by["orders"] == "placed"
    assert spec.primary_keys == {"customers": "customer_id", "orders": "order_id"}


def test_referential_integrity_and_new_keys(real, synth):
    c, o, li = synth["customers"], synth["orders"], synth["lines"]
    assert len(c) == 400
    assert list(c.columns) == list(real["customers"].columns)
    assert list(o.columns) == list(real["orders"].columns)
    assert list(li.columns) == list(real["lines"].columns)
    assert c["customer_id"].is_unique and o["order_id"].is_unique
    assert o["customer_id"].isin(c["customer_id"]).all()
    assert li["order_id"].isin(o["order_id"]).all()
    # synthetic keys never equal real keys, and keep the real keys' look
    assert not c["customer_id"].isin(real["customers"]["customer_id"]).any()
    assert not o["order_id"].isin(real["orders"]["order_id"]).any()
    assert o["order_id"].str.match(r"^O\d{6}$").all()
    # every order has lines, as in the real data
    assert o["order_id"].isin(li["order_id"]).all()


def test_children_depend_on_the_parent(real, synth):
    def per_tier(t: dict[str, pd.DataFrame]) -> pd.Series:
        n = t["orders"].groupby("customer_id").size()
        c = t["customers"].set_index("customer_id")
        return n.reindex(c.index).fillna(0).groupby(c["tier"]).mean()

    r, s = per_tier(real), per_tier(synth)
    assert r["gold"] > 2.5 * r["basic"]
    assert s["gold"] > 2.0 * s["basic"]  # learned, not averaged away
    mean_counts = synth["orders"].groupby("customer_id").size().mean()
    assert mean_counts == pytest.approx(
        real["orders"].groupby("customer_id").size().mean(), rel=0.25
    )
    # spend follows the parent too
    amt = synth["orders"].merge(synth["customers"], on="customer_id").groupby("tier")["amount"]
    assert amt.mean()["gold"] > 1.5 * amt.mean()["basic"]
    # products of lines follow the order's customer (through the order's features)
    li = (
        synth["lines"]
        .merge(synth["orders"], on="order_id")
        .merge(synth["customers"], on="customer_id")
    )
    p1 = li.groupby("tier")["product"].apply(lambda s: (s == "P1").mean())
    assert p1["gold"] > p1["basic"]


def test_sequences_are_ordered_and_inside_the_data_window(real, synth):
    o = synth["orders"]
    assert pd.api.types.is_datetime64_any_dtype(o["placed"])
    assert o["placed"].max() <= real["orders"]["placed"].max()
    assert o["placed"].min() >= real["orders"]["placed"].min() - pd.Timedelta(days=1)
    # within a customer, orders come in time order (position = time order)
    assert (o.groupby("customer_id")["placed"].diff().dropna() >= pd.Timedelta(0)).all()
    # minute resolution kept
    assert (o["placed"].dt.second == 0).all()
    # gold customers buy more often: shorter gaps
    g = o.merge(synth["customers"], on="customer_id").sort_values(["customer_id", "placed"])
    g["gap"] = g.groupby("customer_id")["placed"].diff().dt.total_seconds() / 86400
    med = g.groupby("tier")["gap"].median()
    assert med["gold"] < med["basic"]


def test_generation_is_vectorised_over_parents(fitted, monkeypatch):
    calls = []
    orig = rel_mod.ConditionalCopula.sample_encoded

    def spy(self, given, n, rng):
        calls.append(n)
        return orig(self, given, n, rng)

    monkeypatch.setattr(rel_mod.ConditionalCopula, "sample_encoded", spy)
    out = fitted.sample(300, random_state=3)
    max_orders = out["orders"].groupby("customer_id").size().max()
    max_lines = out["lines"].groupby("order_id").size().max()
    # one call per child position and level, each for many parents at once
    assert len(calls) == max_orders + max_lines
    assert calls[0] == out["orders"]["customer_id"].nunique()


def test_seeded_sampling_is_reproducible_and_save_load(fitted, tmp_path):
    a = fitted.sample(120, random_state=5)
    b = fitted.sample(120, random_state=5)
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t])
    p = fitted.save(tmp_path / "rel.synthcust")
    with zipfile.ZipFile(p) as zf:  # JSON + npz, never pickle
        assert sorted(zf.namelist()) == ["arrays.npz", "synthcust.json"]
        meta = json.loads(zf.read("synthcust.json"))
    assert meta["synthesizer"] == "relational"
    m2 = RelationalSynthesizer.load(p)
    c = m2.sample(120, random_state=5)
    pd.testing.assert_frame_equal(a["customers"], c["customers"])
    pd.testing.assert_frame_equal(a["orders"], c["orders"])
    assert c["lines"]["order_id"].isin(c["orders"]["order_id"]).all()
    with pytest.raises(ModelFileError, match="not a relational"):
        from synthcust.synthesizers import GaussianCopulaSynthesizer

        q = GaussianCopulaSynthesizer().fit(a["customers"]).save(tmp_path / "c.synthcust")
        RelationalSynthesizer.load(q)


def test_two_levels_and_declared_spec_json(real):
    tabs = {"customers": real["customers"], "orders": real["orders"]}
    spec = RelationalSpec.from_dict(json.loads(json.dumps(SPEC.to_dict())))
    m = RelationalSynthesizer(
        relationships=[spec.relationships[0]], order_by={"orders": "placed"}, random_state=0
    ).fit(tabs)
    out = m.sample(50, random_state=0)
    assert set(out) == {"customers", "orders"}
    assert out["orders"]["customer_id"].isin(out["customers"]["customer_id"]).all()
    r = Relationship.parse(" orders.customer_id = customers.customer_id ")
    assert r == spec.relationships[0]
    with pytest.raises(NotFittedError):
        RelationalSynthesizer().sample(3)


def test_parent_model_can_be_another_synthesizer(real):
    tabs = {"customers": real["customers"], "orders": real["orders"]}
    m = RelationalSynthesizer(
        parent_synthesizer="copula",
        parent_params={"scaling_iterations": 0, "gibbs_sweeps": 5},
        random_state=0,
    ).fit(tabs)
    assert m.parent_model_.scaling_iterations == 0
    out = m.sample(40, random_state=0)
    assert out["orders"]["customer_id"].isin(out["customers"]["customer_id"]).all()
    with pytest.raises(ModelError, match="unknown parent synthesizer"):
        RelationalSynthesizer(parent_synthesizer="nope").fit(tabs)


# ---------------------------------------------------------------------------- bad input
def test_orphan_child_keys(real):
    o = real["orders"].copy()
    o.loc[:2, "customer_id"] = 999_999
    tabs = {"customers": real["customers"], "orders": o}
    rels = ["orders.customer_id=customers.customer_id"]
    with pytest.raises(DataError, match=r"3 rows have a 'customer_id' that matches no.*999999"):
        RelationalSynthesizer(relationships=rels).fit(tabs)
    m = RelationalSynthesizer(relationships=rels, orphans="drop", random_state=0).fit(tabs)
    assert m.n_training_rows_["orders"] == len(o) - 3


def test_duplicate_parent_keys(real):
    c = pd.concat([real["customers"], real["customers"].iloc[:2]], ignore_index=True)
    tabs = {"customers": c, "orders": real["orders"]}
    with pytest.raises(DataError, match="'customer_id' has 2 duplicated values"):
        RelationalSynthesizer(relationships=["orders.customer_id=customers.customer_id"]).fit(tabs)


def test_child_without_parent_column(real):
    o = real["orders"].rename(columns={"customer_id": "buyer"})
    with pytest.raises(DataError, match=r"has no parent column declared.*--relationship"):
        RelationalSynthesizer().fit({"customers": real["customers"], "orders": o})


def test_circular_relationships(real):
    tabs = {"customers": real["customers"], "orders": real["orders"]}
    rels = [
        "orders.customer_id=customers.customer_id",
        "customers.customer_id=orders.customer_id",
    ]
    with pytest.raises(DataError, match="circular relationships"):
        RelationalSynthesizer(relationships=rels).fit(tabs)
    three = dict(tabs, lines=real["lines"])
    rels3 = [
        "orders.customer_id=customers.customer_id",
        "lines.order_id=orders.order_id",
        "customers.age=lines.qty",
    ]
    with pytest.raises(DataError, match=r"circular relationships .* -> .* -> "):
        RelationalSynthesizer(relationships=rels3).fit(three)


def test_bad_relationship_text_and_columns(real):
    tabs = {"customers": real["customers"], "orders": real["orders"]}
    with pytest.raises(DataError, match=r"CHILD_TABLE\.COLUMN=PARENT_TABLE\.COLUMN"):
        RelationalSynthesizer(relationships=["orders->customers"]).fit(tabs)
    with pytest.raises(DataError, match="has no column 'cust'"):
        RelationalSynthesizer(relationships=["orders.cust=customers.customer_id"]).fit(tabs)
    with pytest.raises(DataError, match="at least two tables"):
        RelationalSynthesizer().fit({"customers": real["customers"]})


def test_detect_relationships_ignores_non_subsets():
    a = pd.DataFrame({"k": [1, 2, 3]})
    b = pd.DataFrame({"k": [1, 4]})
    assert detect_relationships({"a": a, "b": b}) == []


# ---------------------------------------------------------------------------- evaluation
def test_evaluation_scores_good_and_bad_synthetic_data(real, synth, tmp_path):
    hold = make_tables(seed=9)
    good = evaluate_relational(real, synth, SPEC, holdout=hold, amount="amount", product="product")
    same = evaluate_relational(real, real, SPEC, amount="amount", product="product")
    assert same.metric("children_per_parent_accuracy").value == pytest.approx(1.0)
    assert same.metric("rfm_joint_accuracy").value == pytest.approx(1.0)
    assert same.metric("top_products_accuracy").value == pytest.approx(1.0)
    # a bad synthetic set: every customer has exactly one order with one line
    bad = {k: v.copy() for k, v in real.items()}
    bad["orders"] = bad["orders"].groupby("customer_id", as_index=False).first()
    bad["lines"] = bad["lines"][bad["lines"]["order_id"].isin(bad["orders"]["order_id"])]
    bad["lines"] = bad["lines"].groupby("order_id", as_index=False).first()
    worse = evaluate_relational(real, bad, SPEC, holdout=hold, amount="amount", product="product")
    for key in ("children_per_parent_accuracy", "rfm_joint_accuracy", "lines_per_order_accuracy"):
        assert good.metric(key).value > worse.metric(key).value + 0.1, key
        assert good.metric(key).reference is not None
    assert good.metric("children_per_parent_accuracy").value > 0.8
    assert good.metric("gap_ks").value < 0.25
    assert 0.3 < good.metric("dcr_share").value < 0.7
    html, js = write_relational_report(good, tmp_path / "rel.html")
    text = html.read_text()
    assert text.count("<svg") >= 6 and "Recency, frequency, monetary" in text
    d = json.loads(js.read_text())
    assert set(d["sections"]) == {"children", "rfm", "gaps", "basket", "parent_child", "privacy"}


def test_customer_features_rfm(real):
    f = customer_features(real, SPEC, amount="qty*qty")
    o = real["orders"]
    first = real["customers"]["customer_id"].iloc[0]
    assert f["frequency"].iloc[0] == (o["customer_id"] == first).sum()
    last = o.loc[o["customer_id"] == first, "placed"].max()
    assert f["recency_days"].iloc[0] == pytest.approx(
        (o["placed"].max() - last).total_seconds() / 86400
    )
    assert (f["recency_days"] >= 0).all() and (f["monetary"] > 0).all()
    with pytest.raises(DataError, match="amount column 'nope'"):
        customer_features(real, SPEC, amount="nope")


# ---------------------------------------------------------------------------- CLI
def test_cli_fit_sample_evaluate(real, tmp_path):
    from synthcust.cli import app

    files = []
    for name, df in real.items():
        p = tmp_path / f"{name}.csv"
        df.to_csv(p, index=False)
        files.append(str(p))
    runner = CliRunner()
    model = tmp_path / "m.synthcust"
    r = runner.invoke(app, ["relational", "fit", "--parent", files[0], "--child", files[1],
                            "--grandchild", files[2], "-o", str(model), "--seed", "0"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "orders.customer_id=customers.customer_id" in r.output
    out = tmp_path / "syn"
    r = runner.invoke(app, ["relational", "sample", str(model), "--parents", "80", "-o", str(out)])
    assert r.exit_code == 0, r.output
    c = pd.read_csv(out / "customers.csv")
    o = pd.read_csv(out / "orders.csv")
    assert len(c) == 80 and o["customer_id"].isin(c["customer_id"]).all()
    assert pd.to_datetime(o["placed"]).notna().all()
    r = runner.invoke(
        app,
        ["relational", "evaluate", str(model), *[x for f in files for x in ("--real", f)],
         "--synthetic", str(out), "--amount", "amount", "--product", "product",
         "-o", str(tmp_path / "rep.html")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "1 - TVD" in r.output and (tmp_path / "rep.json").exists()
    r = runner.invoke(app, ["relational", "sample", str(tmp_path / "missing.synthcust"),
                            "--parents", "3", "-o", str(out)])  # fmt: skip
    assert r.exit_code != 0


def test_cli_sample_partitioned(real, tmp_path):
    from synthcust.cli import app
    from synthcust.synthesizers import GaussianCopulaSynthesizer

    p = GaussianCopulaSynthesizer(random_state=0).fit(real["customers"]).save(tmp_path / "c.m")
    r = CliRunner().invoke(
        app, ["sample", str(p), "-n", "900", "-o", str(tmp_path / "o"),
              "--dask", "sync", "--partition-rows", "400"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert len(pd.read_parquet(tmp_path / "o")) == 900


# ---------------------------------------------------------------------------- real data
def _bench():
    path = Path(__file__).resolve().parents[1] / "bench" / "bench_relational.py"
    spec = importlib.util.spec_from_file_location("bench_relational", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_relational", mod)
    spec.loader.exec_module(sys.modules["bench_relational"])
    return sys.modules["bench_relational"]


@pytest.mark.shared_data
def test_online_retail_subsample():
    path = shared_data("online_retail", "online_retail.csv.gz")
    b = _bench()
    tables = b.load_online_retail(path, customers=300, levels=3, random_state=0)
    train, hold = b.split_customers(tables)
    spec = b.spec_for(train)
    m = RelationalSynthesizer(
        relationships=list(spec.relationships), order_by=dict(spec.order_by), random_state=0
    ).fit(train)
    out = m.sample(len(train["customers"]), random_state=1)
    assert out["invoices"]["CustomerID"].isin(out["customers"]["CustomerID"]).all()
    assert out["lines"]["InvoiceNo"].isin(out["invoices"]["InvoiceNo"]).all()
    rep = evaluate_relational(
        train, out, spec, holdout=hold, amount="Quantity*UnitPrice", product="StockCode"
    )
    assert rep.metric("children_per_parent_accuracy").value > 0.8
    assert rep.metric("lines_per_order_accuracy").value > 0.8
    assert rep.metric("top_products_accuracy").value > 0.9
    assert rep.metric("exact_copy_rate").value == 0.0


def test_cli_help_for_every_command():
    from synthcust.cli import app

    runner = CliRunner()
    for cmd in (["relational", "fit"], ["relational", "sample"], ["relational", "evaluate"]):
        r = runner.invoke(app, [*cmd, "--help"])
        assert r.exit_code == 0 and "Usage" in r.output, cmd
