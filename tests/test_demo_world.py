"""The demo world: deterministic, documented, and its planted structure really is there."""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pandas as pd
import pytest

import synthcust.demo.world as world
from synthcust.demo import (
    COLUMN_DESCRIPTIONS,
    DEMO_PII_COLUMNS,
    DEMO_UNIQUE_PII_COLUMNS,
    WORLD_DESCRIPTION,
    WorldParams,
    simulate_customers,
)
from synthcust.exceptions import DataError
from synthcust.schema import PIIKind

N = 20_000
AS_OF = pd.Timestamp(WorldParams().as_of)

EXPECTED_DTYPES = {
    "customer_id": "str",
    "full_name": "str",
    "email": "str",
    "phone": "str",
    "street_address": "str",
    "postcode": "str",
    "date_of_birth": "datetime64[ns]",
    "signup_date": "datetime64[ns]",
    "age": "int64",
    "gender": "category",
    "region": "category",
    "income": "float64",
    "household_size": "int64",
    "loyalty_tier": "category",
    "price_sensitivity": "float64",
    "discount_share": "float64",
    "preferred_channel": "category",
    "newsletter_opt_in": "bool",
    "orders_per_year": "int64",
    "avg_order_value": "float64",
    "total_spend_12m": "float64",
    "days_since_last_order": "Int64",
    "returns_rate": "float64",
    "satisfaction": "Int64",
    "churned": "bool",
}


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return simulate_customers(N, random_state=0, include_latent=True)


def test_same_seed_gives_identical_frame():
    a = simulate_customers(1500, random_state=7, include_latent=True)
    b = simulate_customers(1500, random_state=7, include_latent=True)
    pd.testing.assert_frame_equal(a, b)


def test_different_seed_gives_different_frame():
    a = simulate_customers(1500, random_state=7)
    b = simulate_customers(1500, random_state=8)
    assert not a.equals(b)
    assert (a["income"] != b["income"]).mean() > 0.9
    assert (a["full_name"] != b["full_name"]).mean() > 0.9


def test_columns_and_dtypes(df):
    latent = ["true_persona", "true_churn_probability"]
    assert list(df.columns) == [*EXPECTED_DTYPES, *latent]
    for col, dtype in EXPECTED_DTYPES.items():
        assert str(df[col].dtype) == dtype, col
    assert list(df["loyalty_tier"].cat.categories) == ["bronze", "silver", "gold", "platinum"]
    assert df["loyalty_tier"].cat.ordered
    assert set(df["gender"].cat.categories) == {"female", "male", "other"}
    assert set(df["preferred_channel"].cat.categories) == {"web", "app", "store"}
    assert df["region"].nunique() == 5


def test_default_frame_has_no_latent_columns_and_without_pii_no_pii():
    d = simulate_customers(300, random_state=1)
    assert "true_persona" not in d.columns
    assert set(DEMO_PII_COLUMNS) <= set(d.columns)
    bare = simulate_customers(300, random_state=1, with_pii=False)
    assert not set(DEMO_PII_COLUMNS) & set(bare.columns)
    # PII is drawn from its own stream: the other columns do not change with with_pii.
    pd.testing.assert_frame_equal(d.drop(columns=list(DEMO_PII_COLUMNS)), bare)


def test_every_column_is_documented(df):
    for col in df.columns:
        assert col in COLUMN_DESCRIPTIONS, col
        assert f"``{col}``" in WORLD_DESCRIPTION, col


