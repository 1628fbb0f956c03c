from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from synthcust.synthesizers.checks import mixed_frame as checks_mixed_frame

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
    return checks_mixed_frame(600, seed=0)
