"""CTGAN, TVAE and their mode-specific normalisation: behaviour on small generated tables."""

from __future__ import annotations

import json
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from synthcust.exceptions import ConditionError, ModelError  # noqa: E402
from synthcust.synthesizers.base import BaseSynthesizer  # noqa: E402
from synthcust.synthesizers.conditions import (  # noqa: E402
    CategoricalCondition,
    NumericCondition,
    Range,
)
from synthcust.synthesizers.ctgan import CTGANSynthesizer, RowSampler  # noqa: E402
from synthcust.synthesizers.neural.modes import DataTransformer, sample_until  # noqa: E402
from synthcust.synthesizers.tvae import TVAESynthesizer  # noqa: E402
from synthcust.transform.codec import Encoded  # noqa: E402

MODELS = {"ctgan": CTGANSynthesizer, "tvae": TVAESynthesizer}
FOLLOW = {"x": "p", "y": "q", "z": "r"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small networks: one thread is as fast, and immune to a busy shared CPU."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def make_frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2])
    b = np.array([FOLLOW[v] for v in a], dtype=object)
    flip = rng.random(n) < 0.1
    b[flip] = rng.choice(["p", "q", "r"], int(flip.sum()))
    hi = rng.random(n) < 0.4
    income = rng.normal(50_000, 8_000, n).round(0)
    income[rng.random(n) < 0.15] = np.nan
    return pd.DataFrame(
        {
            "a": a,
            "b": b,
            "bimodal": np.where(hi, rng.normal(80, 5, n), rng.normal(20, 5, n)).round(2),
            "age": rng.integers(18, 80, n),
            "spend": np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(3, 0.6, n).round(2)),
            "income": income,
            "member": rng.random(n) < 0.6,
            "signup": pd.Timestamp("2022-01-01")
            + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        }
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture(scope="module")
def fitted(frame) -> dict[str, BaseSynthesizer]:
    """One trained model of each kind, shared by the tests that only sample.

    Small batches give the GAN more updates for the same work (1,200 steps in all).
    """
    return {
        "ctgan": CTGANSynthesizer(epochs=80, batch_size=100, random_state=0).fit(frame),
        "tvae": TVAESynthesizer(epochs=150, random_state=0).fit(frame),
    }


def _association(df: pd.DataFrame) -> tuple[float, float]:
    """Share of rows where b follows a, and that share if a and b were independent."""
    pa, pb = df.a.value_counts(normalize=True), df.b.value_counts(normalize=True)
    indep = sum(pa.get(k, 0) * pb.get(v, 0) for k, v in FOLLOW.items())
    return float((df.b == df.a.map(FOLLOW)).mean()), float(indep)


# ---------------------------------------------------------------------- models
@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_columns_dtypes_missing(name, frame, fitted):
    before = frame.copy()
    out = fitted[name].sample(3000, random_state=1)
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.columns) == list(frame.columns)
    # the caller's dtypes, except whole numbers with gaps (read as float64 by pandas), which
    # come back as nullable integers: "50000", not "50000.0" (issue 19, the data's own formats)
    assert out.dtypes.to_dict() == {**frame.dtypes.to_dict(), "income": pd.Int64Dtype()}
    assert len(out) == 3000
    assert out.age.between(18, 79).all() and (out.age % 1 == 0).all()
    assert out.signup.between(frame.signup.min(), frame.signup.max()).all()
    assert set(out.a) <= {"x", "y", "z"} and set(out.b) <= {"p", "q", "r"}
    # missing values reproduced roughly in proportion (0.15 in the data), and the spike exactly
    assert 0.03 < out.income.isna().mean() < 0.4
    assert 0.1 < (out.spend == 0).mean() < 0.5
    assert fitted[name].training_log_.epochs_run == fitted[name].epochs


