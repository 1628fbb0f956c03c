"""Parent-child synthesizer: customers -> orders (-> order lines) with referential integrity.

The method (no model per parent row, unlike SDV's HMA):

1. **Per-parent aggregates.** For every relationship ``parent <- child`` the child rows are
   summarised per parent and joined onto the parent table as ordinary columns: the number of
   children ``__n.<child>``, when the child has an order column (a datetime) the first
   timestamp ``__first.<child>`` and the reach ``__reach.<child>`` (the share of the time
   from the first child to the end of the data that the parent's children span, in [0, 1]:
   a parametrisation that keeps every synthetic history inside the observation window), and
   the mean of up to :data:`MAX_MEANS` numeric child columns ``__mean.<child>.<col>``.
   Aggregates are computed bottom-up, so an order carries ``__n.lines`` and a customer carries
   the mean of it.
2. **Parent model.** The root table plus its aggregates is learned by any synthcust
   single-table synthesizer (default the Gaussian copula). The number of children is a column of
   it, so it is conditional on everything else about the parent (country, spend...).
3. **Child models: one sequence model per relationship, not per parent.** Two Gaussian
   copulas are fitted on child rows joined with their parent's features (``p.<col>``): one for
   the first child, one for later children, which also sees the previous child's values
   (``lag.<col>``), its position ``__pos`` and models the gap to the previous child ``__gap``
   (seconds). Sampling draws the child columns from the copula's Gaussian conditional given the
   parent's and the previous child's values (observed columns enter through the same randomised
   probability integral transform used at fit time), for all parents at once, step by step over
   child position: ``max(children per parent)`` vectorised steps, no Python loop per parent.
4. **Times.** A child's timestamp is its parent's ``__first`` plus the cumulated gaps, rescaled
   so that the last child lands at ``first + reach * (t_end - first)`` (the parent's sampled
   recency), ``t_end`` being the last timestamp of the training data: synthetic histories are
   censored where the real ones are.
5. **Keys.** New synthetic keys for every table (numbering continues after the real maximum,
   so a synthetic key never equals a real one); every child points to an existing synthetic
   parent by construction.

Relationships are declared (:class:`Relationship`, JSON, ``child.col=parent.col``) or detected
when obvious (:func:`detect_relationships`). Bad input (orphans, duplicate parent keys, a table
with no parent, cycles) raises :class:`~synthcust.exceptions.DataError` naming the table,
column and values.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from synthcust._utils.persist import load_bundle, save_bundle
from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError, ModelError, ModelFileError, NotFittedError
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Column, Kind, Schema
from synthcust.schema.relational import (
    RelationalSpec,
    Relationship,
    check_keys,
    check_spec,
    detect_relationships,
    top_down,
)
from synthcust.synthesizers.base import REGISTRY, BaseSynthesizer
from synthcust.synthesizers.copula import GaussianCopulaSynthesizer
from synthcust.synthesizers.multi_table.conditional import ConditionalCopula, code_map
from synthcust.synthesizers.multi_table.tables import (
    KeyStyle,
    TableInfo,
    add_child_aggregates,
    time_step,
    to_seconds,
)
from synthcust.transform.codec import Encoded

__all__ = [
    "ConditionalCopula",
    "RelationalSpec",
    "RelationalSynthesizer",
    "Relationship",
    "check_keys",
    "check_spec",
    "detect_relationships",
]

_KIND = "relational"


class RelationalSynthesizer:
    """Parent-child synthesizer over a tree of tables (customers -> orders -> lines).

    Parameters
    ----------
    relationships: declared relationships (:class:`Relationship`, or text
        ``"orders.customer_id=customers.customer_id"``); ``None`` = :func:`detect_relationships`.
    primary_keys: key column per table (default: the column children reference).
    order_by: datetime column ordering each child table within its parent (default: the first
        datetime column of the table, else the rows' order).
    parent_synthesizer: registry name of the root table's model (default ``"copula"``).
    parent_params: extra arguments for it.
    orphans: ``"error"`` (default) or ``"drop"`` child rows whose parent is unknown.
    random_state: seed for fitting and the default for sampling.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> cust = pd.DataFrame({"cid": range(1, 201), "tier": rng.choice(["a", "b"], 200)})
    >>> n = rng.integers(1, 5, 200)
    >>> days = pd.to_timedelta(rng.integers(0, 300, n.sum()), "D")
    >>> orders = pd.DataFrame({"oid": range(n.sum()), "cid": np.repeat(cust.cid, n),
    ...     "when": pd.Timestamp("2024-01-01") + days,
    ...     "amount": rng.gamma(2, 20, n.sum()).round(2)})
    >>> m = RelationalSynthesizer(random_state=0).fit({"customers": cust, "orders": orders})
    >>> out = m.sample(50, random_state=1)
    >>> bool(out["orders"]["cid"].isin(out["customers"]["cid"]).all())
    True
    """

    name = _KIND

    def __init__(
        self,
        relationships: Sequence[Relationship | str] | None = None,
        primary_keys: Mapping[str, str] | None = None,
        order_by: Mapping[str, str | None] | None = None,
        parent_synthesizer: str = "copula",
        parent_params: Mapping[str, Any] | None = None,
        orphans: str = "error",
        random_state: int | None = None,
    ):
        self.relationships = relationships
        self.primary_keys = primary_keys
        self.order_by = order_by
        self.parent_synthesizer = parent_synthesizer
        self.parent_params = parent_params
        self.orphans = orphans
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        tables: Mapping[str, pd.DataFrame],
        schemas: Mapping[str, Schema] | None = None,
    ) -> Self:
        """Learn ``tables`` ({name: frame}); ``schemas`` per table are inferred when omitted."""
        if not isinstance(tables, Mapping) or len(tables) < 2:
            raise DataError(
                "a relational model needs at least two tables, e.g. "
                "{'customers': customers, 'orders': orders}"
            )
        for t, df in tables.items():
            if not isinstance(df, pd.DataFrame):
                raise DataError(f"table {t!r} is a {type(df).__name__}, not a pandas DataFrame")
            if len(df) < 2:
                raise DataError(f"table {t!r} has {len(df)} row(s); at least 2 are needed")
        if self.parent_synthesizer not in REGISTRY:
            raise ModelError(
                f"unknown parent synthesizer {self.parent_synthesizer!r}; "
                f"available: {sorted(REGISTRY)}"
            )
        rels = (
            detect_relationships(tables)
            if self.relationships is None
            else [Relationship.parse(r) if isinstance(r, str) else r for r in self.relationships]
        )
        schemas = dict(schemas or {})
        for t, df in tables.items():
            if t not in schemas:
                schemas[t] = infer_schema(df, detect_pii=False)
        pks = {r.parent: r.parent_key for r in rels}
        pks.update(dict(self.primary_keys or {}))
        order_by: dict[str, str | None] = {}
        for r in rels:
            declared = (self.order_by or {}).get(r.child, "")
            if declared != "":
                order_by[r.child] = declared
            else:
                dts = [c.name for c in schemas[r.child].of_kind(Kind.DATETIME)]
                order_by[r.child] = dts[0] if dts else None
        spec = RelationalSpec(tuple(rels), pks, order_by)
        root = check_spec(spec, tables)
        for t, ob in order_by.items():
            if ob is not None and ob not in tables[t].columns:
                raise DataError(f"order_by column {ob!r} is not in table {t!r}")
        tables = check_keys(tables, spec, self.orphans)
        self.spec_ = spec
        self.root_ = root
        self.notes_: list[str] = []
        rng = resolve_rng(self.random_state)

        infos: dict[str, TableInfo] = {}
        prepared: dict[str, pd.DataFrame] = {}
        prep_schema: dict[str, list[Column]] = {}
        for t in reversed(top_down(spec, root)):  # bottom-up: children before parents
            self._prepare(t, tables[t], schemas[t], spec, infos, prepared, prep_schema)
        self.tables_ = infos

        # parent model on the root table + aggregates
        ri = infos[root]
        parent = REGISTRY[self.parent_synthesizer](
            random_state=self.random_state, **dict(self.parent_params or {})
        )
        parent.fit(prepared[root][ri.features], Schema(tuple(prep_schema[root])))
        self.parent_model_ = parent
        # two sequence models per relationship
        self.child_models_: dict[str, dict[str, GaussianCopulaSynthesizer]] = {}
        for t in top_down(spec, root)[1:]:
            r = spec.parent_of(t)
            assert r is not None
            self.child_models_[t] = self._fit_child(r, prepared, prep_schema, infos, rng)
        self.n_training_rows_ = {t: len(df) for t, df in tables.items()}
        return self

    def _prepare(
        self,
        t: str,
        df: pd.DataFrame,
        schema: Schema,
        spec: RelationalSpec,
        infos: dict[str, TableInfo],
        prepared: dict[str, pd.DataFrame],
        prep_schema: dict[str, list[Column]],
    ) -> None:
        rel = spec.parent_of(t)
        pk = spec.primary_keys.get(t)
        fk = rel.child_key if rel else None
        ob = spec.order_by.get(t)
        keys = {k for k in (pk, fk) if k}
        modelled, dropped, cols = [], [], []
        for c in schema:
            if c.name in keys or c.name == ob:
                continue
            if c.kind in (Kind.ID, Kind.TEXT):
                dropped.append(c.name)
                continue
            modelled.append(c.name)
            cols.append(c)
        if dropped:
            self.notes_.append(
                f"table {t!r}: columns {dropped} (ids / free text) are not modelled and are left "
                "out of the synthetic tables"
            )
        frame = df[modelled].reset_index(drop=True).copy()
        if fk:
            frame["__key"] = df[fk].to_numpy()
        if pk:
            frame["__pk"] = df[pk].to_numpy()
        fmt = schema[ob].datetime_format if ob else None
        t_max = None
        step = 1
        if ob:
            sec = to_seconds(df[ob], fmt)
            if np.isnan(sec).any():
                raise DataError(
                    f"table {t!r}: order column {ob!r} has {int(np.isnan(sec).sum())} missing "
                    "or unreadable dates; fix them or declare another order_by column"
                )
            frame["__t"] = sec
            t_max = float(np.max(sec))
            step = time_step(sec)
        means = add_child_aggregates(frame, cols, t, spec, infos, prepared)
        features = [c.name for c in cols]
        info = TableInfo(
            name=t,
            columns=[str(c) for c in df.columns],
            pk=pk,
            fk=fk,
            order_by=ob,
            order_format=fmt,
            time_step=step,
            t_max=t_max,
            modelled=modelled,
            dropped=dropped,
            features=features,
            means=means,
            pk_style=dataclasses.asdict(KeyStyle.learn(df[pk], t)) if pk else None,
            dtypes={str(c): str(df[c].dtype) for c in df.columns},
        )
        infos[t] = info
        if ob or fk:
            sort_cols = [c for c in ("__key", "__t") if c in frame.columns]
            frame = frame.sort_values(sort_cols, kind="stable").reset_index(drop=True)
        prepared[t] = frame
        prep_schema[t] = cols

    def _fit_child(
        self,
        r: Relationship,
        prepared: dict[str, pd.DataFrame],
        prep_schema: dict[str, list[Column]],
        infos: dict[str, TableInfo],
        rng: np.random.Generator,
    ) -> dict[str, GaussianCopulaSynthesizer]:
        ci, pi = infos[r.child], infos[r.parent]
        child, parent = prepared[r.child], prepared[r.parent]
        pfeat = parent.set_index("__pk")[pi.features].add_prefix("p.")
        pcols = [dataclasses.replace(c, name="p." + c.name) for c in prep_schema[r.parent]]
        ccols = list(prep_schema[r.child])
        joined = pd.concat(
            [child[ci.features], pfeat.loc[child["__key"].to_numpy()].reset_index(drop=True)],
            axis=1,
        )
        pos = child.groupby("__key", sort=False).cumcount().to_numpy()
        seed = int(rng.integers(2**31))
        first_frame = joined.loc[pos == 0].reset_index(drop=True)
        first = GaussianCopulaSynthesizer(random_state=seed).fit(
            first_frame, Schema(tuple(ccols + pcols))
        )
        models = {"first": first}
        later = pos > 0
        if later.sum() >= 2:
            value_cols = list(ci.features)
            nxt = joined.copy()
            extra_cols = [Column("__pos", Kind.NUMERIC, integer=True)]
            nxt["__pos"] = pos
            if ci.order_by:
                gap = child["__t"].diff().to_numpy(copy=True)
                gap[pos == 0] = np.nan
                nxt["__gap"] = gap
                extra_cols.append(Column("__gap", Kind.NUMERIC))
                value_cols.append("__gap")
            lag = nxt[value_cols].shift(1)
            lag.loc[pos == 0] = np.nan
            lag = lag.add_prefix("lag.")
            sch = {c.name: c for c in ccols + extra_cols}
            lag_cols = [dataclasses.replace(sch[c], name="lag." + c) for c in value_cols]
            nxt = pd.concat([nxt, lag], axis=1).loc[later].reset_index(drop=True)
            models["next"] = GaussianCopulaSynthesizer(random_state=seed + 1).fit(
                nxt, Schema(tuple(ccols + pcols + extra_cols + lag_cols))
            )
        return models

    # ------------------------------------------------------------------ sample
    def sample(self, n_parents: int, random_state: int | None = None) -> dict[str, pd.DataFrame]:
        """Draw ``n_parents`` root rows and, for each, its children (and theirs).

        Returns ``{table: frame}`` with the real tables' columns (ids and free text left out),
        new keys, and every child key pointing to a synthetic parent.
        """
        self._check_fitted()
        if isinstance(n_parents, bool) or not isinstance(n_parents, int | np.integer):
            raise ModelError(f"n_parents must be a whole number, got {n_parents!r}")
        if n_parents <= 0:
            raise ModelError(f"n_parents must be positive, got {n_parents}")
        rng = resolve_rng(self.random_state if random_state is None else random_state)
        root = self.root_
        ri = self.tables_[root]
        parent = self.parent_model_.sample(
            int(n_parents), random_state=int(rng.integers(2**31))
        ).reset_index(drop=True)
        full: dict[str, pd.DataFrame] = {root: parent}
        keys: dict[str, pd.Series] = {}
        if ri.pk:
            keys[root] = KeyStyle(**ri.pk_style).make(len(parent))  # type: ignore[arg-type]
        for t in top_down(self.spec_, root)[1:]:
            r = self.spec_.parent_of(t)
            assert r is not None
            full[t], pidx = self._sample_children(r, full[r.parent], rng)
            ci = self.tables_[t]
            if ci.pk:
                keys[t] = KeyStyle(**ci.pk_style).make(len(full[t]))  # type: ignore[arg-type]
            full[t]["__parent_key"] = keys[r.parent].to_numpy()[pidx]
        return {t: self._finish(t, df, keys.get(t)) for t, df in full.items()}

    def _sample_children(
        self, r: Relationship, parent: pd.DataFrame, rng: np.random.Generator
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Children of every parent row, generated position by position (vectorised).

        The loop runs over child position ``k``: at step ``k`` every parent with more than
        ``k`` children draws its ``k``-th child at once, given its own features and its
        ``(k-1)``-th child's values. Values stay encoded (arrays) between steps and are decoded
        to a frame once at the end.
        """
        ci, pi = self.tables_[r.child], self.tables_[r.parent]
        models = self.child_models_[r.child]
        counts = np.clip(
            np.nan_to_num(parent[f"__n.{r.child}"].to_numpy(dtype=float)), 0, None
        ).astype(np.int64)
        if "next" not in models:
            counts = np.minimum(counts, 1)
        pfeat = parent[pi.features].add_prefix("p.").reset_index(drop=True)
        pcols = list(pfeat.columns)
        value_cols = list(ci.features) + (["__gap"] if ci.order_by else [])
        first = ConditionalCopula(models["first"], pcols)
        idx0 = np.flatnonzero(counts >= 1)
        g_first = first.encode_given(pfeat)
        enc0 = first.sample_encoded({c: v[idx0] for c, v in g_first.items()}, len(idx0), rng)
        next_parts: list[Encoded] = []
        next_idx: list[np.ndarray] = []
        next_pos: list[np.ndarray] = []
        nxt = None
        if "next" in models and (counts > 1).any():
            nm = models["next"]
            lag_cols = [f"lag.{c}" for c in value_cols]
            nxt = ConditionalCopula(nm, [*pcols, "__pos", *lag_cols])
            g_next = nxt.encode_given(pfeat)
            maps: dict[tuple[str, str], np.ndarray] = {}
            for src_name, src in (("first", models["first"]), ("next", nm)):
                for c in value_cols:
                    if c in src.cat_names_ and f"lag.{c}" in nm.cat_names_:
                        maps[(src_name, c)] = code_map(src.codec_, c, nm.codec_, f"lag.{c}")

            def values(enc: Encoded, src: str, c: str, at: np.ndarray) -> np.ndarray:
                if c in enc.numeric_names:
                    return enc.numeric[at, enc.numeric_names.index(c)]
                if (src, c) in maps:
                    return maps[(src, c)][enc.codes[at, enc.categorical_names.index(c)]]
                return np.full(len(at), np.nan)  # a constant column, or no gap before child 0

            prev, prev_src, prev_idx, k = enc0, "first", idx0, 1
            while True:
                idx = prev_idx[counts[prev_idx] > k]
                if not len(idx):
                    break
                at = np.searchsorted(prev_idx, idx)
                given = {c: v[idx] for c, v in g_next.items() if c.startswith("p.")}
                for c in value_cols:
                    given[f"lag.{c}"] = values(prev, prev_src, c, at)
                given["__pos"] = np.full(len(idx), float(k))
                prev = nxt.sample_encoded(given, len(idx), rng)
                prev_src, prev_idx = "next", idx
                next_parts.append(prev)
                next_idx.append(idx)
                next_pos.append(np.full(len(idx), k))
                k += 1
        else:
            counts = np.minimum(counts, 1)
        f0 = first.decode([enc0], rng)
        if ci.order_by:
            f0["__gap"] = np.nan
        frames, pidx, ppos = [f0[value_cols]], [idx0], [np.zeros(len(idx0), dtype=np.int64)]
        if next_parts and nxt is not None:
            frames.append(nxt.decode(next_parts, rng)[value_cols])
            pidx += next_idx
            ppos += next_pos
        out = pd.concat(frames, ignore_index=True)
        pi_arr, pos_arr = np.concatenate(pidx), np.concatenate(ppos)
        order = np.lexsort((pos_arr, pi_arr))
        out = out.iloc[order].reset_index(drop=True)
        pi_arr, pos_arr = pi_arr[order], pos_arr[order]
        if ci.order_by:
            out["__t"] = self._times(r, parent, out, pi_arr, pos_arr)
        return out, pi_arr

    def _times(
        self,
        r: Relationship,
        parent: pd.DataFrame,
        out: pd.DataFrame,
        pidx: np.ndarray,
        pos: np.ndarray,
    ) -> np.ndarray:
        """First child at the parent's ``__first``; gaps rescaled to end at the sampled reach."""
        ci = self.tables_[r.child]
        first = parent[f"__first.{r.child}"].to_numpy(dtype=float)
        reach = np.clip(np.nan_to_num(parent[f"__reach.{r.child}"].to_numpy(dtype=float)), 0, 1)
        t_max = float(ci.t_max)  # type: ignore[arg-type]
        first = np.minimum(np.where(np.isfinite(first), first, t_max), t_max)
        span = reach * (t_max - first)  # histories end inside the data's window
        gap = np.clip(np.nan_to_num(out["__gap"].to_numpy(dtype=float)), 0, None)
        gap[pos == 0] = 0.0
        cum = np.zeros(len(gap))
        if len(gap):
            csum = np.cumsum(gap)
            starts = np.flatnonzero(pos == 0)
            base = np.repeat(csum[starts], np.diff(np.append(starts, len(gap))))
            cum = csum - base
        total = np.zeros(len(first))
        np.maximum.at(total, pidx, cum)
        n_kids = np.bincount(pidx, minlength=len(first)).astype(float)
        tot = total[pidx]
        even = pos / np.maximum(n_kids[pidx] - 1, 1)  # no positive gap drawn: evenly spaced
        frac = np.where(tot > 0, cum / np.where(tot > 0, tot, 1), even)
        t = first[pidx] + frac * span[pidx]
        step = max(int(ci.time_step), 1)
        return np.round(t / step) * step

    def _finish(self, t: str, df: pd.DataFrame, key: pd.Series | None) -> pd.DataFrame:
        """Helper columns out; keys and the order column back, in the real column order."""
        info = self.tables_[t]
        cols: dict[str, Any] = {}
        for c in info.columns:
            if c == info.pk and key is not None:
                cols[c] = key.to_numpy()
            elif c == info.fk:
                cols[c] = df["__parent_key"].to_numpy()
            elif c == info.order_by:
                sec = df["__t"].to_numpy(dtype=float)
                ns = np.where(np.isfinite(sec), sec * 1e9, 0).astype("int64")
                vals = pd.Series(ns.view("datetime64[ns]"))
                if info.order_format and not info.dtypes.get(c, "").startswith("datetime"):
                    vals = vals.dt.strftime(info.order_format)
                cols[c] = vals.to_numpy()
            elif c in info.modelled:
                cols[c] = df[c].to_numpy()
        return pd.DataFrame(cols)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Save to one model file (JSON + NumPy arrays in a zip; never pickle)."""
        self._check_fitted()
        arrays: dict[str, np.ndarray] = {}
        subs: dict[str, Any] = {}
        models = {"parent": self.parent_model_}
        for t, ms in self.child_models_.items():
            for k, m in ms.items():
                models[f"{t}/{k}"] = m
        for i, (label, m) in enumerate(models.items()):
            state, arr = m._state()
            subs[label] = {
                "prefix": f"m{i}",
                "meta": {
                    "synthesizer": m.name,
                    "params": m.get_params(),
                    "schema": m.schema_.to_dict(),
                    "codec": m.codec_.to_dict(),
                    "n_training_rows": m.n_training_rows_,
                    "constraint_plan": None,
                    "discovered_rules": [r.to_dict() for r in getattr(m, "rules_", [])],
                    "state": state,
                },
            }
            if getattr(m, "plan_", None) is not None:
                subs[label]["meta"]["constraint_plan"] = m.plan_.to_state()
            arrays.update({f"m{i}.{k}": v for k, v in arr.items()})
        meta = {
            "synthesizer": _KIND,
            "params": {
                "relationships": (
                    None if self.relationships is None else [str(r) for r in self.relationships]
                ),
                "primary_keys": self.primary_keys,
                "order_by": self.order_by,
                "parent_synthesizer": self.parent_synthesizer,
                "parent_params": self.parent_params,
                "orphans": self.orphans,
                "random_state": self.random_state,
            },
            "spec": self.spec_.to_dict(),
            "root": self.root_,
            "tables": {t: dataclasses.asdict(i) for t, i in self.tables_.items()},
            "n_training_rows": self.n_training_rows_,
            "notes": self.notes_,
            "models": subs,
        }
        return save_bundle(path, meta, arrays, kind=_KIND)

    @staticmethod
    def load(path: str | os.PathLike) -> RelationalSynthesizer:
        """Load a file written by :meth:`save` (never unpickles anything)."""
        meta, arrays = load_bundle(path)
        # files of format 2 written before the relational kind existed say "synthesizer"
        if meta.get("kind") not in (_KIND, "synthesizer") or meta.get("synthesizer") != _KIND:
            what = meta.get("synthesizer") or meta.get("kind")
            raise ModelFileError(
                f"{str(path)!r} holds a {what!r} model, not a relational one; "
                "load it with synthcust.api.load instead"
            )
        try:
            params = dict(meta["params"])
            obj = RelationalSynthesizer(**params)
            obj.spec_ = RelationalSpec.from_dict(meta["spec"])
            if "relationships" not in params:  # files before the full settings were saved
                obj.relationships = list(obj.spec_.relationships)
            obj.root_ = meta["root"]
            obj.tables_ = {t: TableInfo(**d) for t, d in meta["tables"].items()}
            obj.n_training_rows_ = dict(meta["n_training_rows"])
            obj.notes_ = list(meta.get("notes", []))
            obj.child_models_ = {}
            for label, sub in meta["models"].items():
                pre = sub["prefix"] + "."
                arr = {k[len(pre) :]: v for k, v in arrays.items() if k.startswith(pre)}
                m = BaseSynthesizer.from_bundle(sub["meta"], arr, f"{path}:{label}")
                if label == "parent":
                    obj.parent_model_ = m
                else:
                    t, k = label.rsplit("/", 1)
                    obj.child_models_.setdefault(t, {})[k] = m
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(
                f"{str(path)!r}: relational model file is corrupt ({e}); re-fit"
            ) from e
        return obj

    @property
    def notes(self) -> list[str]:
        return list(getattr(self, "notes_", []))

    def _check_fitted(self) -> None:
        if not hasattr(self, "parent_model_"):
            raise NotFittedError("RelationalSynthesizer is not fitted; call fit(tables) first")
