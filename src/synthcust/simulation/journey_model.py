"""A generative model of customer journeys: a variable-order Markov chain over touchpoints.

A journey is a sequence of channel symbols ended by one of two absorbing symbols, *conversion*
or *null*. The next symbol depends on the last ``k`` channels (journey start padded). Orders
are blended by interpolated Dirichlet smoothing, the variable-order part: a context seen often
speaks for itself, a rare one borrows from its shorter suffix,

``p_k(x | c) = (n_k(c, x) + beta * p_{k-1}(x | suffix(c))) / (n_k(c) + beta)``,

down to an add-one unigram. The maximum order ``k`` is given or chosen by held-out
log-likelihood: the journeys are split by binomial thinning of each path's counts (a fraction
``holdout`` goes to validation), every order up to ``max_order`` is fitted on the rest, the
best held-out average log-likelihood per journey wins, and the model is refitted on all data.

:func:`fidelity` compares real and synthetic journeys: total-variation distance of the path
length distributions, a frequency-weighted total-variation distance between first-order
transition matrices (start -> channels -> conversion/null), and conversion rate by path length.

The model saves through the one model file format (kind ``"journey_markov"``, never pickle);
the JSON files of the first format (``"format": "synthcust.journey_markov"``) still load.

Examples
--------
>>> import pandas as pd
>>> real = pd.DataFrame({"path": ["a > b", "b", "a > a > b", "c"],
...                      "total_conversions": [30, 5, 10, 1], "total_null": [20, 60, 10, 40]})
>>> m = JourneyMarkovModel(order=1).fit(real)
>>> synth = m.sample(2_000, random_state=0)
>>> sorted(synth.columns)
['path', 'total_conversions', 'total_null']
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcust._utils.persist import load_bundle, save_bundle
from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError, ModelFileError, NotFittedError
from synthcust.simulation.attribution_data import JourneyData, load_journeys

__all__ = ["JourneyMarkovModel", "fidelity"]

#: the kind of the one model file format that journey models are saved as
BUNDLE_KIND = "journey_markov"
_FORMAT = "synthcust.journey_markov"  # the dict form's tag (and the first format's files)
_VERSION = 1


def _contexts(codes: np.ndarray, pos: np.ndarray, k: int, C: int) -> np.ndarray:
    """Context key of order ``k`` for symbols at positions ``pos`` of flat array ``codes``
    (``pos`` is the index within its journey; earlier-than-start is the START symbol C)."""
    key = np.zeros(pos.size, np.int64)
    base = C + 1
    idx = np.arange(pos.size)
    for lag in range(1, k + 1):
        sym = np.full(pos.size, C, np.int64)
        ok = pos >= lag
        sym[ok] = codes[idx[ok] - lag]
        key += sym * base ** (lag - 1)
    return key


class JourneyMarkovModel:
    """Variable-order Markov chain over touchpoints with conversion/null absorbing states.

    Parameters
    ----------
    order : int, optional
        Maximum context length; None chooses it in ``1..max_order`` by held-out likelihood.
    max_order : int
        Largest order tried when ``order`` is None.
    beta : float
        Strength of the back-off to the shorter context (Dirichlet smoothing).
    holdout : float
        Share of journeys held out to choose the order.
    max_length : int
        Longest journey generated (a journey reaching it ends, converting or not with the
        model's odds).
    random_state : int, optional
        Seed of the held-out split.
    """

    def __init__(
        self,
        order: int | None = None,
        max_order: int = 6,
        beta: float = 2.0,
        holdout: float = 0.2,
        max_length: int = 100,
        random_state: int | None = 0,
    ):
        self.order = order
        self.max_order = max_order
        self.beta = beta
        self.holdout = holdout
        self.max_length = max_length
        self.random_state = random_state

    # ----------------------------------------------------------------- fitting
    def _count(self, d: JourneyData, K: int) -> list[tuple[np.ndarray, np.ndarray]]:
        C = len(d.channels)
        V = C + 2  # channels, CONV=C, NULL=C+1
        j = d.journey_of_touch
        pos = d.position
        w_touch = (d.conversions + d.nulls)[j]
        # terminal emissions sit at position len(journey); their context is the journey's end
        ends = d.offsets[1:]
        tables = []
        for k in range(K + 1):
            ck = _contexts(d.codes, pos, k, C)
            # context of the terminal symbol: the last k channels of each journey
            cend = _terminal_contexts(d, k)
            keys = np.concatenate([ck, cend, cend])
            sym = np.concatenate(
                [d.codes, np.full(ends.size, C), np.full(ends.size, C + 1)]
            ).astype(np.int64)
            w = np.concatenate([w_touch, d.conversions, d.nulls])
            u, inv = np.unique(keys, return_inverse=True)
            counts = np.bincount(inv * V + sym, weights=w, minlength=u.size * V).reshape(-1, V)
            tables.append((u, counts))
        return tables

    def _probs(self, ctx_keys: list[np.ndarray]) -> np.ndarray:
        """Smoothed next-symbol distributions for contexts given per order (rows)."""
        tables = self.tables_
        V = tables[0][1].shape[1]
        uni = tables[0][1].sum(axis=0)
        p = np.broadcast_to((uni + 1.0) / (uni.sum() + V), (ctx_keys[0].size, V)).copy()
        for k in range(1, len(tables)):
            keys, counts = tables[k]
            ck = ctx_keys[k]
            pos = np.clip(np.searchsorted(keys, ck), 0, len(keys) - 1)
            hit = keys[pos] == ck
            n = np.zeros((ck.size, V))
            n[hit] = counts[pos[hit]]
            p = (n + self.beta * p) / (n.sum(axis=1, keepdims=True) + self.beta)
        return p

    def _loglik(self, d: JourneyData) -> float:
        """Average log-likelihood per journey of ``d`` (weighted by its counts)."""
        C = len(self.channels_)
        K = len(self.tables_) - 1
        pos = d.position
        ctx = [_contexts(d.codes, pos, k, C) for k in range(K + 1)]
        cend = [_terminal_contexts(d, k) for k in range(K + 1)]
        p_touch = self._probs(ctx)[np.arange(d.codes.size), d.codes]
        p_end = self._probs(cend)
        w = d.conversions + d.nulls
        ll = (np.log(p_touch) * w[d.journey_of_touch]).sum()
        ll += (np.log(p_end[:, C]) * d.conversions).sum()
        ll += (np.log(p_end[:, C + 1]) * d.nulls).sum()
        return float(ll / w.sum())

    def fit(self, data: pd.DataFrame | JourneyData) -> JourneyMarkovModel:
        """Fit on a path table or a touch log.

        Parameters
        ----------
        data
            A path table, a touch log or :class:`~synthcust.simulation.attribution.JourneyData`
            (see :func:`~synthcust.simulation.attribution.load_journeys`).

        Returns
        -------
        JourneyMarkovModel
            ``self``, fitted (``channels_``, ``order_``, ``tables_``, ``heldout_loglik_``,
            ``n_journeys_``).
        """
        d = load_journeys(data)
        if self.order is not None and self.order < 0:
            raise DataError(f"order must be >= 0 (got {self.order})")
        self.channels_ = tuple(d.channels)
        self.heldout_loglik_: dict[int, float] = {}
        if self.order is None:
            rng = resolve_rng(self.random_state)
            hc = rng.binomial(d.conversions.astype(np.int64), self.holdout)
            hn = rng.binomial(d.nulls.astype(np.int64), self.holdout)
            train = _reweight(d, d.conversions - hc, d.nulls - hn)
            test = _reweight(d, hc.astype(float), hn.astype(float))
            if train is None or test is None:
                raise DataError("too few journeys to hold some out; pass order= explicitly")
            full = self._count(train, self.max_order)
            for k in range(self.max_order + 1):
                self.tables_ = full[: k + 1]
                self.heldout_loglik_[k] = self._loglik(test)
            self.order_ = max(self.heldout_loglik_, key=self.heldout_loglik_.get)
        else:
            self.order_ = int(self.order)
        self.tables_ = self._count(d, self.order_)
        self.n_journeys_ = float((d.conversions + d.nulls).sum())
        return self

    def _check(self) -> None:
        if not hasattr(self, "tables_"):
            raise NotFittedError("this JourneyMarkovModel is not fitted; call fit() first")

    # ----------------------------------------------------------------- sampling
    def sample_journeys(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        """``n`` journeys, one row each: ``path`` ("a > b") and ``converted`` (bool)."""
        self._check()
        if n < 1:
            raise DataError(f"n must be >= 1 (got {n})")
        rng = resolve_rng(random_state)
        C, K = len(self.channels_), len(self.tables_) - 1
        base = C + 1
        hist = np.full((n, max(K, 1)), C, np.int64)  # last K symbols, most recent first
        out = np.full((n, self.max_length), -1, np.int64)
        conv = np.zeros(n, bool)
        active = np.arange(n)
        for t in range(self.max_length + 1):
            if active.size == 0:
                break
            h = hist[active]
            ctx = [np.zeros(active.size, np.int64)]
            for k in range(1, K + 1):
                ctx.append((h[:, :k] * base ** np.arange(k)).sum(axis=1))
            p = self._probs(ctx)
            if t == 0:  # a journey has at least one touch (paths are never empty)
                p[:, C:] = 0.0
            if t == self.max_length:  # forced end: conversion odds of the context
                p[:, :C] = 0.0
                tiny = p[:, C:].sum(axis=1) < 1e-200  # both ends underflowed: unigram odds
                p[tiny, C:] = self.tables_[0][1][0, C:] + 1.0
            cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
            sym = (rng.random(active.size)[:, None] > cum).sum(axis=1)
            sym = np.minimum(sym, C + 1)
            done = sym >= C
            conv[active[done]] = sym[done] == C
            keep = active[~done]
            if keep.size == 0:
                break
            out[keep, t] = sym[~done]
            hist[keep, 1:] = hist[keep, :-1]
            hist[keep, 0] = sym[~done]
            active = keep
        lengths = (out >= 0).sum(axis=1)
        ok = lengths > 0  # always true (t == 0 emits a channel); kept as a guard
        names = np.asarray(self.channels_, dtype=object)
        flat = names[out[ok][out[ok] >= 0]]
        jid = np.repeat(np.arange(int(ok.sum())), lengths[ok])
        paths = pd.Series(flat).groupby(jid).agg(" > ".join)
        return pd.DataFrame({"path": paths.to_numpy(), "converted": conv[ok]})

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        """``n`` synthetic journeys as a path table ``path, total_conversions, total_null``."""
        j = self.sample_journeys(n, random_state)
        g = j.groupby("path", sort=True)["converted"].agg(["sum", "count"]).reset_index()
        return pd.DataFrame(
            {
                "path": g["path"],
                "total_conversions": g["sum"].astype(int),
                "total_null": (g["count"] - g["sum"]).astype(int),
            }
        )

    # ----------------------------------------------------------------- persistence
    def to_dict(self) -> dict:
        """The fitted model as a JSON-ready dict (:meth:`from_dict` reads it back)."""
        self._check()
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "params": self.get_params(),
            "channels": list(self.channels_),
            "order_": self.order_,
            "heldout_loglik_": {str(k): v for k, v in self.heldout_loglik_.items()},
            "n_journeys_": self.n_journeys_,
            "tables": [
                {"keys": keys.tolist(), "counts": counts.tolist()} for keys, counts in self.tables_
            ],
        }

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments of this model (what :meth:`load` restores)."""
        return {k: getattr(self, k) for k in _PARAMS}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model as a synthcust model file (kind ``"journey_markov"``).

        Parameters
        ----------
        path
            Destination file (written atomically).

        Returns
        -------
        Path
            The path written.
        """
        self._check()
        meta = {
            "params": self.get_params(),
            "channels": list(self.channels_),
            "order_": self.order_,
            "heldout_loglik_": {str(k): v for k, v in self.heldout_loglik_.items()},
            "n_journeys_": self.n_journeys_,
            "n_tables": len(self.tables_),
        }
        arrays: dict[str, np.ndarray] = {}
        for k, (keys, counts) in enumerate(self.tables_):
            arrays[f"keys{k}"], arrays[f"counts{k}"] = keys, counts
        return save_bundle(path, meta, arrays, kind=BUNDLE_KIND)

    @classmethod
    def from_dict(cls, obj: dict) -> JourneyMarkovModel:
        """A fitted model from :meth:`to_dict`'s form (or a first-format JSON file's content)."""
        if not isinstance(obj, dict) or obj.get("format") != _FORMAT:
            raise ModelFileError("not a synthcust journey model (format field missing or wrong)")
        if obj.get("version", 0) > _VERSION:
            raise ModelFileError(
                f"journey model version {obj.get('version')} is newer than this synthcust "
                f"supports ({_VERSION}); upgrade synthcust"
            )
        try:
            V = len(obj["channels"]) + 2
            tables = [
                (np.asarray(t["keys"], np.int64), np.asarray(t["counts"], float).reshape(-1, V))
                for t in obj["tables"]
            ]
            return cls._restore(obj, tables)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(f"journey model file is corrupt ({e!r})") from e

    @classmethod
    def _restore(
        cls, meta: dict, tables: list[tuple[np.ndarray, np.ndarray]]
    ) -> JourneyMarkovModel:
        m = cls(**meta["params"])
        m.channels_ = tuple(meta["channels"])
        m.order_ = int(meta["order_"])
        m.heldout_loglik_ = {int(k): float(v) for k, v in meta["heldout_loglik_"].items()}
        m.n_journeys_ = float(meta["n_journeys_"])
        m.tables_ = tables
        return m

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> JourneyMarkovModel:
        """Read a model written by :meth:`save`.

        The JSON files written before the one model format (``"format":
        "synthcust.journey_markov"``) still load; re-save them to convert.

        Parameters
        ----------
        path
            The model file.

        Returns
        -------
        JourneyMarkovModel
            The fitted model.
        """
        p = Path(path)
        if p.is_file() and not zipfile.is_zipfile(p):
            try:
                obj = json.loads(p.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise ModelFileError(f"journey model file {str(p)!r} is not JSON ({e})") from e
            return cls.from_dict(obj)
        if not p.exists():
            raise ModelFileError(
                f"journey model file {str(p)!r} does not exist; create it with "
                "`synthcust journeys fit`"
            )
        meta, arrays = load_bundle(p, kind=BUNDLE_KIND)
        try:
            V = len(meta["channels"]) + 2
            tables = [
                (
                    arrays[f"keys{k}"].astype(np.int64),
                    arrays[f"counts{k}"].astype(float).reshape(-1, V),
                )
                for k in range(int(meta["n_tables"]))
            ]
            return cls._restore(meta, tables)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(f"journey model file is corrupt ({e!r})") from e


_PARAMS = ("order", "max_order", "beta", "holdout", "max_length", "random_state")


def _terminal_contexts(d: JourneyData, k: int) -> np.ndarray:
    C = len(d.channels)
    ends = d.offsets[1:]
    lengths = d.lengths
    key = np.zeros(ends.size, np.int64)
    for lag in range(1, k + 1):
        sym = np.full(ends.size, C, np.int64)
        ok = lengths >= lag
        sym[ok] = d.codes[ends[ok] - lag]
        key += sym * (C + 1) ** (lag - 1)
    return key


def _reweight(d: JourneyData, conv: np.ndarray, null: np.ndarray) -> JourneyData | None:
    keep = (conv + null) > 0
    if not keep.any():
        return None
    lengths = d.lengths[keep]
    touch_keep = np.repeat(keep, d.lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return JourneyData(
        d.channels, d.codes[touch_keep], offsets, conv[keep], null[keep], None, d.source
    )


# --------------------------------------------------------------------------- fidelity


def _length_dist(d: JourneyData, cap: int) -> pd.Series:
    w = d.conversions + d.nulls
    L = np.minimum(d.lengths, cap)
    s = pd.Series(np.bincount(L, weights=w, minlength=cap + 1)[1:], index=range(1, cap + 1))
    return s / s.sum()


def _transitions(d: JourneyData, channels: list[str]) -> pd.DataFrame:
    """First-order transition counts: rows start + channels, columns channels + conv + null."""
    C = len(channels)
    remap = np.array([channels.index(c) for c in d.channels])
    codes = remap[d.codes]
    j = d.journey_of_touch
    w = (d.conversions + d.nulls)[j]
    pos = d.position
    prev = np.where(pos == 0, C, np.r_[0, codes[:-1]])
    M = np.zeros((C + 1, C + 2))
    np.add.at(M, (prev, codes), w)
    last = codes[d.offsets[1:] - 1]
    np.add.at(M, (last, np.full(last.size, C)), d.conversions)
    np.add.at(M, (last, np.full(last.size, C + 1)), d.nulls)
    return pd.DataFrame(M, index=[*channels, "(start)"], columns=[*channels, "(conv)", "(null)"])


def _rate_by_length(d: JourneyData, cap: int) -> pd.Series:
    L = np.minimum(d.lengths, cap)
    c = np.bincount(L, weights=d.conversions, minlength=cap + 1)[1:]
    n = np.bincount(L, weights=d.conversions + d.nulls, minlength=cap + 1)[1:]
    with np.errstate(invalid="ignore"):
        return pd.Series(c / n, index=range(1, cap + 1))


def fidelity(
    real: pd.DataFrame | JourneyData, synthetic: pd.DataFrame | JourneyData, cap: int = 10
) -> dict:
    """Compare synthetic journeys to real ones.

    Returns a dict with ``length_tv`` (total variation between path-length distributions,
    lengths >= ``cap`` pooled), ``transition_tv`` (per-state total variation between the
    first-order transition rows, weighted by the real state's frequency), ``conv_rate_mae``
    (mean absolute difference of conversion rate by path length, weighted by real journeys),
    ``conversion_rate`` (real, synthetic), ``novel_path_share`` (share of synthetic journeys
    whose exact path never occurs in the real data: 0 means the model only replays real paths)
    and the tables ``by_length`` (DataFrame) behind them.
    """
    r, s = load_journeys(real), load_journeys(synthetic)
    unknown = sorted(set(s.channels) - set(r.channels))
    if unknown:
        raise DataError(f"synthetic journeys use channels the real ones never do: {unknown}")
    chans = list(r.channels)
    lr, ls = _length_dist(r, cap), _length_dist(s, cap)
    tr, ts = _transitions(r, chans), _transitions(s, chans)
    pr = tr.div(tr.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    ps = ts.div(ts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    wr = tr.sum(axis=1) / tr.to_numpy().sum()
    row_tv = 0.5 * (pr - ps).abs().sum(axis=1)
    rr, rs = _rate_by_length(r, cap), _rate_by_length(s, cap)
    by = pd.DataFrame(
        {
            "real_share": lr,
            "synthetic_share": ls,
            "real_conv_rate": rr,
            "synthetic_conv_rate": rs,
        }
    )
    by.index.name = f"path length (>= {cap} pooled)"
    ok = rr.notna() & rs.notna()
    cr = lambda d: float(d.conversions.sum() / (d.conversions + d.nulls).sum())  # noqa: E731
    real_paths = set(r.to_path_table()["path"])
    sp = s.to_path_table()
    sw = sp["total_conversions"] + sp["total_null"]
    novel = float(sw[~sp["path"].isin(real_paths)].sum() / sw.sum())
    return {
        "novel_path_share": novel,
        "length_tv": float(0.5 * (lr - ls).abs().sum()),
        "transition_tv": float((row_tv * wr).sum()),
        "conv_rate_mae": float(((rr - rs).abs()[ok] * lr[ok]).sum() / max(lr[ok].sum(), 1e-12)),
        "conversion_rate": {"real": cr(r), "synthetic": cr(s)},
        "by_length": by,
    }