@pytest.mark.parametrize("name", sorted(MODELS))
def test_learns_bimodal_marginal_and_association(name, frame, fitted):
    out = fitted[name].sample(4000, random_state=2)
    low, high = (out.bimodal < 45).mean(), (out.bimodal > 55).mean()
    assert low > 0.3 and high > 0.2  # both modes (0.6 / 0.4 in the data)
    assert ((out.bimodal > 40) & (out.bimodal < 60)).mean() < 0.1  # and not the gap
    real, _ = _association(frame)
    synth, indep = _association(out)
    assert real > 0.9
    assert synth > indep + 0.1  # b follows a much more often than independence would give


@pytest.mark.parametrize("name", sorted(MODELS))
def test_seeds_reproduce_and_differ(name, frame, fitted):
    m = fitted[name]
    a = m.sample(300, random_state=7)
    pd.testing.assert_frame_equal(a, m.sample(300, random_state=7))
    assert not a.equals(m.sample(300, random_state=8))
    # training is reproducible too: two fits with one random_state give the same rows
    small = frame.head(400)
    one = MODELS[name](epochs=3, random_state=5).fit(small).sample(200, random_state=1)
    two = MODELS[name](epochs=3, random_state=5).fit(small).sample(200, random_state=1)
    pd.testing.assert_frame_equal(one, two)
    other = MODELS[name](epochs=3, random_state=6).fit(small).sample(200, random_state=1)
    assert not one.equals(other)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_gives_identical_samples(name, fitted, tmp_path):
    m = fitted[name]
    p = m.save(tmp_path / "m.synthcust")
    m2 = BaseSynthesizer.load(p)
    assert type(m2) is type(m)
    pd.testing.assert_frame_equal(m.sample(500, random_state=5), m2.sample(500, random_state=5))
    with zipfile.ZipFile(p) as zf:
        assert sorted(zf.namelist()) == ["arrays.npz", "synthcust.json"]
        meta = json.loads(zf.read("synthcust.json"))
        with np.load(zf.open("arrays.npz"), allow_pickle=False) as arrays:
            assert any(k.startswith(("g.", "d.")) for k in arrays.files)  # network weights
    assert meta["state"]["training_log"]["epochs_run"] == m.epochs
    assert m2.training_log_.epochs_run == m.epochs


@pytest.mark.parametrize("name", sorted(MODELS))
def test_categorical_condition_exact(name, fitted):
    out = fitted[name].sample(400, conditions={"a": "z"}, random_state=3)
    assert len(out) == 400 and (out.a == "z").all()
    both = fitted[name].sample(300, conditions={"a": ["x", "y"], "member": True}, random_state=3)
    assert set(both.a) == {"x", "y"} and both.member.all()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_numeric_range_condition_exact(name, fitted):
    out = fitted[name].sample(300, conditions={"bimodal": Range(70, 90)}, random_state=4)
    assert len(out) == 300 and out.bimodal.between(70, 90).all()
    present = fitted[name].sample(200, conditions={"income": Range(40_000, None)}, random_state=4)
    assert present.income.notna().all() and (present.income >= 40_000).all()
    spike = fitted[name].sample(100, conditions={"spend": 0}, random_state=4)
    assert (spike.spend == 0).all()
    late = fitted[name].sample(100, conditions={"signup": Range("2023-01-01", None)})
    assert (late.signup >= "2023-01-01").all()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_impossible_conditions_fail_fast_and_clearly(name, fitted):
    m = fitted[name]
    with pytest.raises(ConditionError, match="ranges from 18 to 79"):
        m.sample(10, conditions={"age": Range(100, 120)})
    # inside the data's range but between its two clusters: the model never goes there
    df = pd.DataFrame({"v": np.r_[np.linspace(0, 1, 300), np.linspace(10, 11, 300)]})
    gap = MODELS[name](epochs=2, random_state=0).fit(df)
    t0 = time.perf_counter()
    with pytest.raises(ConditionError, match=r"v=5\.\.6.*acceptance rate 0\.000%"):
        gap.sample(50, conditions={"v": Range(5, 6)})
    assert time.perf_counter() - t0 < 20  # a few bounded rounds, not a spin


