"""A real customer table keeps its own formats and rules (issue 19, "Done when").

The table is built from the real data in ``../shared/data`` (never copied into the repo):

* one row per Online Retail customer (3,000 of 4,372, seed 0): the id is the customer's first
  invoice number (``536365``, or ``C536379`` when it was a cancellation), ``since`` the date of
  that invoice (date only), ``last_order`` the last invoice's time (minute resolution),
  ``orders`` (whole number), ``revenue`` (money, 2 decimals), ``last_price`` / ``last_qty`` of
  the last line, ``country``, ``uk`` (0/1 int: country is the United Kingdom) and ``returned``
  (0/1 float: any cancellation);
* side by side, 3,000 Bank Marketing clients (seed 0): ``age``, ``job``, ``balance``,
  ``housing`` (0/1), ``pdays`` (``-1``: never contacted before), ``previous``, ``poutcome``
  and the target ``subscribed`` (0/1).

Its rules hold in every real row: ``pdays == -1`` exactly when ``previous == 0`` and exactly
when ``poutcome`` is ``unknown``; ``uk == 1`` exactly for the United Kingdom; ``since <=
last_order``. The default model is fitted through the library workflow with fast settings and
sampled; ids, decimals, whole numbers, 0/1 flags, date resolution, a segment's target rate and
every rule are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthcust.schema.formats import learn_decimals
from synthcust.workflows.defaults import default_synthesizer
from synthcust.workflows.fit import fit
from synthcust.workflows.sample import sample

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RETAIL = DATA / "online_retail" / "online_retail.csv.gz"
BANK = DATA / "bank" / "bank_full.csv.gz"
ROWS = 3000
FAST = {"autoregressive": {"epochs": 20, "max_training_time": 30}}

pytestmark = pytest.mark.skipif(
    not (RETAIL.exists() and BANK.exists()),
    reason=f"real data not found at {DATA} (../shared/data: online_retail and bank)",
)


def customers() -> pd.DataFrame:
    """The real customer table described in the module docstring."""
    r = pd.read_csv(
        RETAIL,
        dtype={"InvoiceNo": str, "CustomerID": "Int64"},
        usecols=["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"],
        parse_dates=["InvoiceDate"],
    )
    r = r.dropna(subset=["CustomerID"])
    r = r.sort_values(["CustomerID", "InvoiceDate", "InvoiceNo"], kind="stable")
    r["line"] = r["Quantity"] * r["UnitPrice"]
    r["cancel"] = r["InvoiceNo"].str.startswith("C")
    g = r.groupby("CustomerID", sort=True)
    first, last = g.first(), g.last()
    cust = pd.DataFrame(
        {
            "first_invoice": first["InvoiceNo"].astype(object),
            "since": first["InvoiceDate"].dt.normalize(),
            "last_order": last["InvoiceDate"],
            "orders": g["InvoiceNo"].nunique().astype("int64"),
            "revenue": g["line"].sum().round(2),
            "last_price": last["UnitPrice"],
            "last_qty": last["Quantity"].astype("int64"),
            "country": last["Country"].astype(object),
            "returned": g["cancel"].any().astype(float),
        }
    ).reset_index(drop=True)
    cust["uk"] = (cust["country"] == "United Kingdom").astype("int64")
    cust = cust.sample(ROWS, random_state=0).reset_index(drop=True)
    b = pd.read_csv(BANK).sample(ROWS, random_state=0).reset_index(drop=True)
    bank = pd.DataFrame(
        {
            "age": b["age"],
            "job": b["job"],
            "balance": b["balance"],
            "housing": (b["housing"] == "yes").astype("int64"),
            "pdays": b["pdays"],
            "previous": b["previous"],
            "poutcome": b["poutcome"],
            "subscribed": (b["y"] == "yes").astype("int64"),
        }
    )
    return pd.concat([cust, bank], axis=1)


def broken_rules(df: pd.DataFrame) -> dict[str, int]:
    """Rows breaking each rule of the real table."""
    never = df["pdays"] == -1
    return {
        "pdays == -1 <=> previous == 0": int((never != (df["previous"] == 0)).sum()),
        "pdays == -1 <=> poutcome == 'unknown'": int(
            (never != (df["poutcome"] == "unknown")).sum()
        ),
        "uk == 1 <=> country == 'United Kingdom'": int(
            ((df["uk"] == 1) != (df["country"] == "United Kingdom")).sum()
        ),
        "since <= last_order": int((df["since"] > df["last_order"]).sum()),
    }


@pytest.fixture(scope="module")
def fitted():
    real = customers()
    name = default_synthesizer()
    res = fit(
        real,
        target="subscribed",
        synthesizer_params=FAST.get(name, {}),
        random_state=0,
    )
    synth = sample(res.model, ROWS, random_state=1)
    return real, res, synth


def _decimals(x: pd.Series) -> int:
    return int(learn_decimals(x.to_numpy(dtype=float), max_decimals=10) or 0)


def test_real_table_is_what_the_test_claims(fitted):
    real, res, _ = fitted
    assert real["first_invoice"].is_unique
    assert real["first_invoice"].str.fullmatch(r"C?5\d{5}").all()
    assert real["first_invoice"].str.startswith("C").any()
    assert broken_rules(real) == dict.fromkeys(broken_rules(real), 0)
    s = res.model.schema
    assert s["first_invoice"].kind.value == "id"
    assert s["revenue"].decimals == 2
    assert s["since"].resolution == "day" and s["last_order"].resolution == "minute"
    assert {c.name for c in s.of_kind(s["uk"].kind)} >= {"uk", "returned", "housing"}


def test_ids_are_unique_in_the_real_pattern_and_never_real(fitted):
    real, _, synth = fitted
    ids = synth["first_invoice"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"C?5\d{5}").all(), ids.head().tolist()
    assert not ids.isin(real["first_invoice"]).any()
    # cancellations first (a "C" id) about as often as in the real table
    share_real = real["first_invoice"].str.startswith("C").mean()
    share = ids.str.startswith("C").mean()
    assert abs(share - share_real) < 4 * np.sqrt(share_real * (1 - share_real) / ROWS) + 0.005


def test_money_integers_flags_and_dates_keep_their_format(fitted):
    real, _, synth = fitted
    for col in ("revenue", "last_price"):
        assert _decimals(synth[col]) <= _decimals(real[col]), col
    assert _decimals(synth["revenue"]) == 2  # cents, not 65.66592845122597
    for col in ("orders", "last_qty", "age", "balance", "pdays", "previous"):
        assert synth[col].dtype == np.int64, col
    for col in ("uk", "housing", "subscribed"):
        assert synth[col].dtype == np.int64 and set(synth[col]) == {0, 1}, col
    assert synth["returned"].dtype == np.float64 and set(synth["returned"]) == {0.0, 1.0}
    assert (synth["since"] == synth["since"].dt.normalize()).all()  # dates stay dates
    assert (synth["last_order"].dt.second == 0).all()  # minutes, never seconds
    assert synth["last_order"].dt.minute.nunique() > 30  # ... but real minutes


def test_segment_target_rate_matches_the_real_segment(fitted):
    real, res, _ = fitted
    seg = real["poutcome"] == "success"
    p, n_real, n = float(real.loc[seg, "subscribed"].mean()), int(seg.sum()), 1000
    assert p > 3 * real["subscribed"].mean()  # a segment that matters
    out = sample(res.model, n, conditions={"poutcome": "success"}, random_state=2)
    assert (out["poutcome"] == "success").all()
    tol = 3 * np.sqrt(p * (1 - p) / n_real + p * (1 - p) / n)  # sampling noise of both rates
    assert abs(out["subscribed"].mean() - p) <= tol, (out["subscribed"].mean(), p, tol)


def test_no_broken_rule(fitted):
    _, res, synth = fitted
    cond = sample(res.model, 1000, conditions={"housing": 1}, random_state=3)
    for frame in (synth, cond):
        broken = broken_rules(frame)
        assert broken == dict.fromkeys(broken, 0), broken


def test_ids_pattern_is_learned_not_copied(fitted):
    """The model file holds no real id (only a filter of salted hashes)."""
    real, res, _ = fitted
    spec = res.model.synthesizer.column_spec("first_invoice")
    text = repr(spec.id_pattern)
    assert not any(re.search(re.escape(v), text) for v in real["first_invoice"].head(200))
