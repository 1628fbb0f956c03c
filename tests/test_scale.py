"""Scale-out on Dask: partitioned sampling, simulation, and the partitioned copula fit."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthcust.exceptions import SynthcustError, WriteError
from synthcust.scale import (
    fit_copula_partitioned,
    partition_seed,
    sample_partitioned,
    simulate_partitioned,
)
from synthcust.scale.copula_fit import merge_summaries, quantile_summary
from synthcust.synthesizers import GaussianCopulaSynthesizer

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 3000
    age = rng.integers(18, 80, n)
    plan = rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1])
    lift = 0.8 * (plan == "pro") + 1.6 * (plan == "team")
    spend = np.where(
        rng.random(n) < 0.3, 0.0, np.round(rng.lognormal(3 + 0.02 * age + lift, 0.4), 2)
    )
    income = rng.normal(30_000 + 500 * age, 5000)
    income[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"age": age, "plan": plan, "spend": spend, "income": income})


@pytest.fixture(scope="module")
def model(table: pd.DataFrame) -> GaussianCopulaSynthesizer:
    return GaussianCopulaSynthesizer(random_state=0).fit(table)


def _read(path: str) -> pd.DataFrame:
    files = sorted(Path(path).glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def test_same_output_whatever_the_number_of_workers(model, tmp_path):
    kw = {"partition_rows": 700, "seed": 7, "processes": False}
    a = sample_partitioned(model, 3000, tmp_path / "sync", scheduler="sync", **kw)
    b = sample_partitioned(model, 3000, tmp_path / "w1", scheduler="local", workers=1, **kw)
    c = sample_partitioned(model, 3000, tmp_path / "w2", scheduler="local", workers=2, **kw)
    assert (a.rows, a.partitions) == (3000, 5)
    assert c.workers == 2
    da, db, dc = _read(a.path), _read(b.path), _read(c.path)
    assert len(da) == 3000
    pd.testing.assert_frame_equal(da, db)
    pd.testing.assert_frame_equal(da, dc)
    # partitions are independent streams, not copies of each other
    assert not da.iloc[:700].reset_index(drop=True).equals(da.iloc[700:1400].reset_index(drop=True))
    # another seed, another sample
    d = sample_partitioned(model, 3000, tmp_path / "s8", scheduler="sync", **{**kw, "seed": 8})
    assert not _read(d.path).equals(da)
    assert partition_seed(7, 0) != partition_seed(7, 1)


def test_output_is_atomic_and_not_overwritten_by_default(model, tmp_path):
    out = tmp_path / "out"
    sample_partitioned(model, 500, out, scheduler="sync", partition_rows=200)
    assert sorted(p.name for p in out.iterdir()) == [
        "_synthcust.json", "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"
    ]  # fmt: skip
    with pytest.raises(WriteError, match="already exists"):
        sample_partitioned(model, 500, out, scheduler="sync")
    # a failing run leaves neither a temporary folder nor a damaged output behind
    with pytest.raises(SynthcustError):
        sample_partitioned(
            model, 500, out, scheduler="sync", overwrite=True, conditions={"nope": 1}
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert len(pd.read_parquet(out)) == 500
    r = sample_partitioned(model, 300, out, scheduler="sync", overwrite=True, partition_rows=300)
    assert len(pd.read_parquet(r.path)) == 300


def test_model_file_and_conditions(model, tmp_path):
    path = model.save(tmp_path / "m.synthcust")
    r = sample_partitioned(
        str(path), 400, tmp_path / "o", scheduler="sync", partition_rows=150,
        conditions={"plan": "pro"},
    )  # fmt: skip
    df = pd.read_parquet(r.path)
    assert len(df) == 400 and set(df["plan"]) == {"pro"}
    assert r.worker_peak_rss_mb > 0 and r.bytes_written > 0


def test_unreachable_scheduler_fails_fast_with_a_clear_error(model, tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(SynthcustError, match="could not reach the Dask scheduler"):
        sample_partitioned(model, 100, tmp_path / "x", scheduler="tcp://127.0.0.1:9", timeout=2)
    assert time.perf_counter() - t0 < 20
    assert not any(tmp_path.iterdir())  # nothing left behind
    with pytest.raises(SynthcustError, match="workers"):
        sample_partitioned(model, 100, tmp_path / "y", scheduler="local", workers=0)


def test_simulate_partitioned_is_deterministic(model, tmp_path):
    pop = sample_partitioned(model, 1000, tmp_path / "pop", scheduler="sync", partition_rows=250)
    a = simulate_partitioned(pop.path, _churn, tmp_path / "a", scheduler="sync", seed=3)
    b = simulate_partitioned(
        pop.path, _churn, tmp_path / "b", scheduler="local", workers=2, seed=3, processes=False
    )
    da, db = _read(a.path), _read(b.path)
    assert a.partitions == 4 and len(da) == 1000
    pd.testing.assert_frame_equal(da, db)
    assert 0.1 < da["churned"].mean() < 0.5


def _churn(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return df.assign(churned=rng.random(len(df)) < 0.3)


def test_quantile_summary_is_close_and_mergeable():
    rng = np.random.default_rng(1)
    parts = [np.concatenate([np.zeros(300), rng.exponential(5, 2000)]) for _ in range(4)]
    v, w = merge_summaries([quantile_summary(p, points=200) for p in parts])
    assert w.sum() == pytest.approx(sum(len(p) for p in parts))
    allx = np.concatenate(parts)
    # the atom at 0 is exact, quantiles within a small rank error
    assert w[v == 0][0] == 1200
    cdf = np.cumsum(w) / w.sum()
    for q in (0.25, 0.5, 0.9):
        est = v[np.searchsorted(cdf, q)]
        assert abs(np.mean(allx <= est) - q) < 0.01


def test_partitioned_copula_fit_matches_in_memory_fit(table, tmp_path):
    for i in range(3):
        table.iloc[i * 1000 : (i + 1) * 1000].to_parquet(tmp_path / f"p{i}.parquet")
    part = fit_copula_partitioned(tmp_path, random_state=0)
    mem = GaussianCopulaSynthesizer(random_state=0, scaling_iterations=1).fit(table)
    assert part.n_training_rows_ == 3000
    # optimal scaling from merged sums orders the categories as the in-memory fit does (up to
    # the direction of the axis; code 3 = "missing" never occurs here): basic, pro, team
    a = [c for c in part.cat_order_[0] if c != 3]
    b = [c for c in mem.cat_order_[0] if c != 3]
    assert a in ([0, 1, 2], [2, 1, 0]) and b in ([0, 1, 2], [2, 1, 0])
    # same model up to the random jitter of discrete values (amplified by the jitter
    # correction for the rare missingness indicator): numeric-numeric correlations agree closely
    diff = np.abs(part.corr_ - mem.corr_)
    assert diff[:3, :3].max() < 0.03
    assert diff.max() < 0.12
    a = part.sample(4000, random_state=1)
    b = mem.sample(4000, random_state=1)
    from synthcust.evaluation import kl_per_column

    kl_a = kl_per_column(table, a)
    kl_b = kl_per_column(table, b)
    assert float(kl_a.max()) < 0.05
    assert float(kl_a.max()) < float(kl_b.max()) + 0.03
    assert a["spend"].eq(0).mean() == pytest.approx(0.3, abs=0.03)
    assert a["income"].isna().mean() == pytest.approx(0.05, abs=0.02)
    assert a[["age", "income"]].corr().iloc[0, 1] == pytest.approx(
        table[["age", "income"]].corr().iloc[0, 1], abs=0.07
    )
    # it is an ordinary copula: conditions, save and load work
    assert set(part.sample(50, conditions={"plan": "team"})["plan"]) == {"team"}
    p = part.save(tmp_path / "m.synthcust")
    assert len(GaussianCopulaSynthesizer.load(p).sample(10)) == 10


def test_partitioned_fit_on_dask_dataframe_and_cluster(table, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.from_pandas(table, npartitions=3)
    m = fit_copula_partitioned(ddf, scheduler="local", workers=2, processes=False)
    s = m.sample(2000, random_state=0)
    assert set(s["plan"]) <= {"basic", "pro", "team"}
    assert s["age"].between(18, 79).all()


def test_partitioned_fit_bad_input(tmp_path):
    from synthcust.exceptions import DataError

    with pytest.raises(DataError, match="no partition files"):
        fit_copula_partitioned(tmp_path / "nothing-here")
    with pytest.raises(DataError, match="pandas frame in memory"):
        fit_copula_partitioned(pd.DataFrame({"a": [1, 2]}))
