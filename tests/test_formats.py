"""The data's own formats: decimals, whole numbers and id patterns survive sampling."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from synthcust.exceptions import ConditionError
from synthcust.schema.formats import learn_decimals
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Schema
from synthcust.synthesizers import REGISTRY
from synthcust.transform.codec import ColumnSpec, TableCodec, restore_id
from synthcust.transform.idpattern import learn_id_pattern, make_ids, maybe_real

FAST = {
    "copula": {},
    "autoregressive": {"epochs": 5, "hidden": 32, "patience": 2},
}
ID_RE = re.compile(r"^[1-9]\d{3}-[A-Z]{5}$")


def _decimals(x: pd.Series) -> pd.Series:
    """Decimals of each value as written (shortest repr)."""
    txt = x.dropna().map(repr)
    return txt.str.split(".").str[1].fillna("").str.rstrip("0").str.len()


@pytest.fixture
def shop() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 300
    letters = rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), size=(n, 5))
    return pd.DataFrame(
        {
            "customer_id": [
                f"{a}-{''.join(b)}"
                for a, b in zip(
                    rng.choice(np.arange(1000, 10000), n, replace=False), letters, strict=True
                )
            ],
            "spend": np.round(rng.gamma(2.0, 30.0, n), 2),
            "orders": rng.integers(0, 20, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
        }
    )


def test_learn_decimals_is_robust_to_float_noise():
    assert learn_decimals(np.array([0.1 + 0.2, 1.25, np.nan])) == 2
    assert learn_decimals(np.array([1234567.89, 0.5])) == 2
    assert learn_decimals(np.array([3.0, 4.0])) == 0
    assert learn_decimals(np.random.default_rng(0).random(100)) is None  # no rounding
    assert learn_decimals(np.arange(100_000) * 0.001) == 3  # sampled, still right


def test_schema_learns_decimals_and_integers(shop):
    s = infer_schema(shop)
    assert s["spend"].decimals == 2 and not s["spend"].integer
    assert s["orders"].integer
    txt = infer_schema(pd.DataFrame({"p": ["1.5", "2.25", "3"] * 5}))
    assert txt["p"].decimals == 2


def test_schema_json_round_trip_keeps_decimals(shop):
    s = infer_schema(shop)
    d = json.loads(json.dumps(s.to_dict()))
    assert d["columns"][1]["decimals"] == 2
    assert Schema.from_dict(d)["spend"].decimals == 2


def test_old_schema_json_without_decimals_loads_and_codec_learns_them(shop):
    d = infer_schema(shop).to_dict()
    for c in d["columns"]:
        c.pop("decimals", None)
    old = Schema.from_dict(d)
    assert old["spend"].decimals is None
    codec = TableCodec().fit(shop, old)
    assert codec.spec("spend").decimals == 2
    # an old codec (model file) without the new fields still loads
    legacy = codec.to_dict()
    for spec in legacy["specs"]:
        spec.pop("decimals")
        spec.pop("id_pattern")
    assert TableCodec.from_dict(legacy).spec("spend").decimals is None


def test_bad_decimals_are_refused():
    from synthcust.exceptions import SchemaError

    with pytest.raises(SchemaError, match="decimals"):
        Schema.from_dict({"columns": [{"name": "x", "kind": "numeric", "decimals": -1}]})


@pytest.mark.parametrize("name", sorted(FAST))
def test_samples_keep_decimals_integers_and_id_pattern(name, shop):
    if name not in REGISTRY:
        pytest.skip(f"{name} is not available here")
    m = REGISTRY[name](random_state=0, **FAST[name]).fit(shop)
    out = m.sample(500)
    assert (_decimals(out["spend"]) <= 2).all()
    assert out["orders"].dtype == shop["orders"].dtype
    assert (out["orders"] % 1 == 0).all()
    ids = out["customer_id"]
    assert ids.is_unique
    assert ids.map(lambda v: bool(ID_RE.match(v))).all(), ids.head()
    assert not ids.isin(shop["customer_id"]).any()


def test_ids_in_pattern_unique_never_real_and_vectorised():
    rng = np.random.default_rng(1)
    n = 5000
    nums, tails = rng.integers(0, 10**6, n), rng.choice(list("xyz"), n)
    real = pd.Series([f"AC{a:06d}-{b}" for a, b in zip(nums, tails, strict=True)]).drop_duplicates()
    pattern = learn_id_pattern(real)
    assert pattern["alphabets"][0][:3] == ["A", "C", "0123456789"]
    assert pattern["alphabets"][0][8] == "-"
    assert json.loads(json.dumps(pattern)) == pattern  # JSON-ready
    assert maybe_real(real, pattern).all()  # no false negatives
    ids = pd.Series(make_ids(100_000, pattern, rng))
    assert ids.is_unique and not ids.isin(real).any()
    assert ids.str.fullmatch(r"AC\d{6}-[a-z]").all()
    # the real ids are not in the model, only a filter of salted hashes
    assert not any(r in json.dumps(pattern) for r in real.head(50))


def test_id_fallbacks():
    few = pd.Series(["1234-ABCDE", "9876-ZYXWV"])
    assert learn_id_pattern(few) == {}  # too few ids
    mixed = pd.Series([f"{'x' * (i % 37)}{i}" for i in range(200)])
    assert learn_id_pattern(mixed) == {}  # lengths without structure
    spec = ColumnSpec("id", "id", "object", id_prefix="ID-", id_width=8)
    assert restore_id(3, spec).tolist() == ["ID-00000001", "ID-00000002", "ID-00000003"]
    # prefix + number ids: fresh ones continue after the real ones
    df = pd.DataFrame({"cid": [f"C{i:05d}" for i in range(1, 41)]})
    codec = TableCodec().fit(df, infer_schema(df))
    out = codec.decode(codec.encode(df), np.random.default_rng(0))
    assert out["cid"].iloc[0] == "C00041" and not out["cid"].isin(df["cid"]).any()


def test_strict_bounds_hold_after_rounding_to_decimals():
    """A value drawn just above ``x > 80`` must not round back onto 80.00: bounds go on the grid."""
    from synthcust.synthesizers import GaussianCopulaSynthesizer, Range

    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame(
        {"monthly": np.round(rng.uniform(20, 120, n), 2), "c": rng.choice(["a", "b"], n)}
    )
    model = GaussianCopulaSynthesizer(random_state=0).fit(df)
    above = model.sample(3000, conditions={"monthly": Range(80, None, low_inclusive=False)},
                         random_state=1)  # fmt: skip
    assert (above["monthly"] > 80).all()
    assert (np.round(above["monthly"], 2) == above["monthly"]).all()
    below = model.sample(3000, conditions={"monthly": Range(None, 80, high_inclusive=False)},
                         random_state=2)  # fmt: skip
    assert (below["monthly"] < 80).all()
    exact = model.sample(50, conditions={"monthly": 50.25}, random_state=3)
    assert set(exact["monthly"]) == {50.25}
    with pytest.raises(ConditionError, match="2 decimals"):
        model.sample(10, conditions={"monthly": 50.255})


# ---------------------------------------------------------------------- booleans, integers, dates
@pytest.fixture
def flags() -> pd.DataFrame:
    """0/1 flags of every spelling, whole numbers with gaps, dates of every resolution."""
    rng = np.random.default_rng(3)
    n = 400
    kids = rng.integers(0, 4, n).astype(float)
    kids[rng.random(n) < 0.2] = np.nan
    day0 = pd.Timestamp("2021-01-01")
    days = pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    return pd.DataFrame(
        {
            "churn": rng.integers(0, 2, n),  # int 0/1
            "promo": rng.integers(0, 2, n).astype(float),  # float 0/1
            "opt_in": rng.choice(["0", "1"], n),  # text 0/1
            "active": rng.random(n) < 0.6,  # True/False
            "kids": kids,  # whole numbers with missing values (pandas: float64)
            "signup": day0 + days,  # dates
            "seen": day0 + pd.to_timedelta(rng.integers(0, 10**6, n), unit="min"),
            "shift": day0 + pd.to_timedelta(rng.integers(0, 5000, n), unit="h"),
            "local": (day0 + days[::-1]).tz_localize("Europe/Amsterdam"),  # local dates
            "paid_on": (day0 + days[rng.permutation(n)]).strftime("%d/%m/%Y"),  # as text
        }
    )


def test_schema_learns_booleans_and_datetime_resolution(flags):
    s = infer_schema(flags)
    for c in ("churn", "promo", "opt_in", "active"):
        assert s[c].kind.value == "boolean", c
    assert s["kids"].kind.value == "numeric" and s["kids"].integer
    got = {c: s[c].resolution for c in ("signup", "seen", "shift", "local", "paid_on")}
    assert got == {
        "signup": "day",
        "seen": "minute",
        "shift": "hour",
        "local": "day",  # midnight local time is not midnight UTC
        "paid_on": "day",
    }
    d = json.loads(json.dumps(s.to_dict()))
    assert {c["name"]: c.get("resolution") for c in d["columns"]}["seen"] == "minute"
    assert Schema.from_dict(d) == s


def test_bad_resolution_is_refused_with_the_choices():
    from synthcust.exceptions import SchemaError

    with pytest.raises(SchemaError, match="resolution must be one of day, hour, minute, second"):
        Schema.from_dict({"columns": [{"name": "t", "kind": "datetime", "resolution": "week"}]})


@pytest.mark.parametrize("name", sorted(FAST))
def test_samples_keep_booleans_integers_and_resolution(name, flags):
    if name not in REGISTRY:
        pytest.skip(f"{name} is not available here")
    m = REGISTRY[name](random_state=0, **FAST[name]).fit(flags, infer_schema(flags))
    out = m.sample(600, random_state=1)
    # 0/1 stay 0/1 in their own dtype
    assert out["churn"].dtype == flags["churn"].dtype and set(out["churn"]) <= {0, 1}
    assert out["promo"].dtype == flags["promo"].dtype and set(out["promo"]) <= {0.0, 1.0}
    assert set(out["opt_in"].dropna()) <= {"0", "1"}
    assert out["active"].dtype == bool
    # whole numbers with gaps: nullable integers, gaps kept
    assert str(out["kids"].dtype) == "Int64"
    assert 0.05 < out["kids"].isna().mean() < 0.4
    # resolution: dates have no time, minutes no seconds, hours no minutes
    assert (out["signup"] == out["signup"].dt.normalize()).all()
    assert (out["seen"].dt.second == 0).all() and out["seen"].dt.minute.nunique() > 30
    assert ((out["shift"].dt.minute == 0) & (out["shift"].dt.second == 0)).all()
    assert (out["local"] == out["local"].dt.normalize()).all()
    assert str(out["local"].dt.tz) == "Europe/Amsterdam"
    assert out["paid_on"].str.fullmatch(r"\d\d/\d\d/\d{4}").all()


def test_schema_resolution_wins_over_the_data(flags):
    """A user who edits ``seen`` to day resolution gets dates."""
    s = infer_schema(flags).edit({"seen": {"resolution": "day"}})
    m = REGISTRY["copula"](random_state=0).fit(flags, s)
    out = m.sample(200, random_state=0)
    assert (out["seen"] == out["seen"].dt.normalize()).all()


def test_old_schema_and_old_model_files_still_load(flags, tmp_path):
    """Schema JSON without ``resolution`` and model files without the new codec and training
    fields load; the codec learns the resolution from the data when the schema lacks it."""
    import zipfile

    from synthcust.synthesizers.fitted import SynthModel, load_model

    d = infer_schema(flags).to_dict()
    for c in d["columns"]:
        c.pop("resolution", None)
    old = Schema.from_dict(d)
    assert old["seen"].resolution is None
    codec = TableCodec().fit(flags, old)
    assert codec.spec("seen").datetime_resolution == "minute"

    m = REGISTRY["copula"](random_state=0).fit(flags, old)
    path = SynthModel(m, old, None, list(flags)).save(tmp_path / "new.synthcust")
    # rewrite the file as an older synthcust wrote it: no resolution anywhere
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}

    def strip(o):
        if isinstance(o, dict):
            return {
                k: strip(v)
                for k, v in o.items()
                if k not in ("resolution", "datetime_resolution", "epochs_planned", "budget_s")
            }
        return [strip(v) for v in o] if isinstance(o, list) else o

    meta = json.loads(files["synthcust.json"])
    files["synthcust.json"] = json.dumps(strip(meta)).encode()
    assert b"resolution" not in files["synthcust.json"]
    legacy = tmp_path / "old.synthcust"
    with zipfile.ZipFile(legacy, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    out = load_model(legacy).sample(100, random_state=0)
    assert len(out) == 100 and (out["seen"].dt.second == 0).all()  # the old step still holds


def test_evaluation_treats_flags_as_categories_and_draws_bars(flags):
    from synthcust.reporting.html import render_html
    from synthcust.workflows.evaluate import evaluate

    real = flags[["churn", "promo", "kids"]]
    m = REGISTRY["copula"](random_state=0).fit(real)
    synth = m.sample(len(real), random_state=0)
    rep = evaluate(real, synth, schema=infer_schema(real), random_state=0)
    dists = rep.sections["fidelity"].extra["distributions"]
    assert sorted(dists["churn"]["labels"]) == ["0", "1"]  # bars of the two values
    assert sorted(dists["promo"]["labels"]) == ["0", "1"]  # 1.0 reads 1
    assert "edges" in dists["kids"]  # a real number stays binned
    html = render_html(rep)
    assert html.count("<svg") >= 3  # one chart per column, none left empty
    assert flags["churn"].dtype == np.int64  # the caller's frame is untouched


def test_integers_with_gaps_stay_nullable_when_rules_are_enforced(flags):
    """A discovered rule (``renewed >= signup``) puts a constraint plan in the sampling path;
    the nullable integers must survive it."""
    df = flags[["kids", "signup", "churn"]].assign(
        renewed=flags["signup"] + pd.to_timedelta(np.arange(len(flags)) % 90, unit="D")
    )
    m = REGISTRY["copula"](random_state=0).fit(df, infer_schema(df))
    assert any(str(r.constraint) == "renewed >= signup" for r in getattr(m, "rules_", []))
    out = m.sample(2000, random_state=0)
    assert str(out["kids"].dtype) == "Int64" and out["kids"].isna().any()
    assert (out["renewed"] >= out["signup"]).all()


def test_conditions_on_flags_read_like_the_data(flags):
    """``promo=1`` conditions a 0/1 flag stored as floats (1.0), ``churn=1`` one of ints."""
    from synthcust.synthesizers.fitted import SynthModel
    from synthcust.workflows.sample import sample

    m = REGISTRY["copula"](random_state=0).fit(flags[["churn", "promo", "kids"]])
    model = SynthModel(m, m.schema_, None, ["churn", "promo", "kids"])
    out = sample(model, 200, conditions=["promo=1", "churn=0"], random_state=0)
    assert set(out["promo"]) == {1.0} and set(out["churn"]) == {0}
    with pytest.raises(ConditionError, match="no value '2'"):
        sample(model, 10, conditions=["promo=2"])