def test_value_ranges(df):
    assert df["customer_id"].is_unique
    assert df["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert df["customer_id"].iloc[0] == "C000001"
    assert df["signup_date"].is_monotonic_increasing  # ids follow signup order
    assert df["age"].between(18, 85).all()
    assert df["age"].skew() > 0.3
    assert df["household_size"].between(1, 8).all()
    assert (df["income"].dropna() > 0).all()
    for col in ["price_sensitivity", "discount_share", "returns_rate"]:
        assert df[col].dropna().between(0, 1).all(), col
    assert df["satisfaction"].dropna().between(1, 5).all()
    assert (df["orders_per_year"] >= 0).all()
    assert (df["avg_order_value"].dropna() > 0).all()
    assert (df["total_spend_12m"] >= 0).all()
    tenure = (AS_OF - df["signup_date"]).dt.days
    assert tenure.between(1, 5 * 365).all()
    assert tenure.max() > 4.5 * 365
    assert (df["signup_date"] == df["signup_date"].dt.normalize()).all()
    recency = df["days_since_last_order"].astype("float64")
    assert (recency.dropna() >= 0).all()
    assert (recency.dropna() <= tenure[recency.notna()]).all()


def test_missingness_near_targets(df):
    miss = df.isna().mean()
    assert 0.02 < miss["income"] < 0.04
    assert 0.18 < miss["satisfaction"] < 0.22
    never = df["days_since_last_order"].isna()
    assert 0.05 < never.mean() < 0.3
    for col in ["discount_share", "avg_order_value", "returns_rate"]:
        assert (df[col].isna() == never).all(), col
    may_miss = {
        "income",
        "satisfaction",
        "days_since_last_order",
        "discount_share",
        "avg_order_value",
        "returns_rate",
    }
    no_missing = [c for c in df.columns if c not in may_miss]
    assert not df[no_missing].isna().any().any()


def test_orders_spend_and_recency_are_consistent(df):
    orders = df["orders_per_year"]
    spend = df["total_spend_12m"]
    assert ((spend == 0) == (orders == 0)).all()
    assert (orders == 0).mean() > 0.15  # point mass at zero
    assert orders.var() > 2 * orders.mean()  # overdispersed
    recency = df["days_since_last_order"].astype("float64")
    assert (recency[orders > 0] < 365).all()
    assert (recency[(orders == 0) & recency.notna()] >= 365).all()
    ratio = spend[orders > 0] / (orders[orders > 0] * df["avg_order_value"][orders > 0])
    assert ratio.between(0.4, 2.5).all()
    assert abs(np.log(ratio).mean()) < 0.02


def test_planted_correlations(df):
    assert df["price_sensitivity"].corr(df["discount_share"]) > 0.5
    assert df["price_sensitivity"].corr(np.log(df["income"])) < -0.3
    assert df["age"].corr(np.log(df["income"]), method="spearman") > 0.1
    assert df["orders_per_year"].corr(df["total_spend_12m"], method="spearman") > 0.7

    # Churn rises with recency and falls with satisfaction.
    recency = df["days_since_last_order"].astype("float64")
    churn = df["churned"]
    assert 0.15 < churn.mean() < 0.35
    assert churn[recency > 180].mean() > churn[recency <= 30].mean() + 0.15
    sat = df["satisfaction"]
    assert churn[sat == 1].mean() > churn[sat == 5].mean() + 0.3
    assert df["true_churn_probability"].corr(churn.astype(float)) > 0.3

    # Channel: young customers use the app, old ones the store.
    young = df["age"] < 30
    old = df["age"] >= 60
    chan = df["preferred_channel"]
    assert (chan[young] == "app").mean() > (chan[old] == "app").mean() + 0.3
    assert (chan[old] == "store").mean() > (chan[young] == "store").mean() + 0.3

    # Loyalty tiers follow spend; newsletters follow price sensitivity.
    spend_by_tier = df.groupby("loyalty_tier", observed=True)["total_spend_12m"].median()
    assert spend_by_tier.is_monotonic_increasing
    tier_share = df["loyalty_tier"].value_counts(normalize=True)
    assert (
        tier_share["bronze"]
        > tier_share["silver"]
        > tier_share["gold"]
        > tier_share["platinum"]
        > 0.02
    )
    nl = df["newsletter_opt_in"]
    ps = df["price_sensitivity"]
    assert nl[ps > 0.7].mean() > nl[ps < 0.3].mean() + 0.1


def test_personas_are_distinct(df):
    persona = df["true_persona"]
    shares = persona.value_counts(normalize=True)
    for p in WorldParams().personas:
        assert abs(shares[p.name] - p.weight) < 0.02, p.name
    by = df.groupby("true_persona", observed=True)
    income = by["income"].median()
    assert income.idxmax() == "premium_shopper"
    assert by["age"].mean().idxmin() == "young_digital"
    assert by["household_size"].mean().idxmax() == "loyal_family"
    assert by["price_sensitivity"].mean().idxmax() == "bargain_hunter"
    assert by["churned"].mean().idxmax() == "occasional_browser"
    assert by["returns_rate"].mean().idxmax() == "young_digital"
    assert (df.loc[persona == "premium_shopper", "region"] == "capital").mean() > 0.3


def test_planted_pii_is_unique_and_recognisable(df):
    assert set(DEMO_UNIQUE_PII_COLUMNS) <= set(DEMO_PII_COLUMNS)
    assert set(DEMO_PII_COLUMNS.values()) <= {k.value for k in PIIKind}
    for col in DEMO_UNIQUE_PII_COLUMNS:
        assert df[col].is_unique, col
        assert df[col].notna().all(), col
    number = df["customer_id"].str[1:]
    assert df["email"].str.fullmatch(r"[a-z]+\.[a-z]+\.\d{6}@demo\.synthcust\.example").all()
    assert (df["email"].str.split(".").str[2].str[:6] == number).all()
    assert df["phone"].str.fullmatch(r"\+1-555-\d{3}-\d{4}").all()
    assert df["street_address"].str.fullmatch(r"\d{1,4} [A-Z][A-Za-z' ]+").all()
    assert df["full_name"].str.fullmatch(r"[A-Z][A-Za-z'-]+( [A-Z]\.)? [A-Z][A-Za-z'-]+").all()
    assert df["postcode"].str.fullmatch(r"\d{5}").all()
    lead = df["postcode"].str[0].astype(int) // 2
    assert (lead == df["region"].cat.codes).all()


def test_first_names_match_gender(df):
    from faker.providers.person.en_US import Provider

    first = df["full_name"].str.split(" ").str[0]
    assert first[df["gender"] == "female"].isin(list(Provider.first_names_female)).all()
    assert first[df["gender"] == "male"].isin(list(Provider.first_names_male)).all()


def test_date_of_birth_consistent_with_age(df):
    dob = df["date_of_birth"]
    had_birthday = (dob.dt.month < AS_OF.month) | (
        (dob.dt.month == AS_OF.month) & (dob.dt.day <= AS_OF.day)
    )
    age = AS_OF.year - dob.dt.year - (~had_birthday).astype(int)
    assert (age == df["age"]).all()


def test_date_of_birth_consistent_with_age_for_other_as_of():
    params = dataclasses.replace(WorldParams(), as_of="2023-06-15")
    d = simulate_customers(3000, random_state=2, params=params)
    as_of = pd.Timestamp("2023-06-15")
    dob = d["date_of_birth"]
    had_birthday = (dob.dt.month < 6) | ((dob.dt.month == 6) & (dob.dt.day <= 15))
    age = as_of.year - dob.dt.year - (~had_birthday).astype(int)
    assert (age == d["age"]).all()
    assert d["signup_date"].max() < as_of


def test_params_override_changes_the_world():
    params = dataclasses.replace(
        WorldParams(), income_missing_rate=0.5, satisfaction_missing_rate=0.0
    )
    d = simulate_customers(4000, random_state=0, params=params, with_pii=False)
    assert 0.45 < d["income"].isna().mean() < 0.55
    assert d["satisfaction"].notna().all()


@pytest.mark.parametrize(
    "change",
    [
        {"income_missing_rate": 1.5},
        {"personas": ()},
        {"as_of": "not a date"},
        {"tier_thresholds": (10.0, 5.0, 20.0)},
    ],
)
def test_invalid_params_raise(change):
    with pytest.raises(DataError):
        dataclasses.replace(WorldParams(), **change)


@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_invalid_n_raises(n):
    with pytest.raises(DataError, match="n must be"):
        simulate_customers(n)


def test_single_row():
    d = simulate_customers(1, random_state=0)
    assert len(d) == 1
    assert d["customer_id"].iloc[0] == "C000001"


def test_docstring_examples_run():
    result = doctest.testmod(world, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