def test_sample_until_is_bounded_and_oversamples():
    enc_names = (["v"], [])
    calls: list[int] = []

    def never(m: int) -> Encoded:
        calls.append(m)
        return Encoded(np.zeros((m, 1)), np.zeros((m, 0), np.int32), *enc_names)

    cond = [NumericCondition("v", 1.0, 2.0, "1..2")]
    with pytest.raises(ConditionError, match=r"v=1\.\.2: 0 of .*acceptance rate 0\.000%"):
        sample_until(never, 100, cond)
    assert sum(calls) <= 256 + 2 * 20_000  # three rounds, then it gives up
    calls.clear()
    with pytest.raises(ConditionError):
        sample_until(never, 100, cond, piece=3000)
    assert max(calls) <= 3000  # drawn in pieces: memory does not grow with the round

    def tenth(m: int) -> Encoded:  # one row in ten meets the condition
        calls.append(m)
        v = (np.arange(m) % 10 == 0).astype(float) * 1.5
        return Encoded(v[:, None], np.zeros((m, 0), np.int32), *enc_names)

    calls.clear()
    out = sample_until(tenth, 1000, cond)
    assert out.numeric.shape == (1000, 1) and (out.numeric == 1.5).all()
    assert len(calls) <= 3  # the second round oversamples by the rate seen


def test_max_training_time_stops_early():
    df = make_frame(600)
    t0 = time.perf_counter()
    m = CTGANSynthesizer(epochs=100_000, max_training_time=1.0, random_state=0).fit(df)
    assert time.perf_counter() - t0 < 60
    assert m.training_log_.stopped == "time_budget"
    assert 1 <= m.training_log_.epochs_run < 100_000
    assert len(m.sample(20)) == 20
    v = TVAESynthesizer(epochs=100_000, max_training_time=0.5, random_state=0).fit(df)
    assert v.training_log_.stopped == "time_budget"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_awkward_inputs(name):
    cls = MODELS[name]
    small = make_frame(37)
    m = cls(epochs=2, random_state=0).fit(small)  # fewer rows than a batch
    assert m.batch_ <= 37 and len(m.sample(50)) == 50
    if name == "ctgan":
        assert m.batch_ % m.pac_ == 0
    rng = np.random.default_rng(0)
    for df in (
        pd.DataFrame({"x": rng.normal(size=200)}),  # one numeric column
        pd.DataFrame({"g": rng.choice(["a", "b"], 200)}),  # one categorical column
        pd.DataFrame({"x": rng.normal(size=200), "k": 7}),  # a constant column
        pd.DataFrame({"x": rng.normal(size=200), "one": ["a"] * 150 + [None] * 50}),  # one level
        pd.DataFrame({"id": range(200), "k": 7}),  # nothing a model can learn
    ):
        out = cls(epochs=2, random_state=0).fit(df).sample(30, random_state=0)
        assert list(out.columns) == list(df.columns) and len(out) == 30
        if "k" in df:
            assert (out.k == 7).all()
        if "one" in df:
            assert set(out.one.dropna()) <= {"a"}
    with pytest.raises(ModelError, match="max_training_time"):
        cls(max_training_time=0).fit(small)
    with pytest.raises(ModelError, match="epochs"):
        cls(epochs=0).fit(small)
    dims = "generator_dim" if name == "ctgan" else "compress_dims"
    with pytest.raises(ModelError, match=dims):
        cls(**{dims: (0,)}).fit(small)


def test_ctgan_rare_category_condition_is_met_by_rejection():
    """A rare category asked for (3% of the rows) is produced exactly, by rejection from the
    unconditional generator (the conditional vector no longer steers it: that drew from another
    distribution than the model's own rows in the category)."""
    rng = np.random.default_rng(0)
    n = 1000
    df = pd.DataFrame(
        {"tier": rng.choice(["std", "gold"], n, p=[0.97, 0.03]), "x": rng.normal(size=n)}
    )
    m = CTGANSynthesizer(epochs=30, random_state=0).fit(df)
    out = m.sample(200, conditions={"tier": "gold"}, random_state=0)
    assert (out.tier == "gold").all()


