from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path inside ../shared/data, or skip the test with a clear reason when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the shared real datasets, beside the repo); not present here")
    return p


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    a = shared_data("adult", "adult_train.csv.gz")
    b = shared_data("adult", "adult_test.csv.gz")
    return pd.concat([pd.read_csv(a), pd.read_csv(b)], ignore_index=True)


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    """A small mixed-type customer table with missing values, spikes and dates."""
    rng = np.random.default_rng(0)
    n = 600
    age = rng.integers(18, 80, n)
    plan = rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1])
    spend = np.where(
        rng.random(n) < 0.4, 0.0, np.round(rng.lognormal(4 + (plan == "pro"), 0.5, n), 2)
    )
    income = rng.lognormal(10 + 0.01 * age, 0.3, n)
    income[rng.random(n) < 0.1] = np.nan
    signup = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    region = rng.choice(["north", "south", "?"], n, p=[0.5, 0.4, 0.1])
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "age": age,
            "plan": plan,
            "spend": spend,
            "income": income,
            "signup": signup,
            "active": rng.random(n) < 0.7,
            "region": region,
            "country": "NL",
        }
    )
