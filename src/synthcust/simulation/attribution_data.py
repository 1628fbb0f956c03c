"""Journeys for attribution and the journey model: touch logs and path tables as flat arrays.

Two inputs are understood (:func:`load_journeys` detects which):

* a **touch log**: one row per touch with ``user_id, timestamp, channel, converted`` (a user
  converted if any of their rows says so; rows must be in time order within each user);
* a **path table**: ``path`` (``"a > b > c"``), conversions (``total_conversions`` or
  ``conversions``) and non-converting journeys (``total_null``, ``nulls`` or ``null``), as in
  the ChannelAttribution package.

>>> import pandas as pd
>>> d = load_journeys(pd.DataFrame({"path": ["a > b", "b"], "conversions": [3, 1],
...                                 "nulls": [5, 9]}))
>>> d.channels, d.lengths.tolist()
(('a', 'b'), [2, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthcust.exceptions import DataError

__all__ = ["JourneyData", "from_log", "from_paths", "load_journeys"]

_CONV_COLS = ("total_conversions", "conversions", "conversion", "conv")
_NULL_COLS = ("total_null", "total_nulls", "nulls", "null")


@dataclass(frozen=True)
class JourneyData:
    """Journeys in flat arrays: touches of journey ``j`` are ``codes[offsets[j]:offsets[j+1]]``.

    ``conversions``/``nulls`` are per journey (counts for path tables, 0/1 for logs);
    ``age`` (days between each touch and its journey's last touch) only exists for logs.
    """

    channels: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    age: np.ndarray | None = None
    source: str = "paths"

    @property
    def n_journeys(self) -> int:
        """Number of journeys."""
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Touches per journey."""
        return np.diff(self.offsets)

    @property
    def journey_of_touch(self) -> np.ndarray:
        """The journey of every touch."""
        return np.repeat(np.arange(self.n_journeys), self.lengths)

    @property
    def position(self) -> np.ndarray:
        """0-based position of each touch within its journey."""
        return np.arange(self.codes.size) - np.repeat(self.offsets[:-1], self.lengths)

    def channel_sets(self) -> np.ndarray:
        """Bitmask of the channels each journey touched (bit i = ``channels[i]``)."""
        bits = np.left_shift(np.int64(1), self.codes.astype(np.int64))
        return np.bitwise_or.reduceat(bits, self.offsets[:-1])

    def to_path_table(self) -> pd.DataFrame:
        """``path, total_conversions, total_null`` (one row per distinct path, sorted).

        Journeys are grouped by two 64-bit polynomial hashes of their channel sequence
        (vectorised; a collision needs ~2^64 journeys), and strings are built only for the
        distinct paths.
        """
        L = self.lengths
        pos = self.position
        sym = self.codes.astype(np.uint64) + np.uint64(1)
        keys = []
        for prime in (1_000_003, 998_244_353):
            pw = np.cumprod(np.full(int(L.max()), prime, dtype=np.uint64))
            keys.append(np.add.reduceat(sym * pw[pos], self.offsets[:-1]))
        key = np.stack([*keys, L.astype(np.uint64)], axis=1)
        _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
        inv = inv.ravel()
        names = np.asarray(self.channels, dtype=object)
        paths = [
            " > ".join(names[self.codes[self.offsets[j] : self.offsets[j + 1]]]) for j in first
        ]
        out = pd.DataFrame(
            {
                "path": paths,
                "total_conversions": np.bincount(inv, weights=self.conversions),
                "total_null": np.bincount(inv, weights=self.nulls),
            }
        )
        return out.sort_values("path", ignore_index=True)


def _pick(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    low = {str(c).lower(): c for c in df.columns}
    return next((low[n] for n in names if n in low), None)


def _codes(tokens: pd.Series, channels: Sequence[str] | None, where: str) -> tuple:
    if channels is not None:
        declared = [str(c) for c in channels]
        unknown = sorted(set(tokens.unique()) - set(declared))
        if unknown:
            raise DataError(
                f"{where}: unknown channel(s) {unknown[:10]} (declared channels: {declared}); "
                "fix the spelling or add them to the declared channels"
            )
        cats = declared
    else:
        cats = sorted(tokens.unique())
    return tuple(cats), pd.Categorical(tokens, categories=cats).codes.astype(np.int32)


def _counts(df: pd.DataFrame, col: str) -> np.ndarray:
    v = pd.to_numeric(df[col], errors="coerce")
    if v.isna().any():
        row = int(np.flatnonzero(v.isna().to_numpy())[0])
        raise DataError(f"column {col!r} is not a count in row {row} ({df[col].iloc[row]!r})")
    if (v < 0).any():
        row = int(np.flatnonzero((v < 0).to_numpy())[0])
        raise DataError(
            f"column {col!r} has negative counts (row {row}: {v.iloc[row]}); counts of "
            "journeys must be >= 0"
        )
    return v.to_numpy(dtype=float)


def from_paths(
    df: pd.DataFrame,
    *,
    path_col: str | None = None,
    conversions_col: str | None = None,
    nulls_col: str | None = None,
    sep: str = ">",
    channels: Sequence[str] | None = None,
) -> JourneyData:
    """Read a path table (see the module docstring); rows with the same path are summed."""
    pc = path_col or _pick(df, ("path", "paths"))
    cc = conversions_col or _pick(df, _CONV_COLS)
    nc = nulls_col or _pick(df, _NULL_COLS)
    missing = [w for w, c in (("path", pc), ("conversions", cc), ("nulls", nc)) if c is None]
    if missing or pc not in df or cc not in df or nc not in df:
        raise DataError(
            f"a path table needs a path column, a conversions column ({'/'.join(_CONV_COLS)}) "
            f"and a nulls column ({'/'.join(_NULL_COLS)}); found columns {list(df.columns)}"
        )
    if len(df) == 0:
        raise DataError("the path table has no rows")
    conv, null = _counts(df, cc), _counts(df, nc)
    path = df[pc].astype("string").fillna("").str.strip()
    empty = path == ""
    if empty.any():
        rows = np.flatnonzero(empty.to_numpy())[:5].tolist()
        raise DataError(f"column {pc!r} has empty paths (rows {rows}); drop or fill those rows")
    g = pd.DataFrame({"p": path, "c": conv, "n": null}).groupby("p", sort=True).sum()
    g = g[(g["c"] + g["n"]) > 0]
    if g.empty:
        raise DataError("every path has zero journeys (conversions + nulls = 0)")
    tok = g.index.to_series().str.split(sep, regex=False)
    lengths = tok.str.len().to_numpy()
    flat = tok.explode().str.strip()
    if (flat == "").any():
        bad = flat[flat == ""].index[0]
        raise DataError(
            f"path {bad!r} has an empty step (two separators {sep!r} in a row or a trailing "
            "one); fix the path"
        )
    chans, codes = _codes(flat.astype(str), channels, f"column {pc!r}")
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return JourneyData(chans, codes, offsets, g["c"].to_numpy(), g["n"].to_numpy())


def _truthy(s: pd.Series, col: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(s):
        if s.isna().any():
            raise DataError(f"column {col!r} has missing values; use 1/0 or true/false")
        return s.to_numpy() != 0
    low = s.astype("string").str.strip().str.lower()
    yes = low.isin(["1", "true", "yes", "y", "t"])
    ok = yes | low.isin(["0", "false", "no", "n", "f"])
    if not ok.fillna(False).all():
        bad = s[~ok.fillna(False)].iloc[0]
        raise DataError(f"column {col!r} has {bad!r}; use 1/0 or true/false")
    return yes.to_numpy(dtype=bool)


def from_log(
    df: pd.DataFrame,
    *,
    user_col: str = "user_id",
    time_col: str = "timestamp",
    channel_col: str = "channel",
    converted_col: str = "converted",
    channels: Sequence[str] | None = None,
    sort: bool = False,
) -> JourneyData:
    """Read a user-level touch log (see the module docstring).

    Timestamps must not go backwards within a user in row order (a sign of a mixed-up log);
    pass ``sort=True`` to sort by time instead when row order carries no meaning.
    """
    miss = [c for c in (user_col, time_col, channel_col, converted_col) if c not in df.columns]
    if miss:
        raise DataError(
            f"a touch log needs columns {[user_col, time_col, channel_col, converted_col]}; "
            f"missing {miss} (found {list(df.columns)})"
        )
    if len(df) == 0:
        raise DataError("the touch log has no rows")
    ts = df[time_col]
    if not pd.api.types.is_datetime64_any_dtype(ts):
        try:
            ts = pd.to_datetime(ts, format="mixed")
        except (ValueError, TypeError) as e:
            raise DataError(f"column {time_col!r} is not a timestamp ({e})") from e
    if ts.isna().any():
        row = int(np.flatnonzero(ts.isna().to_numpy())[0])
        raise DataError(f"column {time_col!r} is missing in row {row}; fill or drop it")
    ch = df[channel_col]
    if ch.isna().any():
        row = int(np.flatnonzero(ch.isna().to_numpy())[0])
        raise DataError(f"column {channel_col!r} is missing in row {row}; fill or drop it")
    ch = ch.astype(str).str.strip()
    if (ch == "").any():
        row = int(np.flatnonzero((ch == "").to_numpy())[0])
        raise DataError(f"column {channel_col!r} is empty in row {row}; fill or drop it")
    users = df[user_col]
    uc, uniq = pd.factorize(users, sort=False)
    if (uc < 0).any():
        row = int(np.flatnonzero(uc < 0)[0])
        raise DataError(f"column {user_col!r} is missing in row {row}")
    t = ts.to_numpy().astype("datetime64[ns]").astype(np.int64)
    order = np.lexsort((t, uc)) if sort else np.argsort(uc, kind="stable")
    uo, to = uc[order], t[order]
    back = (uo[1:] == uo[:-1]) & (to[1:] < to[:-1])
    if back.any():
        i = int(np.flatnonzero(back)[0])
        raise DataError(
            f"timestamps go backwards within user {uniq[uo[i + 1]]!r} (data row "
            f"{int(order[i + 1])} is earlier than row {int(order[i])}, counting from 0); sort "
            "the log by time within each user "
            "or pass sort=True / --sort"
        )
    chans, codes = _codes(ch, channels, f"column {channel_col!r}")
    conv = _truthy(df[converted_col], converted_col)
    n_users = len(uniq)
    yes = np.bincount(uc, weights=conv.astype(float), minlength=n_users) > 0
    lengths = np.bincount(uc, minlength=n_users)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    last = to[offsets[1:] - 1]
    age = (np.repeat(last, lengths) - to) / 86_400e9
    return JourneyData(
        chans, codes[order], offsets, yes.astype(float), (~yes).astype(float), age, "log"
    )


def load_journeys(
    data: pd.DataFrame | JourneyData, *, channels: Sequence[str] | None = None, **kw
) -> JourneyData:
    """A :class:`JourneyData` from a touch log or a path table, detected from the columns."""
    if isinstance(data, JourneyData):
        return data
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"expected a DataFrame (touch log or path table), got {type(data)}")
    cols = {str(c).lower() for c in data.columns}
    if "path" in cols or "paths" in cols:
        return from_paths(data, channels=channels, **kw)
    if {"user_id", "timestamp", "channel"} <= cols or "user_col" in kw:
        return from_log(data, channels=channels, **kw)
    raise DataError(
        "cannot tell what this table is: a touch log needs columns user_id, timestamp, channel, "
        "converted; a path table needs path, total_conversions (or conversions) and total_null "
        f"(or nulls). Found {list(data.columns)}"
    )