def test_ctgan_training_by_sampling_tables():
    rng = np.random.default_rng(0)
    codes = np.column_stack([rng.choice(3, 500, p=[0.7, 0.2, 0.1]), rng.integers(-1, 2, 500)])
    enc = Encoded(np.zeros((500, 0)), codes.astype(np.int32), [], ["c0", "c1"])
    t = DataTransformer().fit(enc, [3, 2])
    offset = np.r_[0, np.cumsum([len(c) for c in t.cat_counts_])][:-1]
    s = RowSampler(enc.codes, t)
    f = s.conditions(20_000, rng)
    rows = s.rows_for(f, rng)
    col, slot = s.col_of[f], f - offset[s.col_of[f]]
    real = np.where(codes < 0, t.n_cats_[None, :], codes)[rows, col]
    assert (real == slot).all()  # every sampled row has its conditioned category
    assert abs((col == 0).mean() - 0.5) < 0.02  # columns uniformly
    c0 = slot[col == 0]
    logf = np.log1p(np.bincount(codes[:, 0], minlength=3))
    assert np.allclose(np.bincount(c0, minlength=3) / len(c0), logf / logf.sum(), atol=0.02)


# ---------------------------------------------------------------------- transform
def _encoded(n: int = 4000, seed: int = 0) -> Encoded:
    rng = np.random.default_rng(seed)
    spend = np.where(rng.random(n) < 0.35, 0.0, rng.lognormal(3, 0.7, n))
    pdays = np.where(rng.random(n) < 0.8, -1.0, rng.integers(1, 400, n))
    bimodal = np.where(rng.random(n) < 0.5, rng.normal(-5, 1, n), rng.normal(5, 1, n))
    age = rng.integers(18, 91, n).astype(float)
    income = rng.normal(5e4, 1e4, n)
    income[rng.random(n) < 0.1] = np.nan
    stamp = 1.6e9 + rng.integers(0, 86400 * 365, n).astype(float)  # datetimes in seconds
    codes = np.column_stack([rng.integers(-1, 4, n), np.zeros(n, int)]).astype(np.int32)
    X = np.column_stack([spend, pdays, bimodal, age, income, stamp])
    return Encoded(X, codes, ["spend", "pdays", "bimodal", "age", "income", "stamp"], ["c", "one"])


def test_transform_round_trips_and_point_masses_are_exact():
    enc = _encoded()
    t = DataTransformer().fit(enc, [4, 1], np.random.default_rng(0))
    M = t.transform(enc)
    assert M.dtype == np.float32 and M.shape == (4000, t.output_dim)
    back = t.inverse(M)
    X = enc.numeric
    assert np.array_equal(np.isnan(back.numeric), np.isnan(X))  # missing kept
    assert np.array_equal(back.codes, enc.codes)  # categories (and their missing) exact
    assert (back.numeric[X[:, 0] == 0, 0] == 0).all()
    assert (back.numeric[X[:, 1] == -1, 1] == -1).all()
    assert np.array_equal(back.numeric[:, 3], X[:, 3])  # integers exact
    ok = ~np.isnan(X)
    rel = np.abs(back.numeric - X)[ok] / (np.abs(X[ok]) + 1)
    assert np.quantile(rel, 0.999) < 1e-4
    # training encodes with the mode drawn from the posterior: still reversible
    back2 = t.inverse(t.transform(enc, np.random.default_rng(1)))
    assert np.mean((np.abs(back2.numeric - X)[ok] / (np.abs(X[ok]) + 1)) < 1e-3) > 0.99
    # every span: alphas in [-1, 1], exactly one 1 in each one-hot
    for s in t.output_info:
        block = M[:, s.start : s.start + s.width]
        if s.kind == "tanh":
            assert np.abs(block).max() <= 0.99 + 1e-6
        else:
            assert (block.sum(axis=1) == 1).all()


