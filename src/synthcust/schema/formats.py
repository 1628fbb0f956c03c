"""The data's own formats: a numeric column's decimals, a datetime column's resolution.

Samples keep the real columns' look: money with two decimals comes out with two decimals,
whole numbers stay whole, a date-only column never gets a time of day and a timestamp written
to the minute never gets seconds. The decisions are vectorised and made on a sample of the
values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The most decimals learned; a column needing more is left unrounded (``None``).
MAX_DECIMALS = 6
#: Values looked at when learning a column's decimals.
DECIMALS_SAMPLE = 10_000


def learn_decimals(values: np.ndarray, *, max_decimals: int = MAX_DECIMALS) -> int | None:
    """The number of decimals the real ``values`` are written with, or ``None``.

    Each value's decimals are those of its shortest written form, robust to float noise
    (``0.1 + 0.2`` counts as one decimal): the least ``d`` with ``round(v, d) == v`` up to a
    relative error of 1e-12. The column's decimals are the most any value needs; a column
    needing more than ``max_decimals`` (a measurement, a probability) gives ``None`` — not
    rounded. Up to :data:`DECIMALS_SAMPLE` non-missing values are looked at (a fixed-seed
    sample on longer columns).

    >>> learn_decimals(np.array([12.5, 3.25, 0.1 + 0.2, np.nan]))
    2
    >>> learn_decimals(np.array([3.0, 40.0]))
    0
    >>> learn_decimals(np.array([65.66592845122597])) is None
    True
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return None
    if len(x) > DECIMALS_SAMPLE:
        x = np.random.default_rng(0).choice(x, DECIMALS_SAMPLE, replace=False)
    tol = 1e-12 * np.maximum(1.0, np.abs(x))
    need = np.full(len(x), max_decimals + 1)
    for d in range(max_decimals, -1, -1):  # loop over decimals, vectorised over values
        ok = np.abs(np.round(x, d) - x) <= tol
        need[ok] = d
    most = int(need.max())
    return None if most > max_decimals else most


#: Datetime resolutions, coarsest first, with their length in seconds and pandas frequency.
RESOLUTIONS: dict[str, tuple[int, str]] = {
    "day": (86400, "D"),
    "hour": (3600, "h"),
    "minute": (60, "min"),
    "second": (1, "s"),
}


def learn_resolution(values: pd.Series) -> str | None:
    """The coarsest resolution every value of a datetime column sits on, or ``None``.

    ``"day"`` (dates: every value at midnight), ``"hour"``, ``"minute"`` or ``"second"`` (also
    for finer timestamps; samples are drawn to the second). Time-zone-aware values are judged
    on their local wall-clock time, so local dates stay dates. Up to
    :data:`DECIMALS_SAMPLE` values are looked at; ``None`` when none is present.

    >>> learn_resolution(pd.Series(pd.to_datetime(["2024-01-05", "2024-02-01"])))
    'day'
    >>> learn_resolution(pd.Series(pd.to_datetime(["2024-01-05 10:30", "2024-01-06 08:01"])))
    'minute'
    """
    s = values.dropna()
    if not pd.api.types.is_datetime64_any_dtype(s.dtype) or len(s) == 0:
        return None
    if len(s) > DECIMALS_SAMPLE:
        s = s.sample(DECIMALS_SAMPLE, random_state=0)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)  # wall-clock time
    ns = s.to_numpy(dtype="datetime64[ns]").astype("int64")
    for name, (secs, _freq) in RESOLUTIONS.items():
        if np.all(ns % (secs * 10**9) == 0):
            return name
    return "second"