def test_modes_are_found_for_every_column_at_once():
    enc = _encoded()
    t = DataTransformer().fit(enc, [4, 1], np.random.default_rng(0))
    names = t.num_names_
    pts = {n: set(t.points_[j, : t.n_point_[j]]) for j, n in enumerate(names)}
    assert pts["spend"] == {0.0} and pts["pdays"] == {-1.0}
    assert pts["age"] == set() and pts["income"] == set()  # smooth columns are not chopped up
    j = names.index("bimodal")
    mu, w = t.mu_[j, : t.n_cont_[j]], np.exp(t.logw_[j, : t.n_cont_[j]])
    assert w[mu < 0].sum() == pytest.approx(0.5, abs=0.05) and w[mu > 0].sum() > 0.45
    assert (w >= 0.005).all() and 1 <= t.n_cont_.max() <= 10
    # many columns of different scales in one batched fit: each recovers its own two modes
    rng = np.random.default_rng(3)
    locs = 10.0 ** rng.uniform(-3, 6, 40)
    X = np.where(rng.random((3000, 40)) < 0.5, -1.0, 1.0) * locs + rng.normal(size=(3000, 40)) * (
        locs / 10
    )
    wide = DataTransformer().fit(
        Encoded(X, np.zeros((3000, 0), np.int32), [f"c{i}" for i in range(40)], []), []
    )
    for j in range(40):
        mu, w = wide.mu_[j, : wide.n_cont_[j]], np.exp(wide.logw_[j, : wide.n_cont_[j]])
        assert w[mu < 0].sum() == pytest.approx(0.5, abs=0.05), j
        assert np.average(mu[mu > 0], weights=w[mu > 0]) == pytest.approx(locs[j], rel=0.05)


def test_transformer_state_round_trip():
    enc = _encoded(500)
    t = DataTransformer().fit(enc, [4, 1])
    state, arrays = t.to_state("t.")
    json.dumps(state)  # the settings are plain JSON
    t2 = DataTransformer.from_state(state, arrays, "t.")
    assert t2.output_info == t.output_info
    M = t.transform(enc, np.random.default_rng(0))
    np.testing.assert_array_equal(M, t2.transform(enc, np.random.default_rng(0)))
    a, b = t.inverse(M), t2.inverse(M)
    np.testing.assert_array_equal(a.numeric, b.numeric)
    np.testing.assert_array_equal(a.codes, b.codes)


def test_conditions_checked_against_the_transform():
    enc = _encoded(500)
    t = DataTransformer().fit(enc, [4, 1])

    def show(_name: str, v: float) -> str:
        return f"{v:g}"

    t.check_conditions([NumericCondition("age", 30, 40, "30..40")], show)
    with pytest.raises(ConditionError, match="ranges from 18 to 90"):
        t.check_conditions([NumericCondition("age", 95, 99, "95..99")], show)
    with pytest.raises(ConditionError, match="never occur"):  # "one" never missing
        t.check_conditions([CategoricalCondition("one", (-1,), (None,))], show)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_precision_and_threads(name, monkeypatch):
    """float32 and bfloat16 mixed precision both train; "auto" follows the CPU; bad values fail."""
    from synthcust.synthesizers.neural import torchutil

    cls = MODELS[name]
    df = make_frame(300)
    runs = {}
    for p in ("float32", "bfloat16"):
        m = cls(epochs=2, precision=p, threads=1, random_state=0).fit(df)
        assert m.precision_ == p
        runs[p] = m.sample(200, random_state=0)
        assert list(runs[p].columns) == list(df.columns) and runs[p].a.notna().all()
    # the two precisions are different computations: same seed, different rows
    assert not runs["float32"].equals(runs["bfloat16"])
    cpu = torch.device("cpu")
    monkeypatch.setattr(torchutil, "native_bf16", lambda: False)
    assert torchutil.resolve_precision("auto", cpu) == "float32"
    monkeypatch.setattr(torchutil, "native_bf16", lambda: True)
    assert torchutil.resolve_precision("auto", cpu) == "bfloat16"
    assert torchutil.resolve_precision("auto", torch.device("meta")) == "float32"
    with pytest.raises(ModelError, match="precision must be one of auto, float32, bfloat16"):
        cls(precision="fp16").fit(df)
    for bad in (0, 1.5, True):
        with pytest.raises(ModelError, match="threads"):
            cls(threads=bad).fit(df)
