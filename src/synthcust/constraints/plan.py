"""How constraints are enforced around any synthesizer: by construction first, then rejection.

:class:`ConstraintPlan` sits between the user's table and the model:

* **fit**: every constraint is checked on the real rows; one the real data breaks is refused
  with the share and an example row (synthcust never silently enforces a rule the data does
  not obey). Then the table is **reparametrised** (:meth:`ConstraintPlan.forward`):

  - ``high >= low``: the model learns, in place of ``high``, the share of the room between
    ``low`` and the real maximum of ``high`` that ``high`` uses,
    ``(high - low) / (max(high) - low)`` in ``[0, 1]`` (in the column's units: numbers, days
    or seconds), so every reconstructed ``high`` lies between ``low`` and the real maximum;
    chains (``a <= b <= c``) are followed in order. (Modelling the plain difference let
    ``low + difference`` run past the real range: on the retail customers the copula's
    detection AUC went from 0.71 to 0.76 with it, and to 0.64 with the share);
  - fixed combinations: the columns become one categorical token per seen combination
    (overlapping groups are merged), so an unseen combination cannot be drawn;
  - identities: the model learns the derived column like any other; at sampling time
    (:meth:`settle_identities`) rows whose values already obey every identity are kept, and
    the others are dropped when at least half the rows obey them (a model that learned the
    relation: rejecting its few slips keeps its realistic value combinations) or else
    **repaired**, the derived column computed from its inputs and rounded to the decimals the
    real column has (a model that cannot learn it, like the copula). Measured on OJ: deriving
    every row took the autoregressive model's detection AUC from 0.60 to 0.84 (it exposes
    price/discount pairs the model combined wrongly), rejecting kept it at 0.61;
  - implications (``if A == a then B == b``, value sets): the model learns the columns as
    they are; at sampling time the later column of a broken rule takes the value of another
    generated row that obeys it (:mod:`synthcust.constraints.implications`), so nothing spins;
  - unique keys: left out and generated for the final rows (random distinct numbers in the
    ``format``; sequential ids without one).

* **sample** (:meth:`sample`): the model's rows are mapped back (:meth:`inverse`) and every
  constraint and condition is checked, vectorised; rows that fail are dropped and more are
  drawn, in at most ``MAX_ROUNDS`` rounds and ``MAX_FACTOR * n`` rows, after which a
  :class:`~synthcust.exceptions.ConstraintError` names the constraint that fails most. The
  result has exactly ``n`` rows or an error: never fewer rows, never an endless loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from synthcust.constraints.common import count_decimals, frame_of_columns, json_value
from synthcust.constraints.implications import as_implication, repair_implications
from synthcust.constraints.sampling import MAX_FACTOR, MAX_ROUNDS, sample_rows
from synthcust.constraints.validate import validate_constraints
from synthcust.exceptions import ConditionError, ConstraintError
from synthcust.rules.constraints import (
    Constraint,
    FixedCombinations,
    Identity,
    Inequality,
    UniqueKey,
    combo_keys,
)
from synthcust.schema.model import Column, Kind, Schema
from synthcust.transform.codec import (
    ColumnSpec,
    TableCodec,
    astype_safe,
    restore_id,
    restore_numeric,
)
from synthcust.transform.conditions import CategoricalCondition, compile_conditions

__all__ = ["INEQUALITY_MODE", "MAX_FACTOR", "MAX_ROUNDS", "ConstraintPlan"]

INEQUALITY_MODE = "share"  # "share" of the room up to the real maximum, or "difference"


@dataclass
class _Combo:
    name: str  # the token column the model sees
    columns: tuple[str, ...]
    keys: list[str]
    values: list[list[Any]]


@dataclass
class _Reparam:
    low: str
    high: str
    constraint: Inequality


class ConstraintPlan:
    """Validate constraints against a schema; fit, reparametrise, invert and check them."""

    def __init__(self, constraints: Sequence[Constraint], schema: Schema):
        self.constraints = tuple(constraints)
        self.schema = schema
        self._validate()
        self._assign()

    # ------------------------------------------------------------------ static checks
    def _validate(self) -> None:
        validate_constraints(self.constraints, self.schema)

    def _assign(self) -> None:
        """Decide which constraints are met by construction (the rest: by rejection)."""
        self.identities = _topo_identities([c for c in self.constraints if isinstance(c, Identity)])
        derived = {i.column for i in self.identities}
        self.keys = [c for c in self.constraints if isinstance(c, UniqueKey)]
        groups: list[set[str]] = []
        for c in self.constraints:
            if isinstance(c, FixedCombinations):
                g = set(c.columns)
                for other in [h for h in groups if h & g]:
                    g |= other
                    groups.remove(other)
                groups.append(g)
        order = self.schema.names
        self.groups = [tuple(sorted(g, key=order.index)) for g in groups]
        clash = [col for g in self.groups for col in g if col in derived]
        if clash:
            raise ConstraintError(
                f"column(s) {clash} are derived by an identity and also in fixed combinations; "
                "keep the identity and list its inputs in the combination instead"
            )
        in_combo = {col for g in self.groups for col in g}
        taken: set[str] = set()
        self.reparams: list[_Reparam] = []
        for c in self.constraints:
            if (
                isinstance(c, Inequality)
                and c.high not in taken | derived | in_combo
                and c.low not in derived
            ):
                self.reparams.append(_Reparam(c.low, c.high, c))
                taken.add(c.high)
        self.reparams = _topo_reparams(self.reparams)
        # implications (if A == a then B == b): the later column is overwritten when broken
        # (a column another constraint builds, combination members, inequality highs and
        # derived columns, is never overwritten: such a rule turns round, or is only checked)
        fixed = in_combo | derived | taken
        imps = []
        for imp in filter(None, map(as_implication, self.constraints)):
            imp = imp.oriented(order)
            imp = imp if imp.then_col not in fixed else imp.flipped()
            if imp.then_col not in fixed:
                imps.append(imp)
        self.implications = sorted(imps, key=lambda i: order.index(i.then_col))

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame) -> ConstraintPlan:
        """Check every constraint on the real rows and learn what the inverse needs."""
        self.outer = TableCodec().fit(df, self.schema)
        typed = self.typed(df)
        problems = []
        for c in self.constraints:
            ok = c.check(typed, typed)
            bad = int((~ok).sum())
            if bad:
                row = int(np.flatnonzero(~ok)[0])
                shown = {col: _show(df[col].iloc[row]) for col in c.columns}
                problems.append(
                    f"'{c}' is broken by {bad:,} of {len(df):,} real rows ({bad / len(df):.2%}), "
                    f"e.g. row {df.index[row]!r}: {shown}"
                )
        if problems:
            raise ConstraintError(
                "the real data breaks these constraints, so synthcust will not enforce them: "
                + "; ".join(problems)
                + "; fix the data, or remove (or correct) the constraint"
            )
        # a difference cannot carry `high` where `low` is missing: those fall back to rejection
        keep = []
        self.notes: list[str] = []
        for r in self.reparams:
            if bool((df[r.low].isna() & df[r.high].notna()).any()):
                self.notes.append(
                    f"'{r.constraint}' is checked by rejection: {r.low!r} is missing in rows where "
                    f"{r.high!r} is not, so {r.high!r} cannot be modelled as a difference"
                )
            else:
                keep.append(r)
        self.reparams = keep
        self.integer_diff = {}
        self.room = {}
        for r in self.reparams:
            spec = self.outer.spec(r.high)
            self.room[r.high] = spec.upper if INEQUALITY_MODE == "share" else None
            d = self._diff(df, r)
            finite = d[np.isfinite(d)]
            self.integer_diff[r.high] = self.room[r.high] is None and bool(
                len(finite) and np.all(np.mod(finite, 1) == 0)
            )
        self.decimals = {
            i.column: count_decimals(typed[i.column].to_numpy(dtype=float)) for i in self.identities
        }
        self.combos = []
        for g in self.groups:
            keys = combo_keys(df, g)
            uniq, first = np.unique(keys.astype(str), return_index=True)
            vals = [[json_value(df[c].iloc[i]) for c in g] for i in first]
            self.combos.append(_Combo(_combo_name(g, self.schema.names), g, uniq.tolist(), vals))
        self.keys_format = {k.column: k for k in self.keys}
        return self

    @staticmethod
    def private(
        constraints: Sequence[Constraint],
        schema: Schema,
        codec: TableCodec,
        error: type[Exception] = ConstraintError,
    ) -> ConstraintPlan:
        """A plan for a differentially private model: declared implications only, nothing
        read from the private rows (no check against them, ``codec`` the model's own).

        Implication repair and checks use only generated rows, so enforcing them is
        post-processing and costs no privacy.

        Raises
        ------
        ConstraintError
            (or ``error``) When a constraint is not an implication (``if A == a then B == b``).
        """
        other = [str(c) for c in constraints if as_implication(c) is None]
        if other:
            raise error(
                f"business-rule constraints {other} are not supported by a differentially "
                "private model (they would need statistics of the private rows); it takes only "
                "implication rules like \"if A == 'a' then B == 'b'\", enforced on generated "
                "rows alone: drop the others, or use a non-private synthesizer"
            )
        plan = ConstraintPlan(constraints, schema)
        plan.outer = codec
        plan.reparams, plan.integer_diff, plan.room, plan.decimals = [], {}, {}, {}
        plan.combos, plan.keys_format = [], {}
        plan.notes = [f"{len(plan.implications)} declared rule(s) enforced on generated rows"]
        return plan

    # ------------------------------------------------------------------ the model's table
    def forward(self, df: pd.DataFrame) -> tuple[pd.DataFrame, Schema]:
        """The table the model learns, and its schema (the user's frame is not modified)."""
        drop = {k.column for k in self.keys if k.format}
        drop |= {col for g in self.groups for col in g}
        cols: dict[str, pd.Series] = {}
        schema_cols: list[Column] = []
        # a combination token takes the place of its first member: the column order is the
        # generation order of the autoregressive model, and the data's order is a good one
        first_of = {cb.columns[0]: cb for cb in self.combos}
        for col in self.schema:
            if col.name in first_of:
                cb = first_of[col.name]
                key = pd.Series(combo_keys(df, cb.columns), index=df.index).astype(object)
                cols[cb.name] = key
                schema_cols.append(
                    Column(cb.name, Kind.CATEGORICAL, note="combination (constraint)")
                )
            if col.name in drop:
                continue
            if any(r.high == col.name for r in self.reparams):
                r = next(r for r in self.reparams if r.high == col.name)
                cols[col.name] = pd.Series(self._diff(df, r), index=df.index)
                schema_cols.append(
                    Column(col.name, Kind.NUMERIC, integer=self.integer_diff[col.name],
                           note=f"difference {r.high} - {r.low} (constraint)")
                )  # fmt: skip
                continue
            cols[col.name] = df[col.name]
            if any(k.column == col.name for k in self.keys):
                col = replace(col, kind=Kind.ID)
            schema_cols.append(col)
        inner = pd.DataFrame(cols, index=df.index) if cols else pd.DataFrame(index=df.index)
        return inner, Schema(tuple(schema_cols))

    @property
    def output_columns(self) -> list[str]:
        return self.outer.output_columns

    @property
    def by_construction_only(self) -> bool:
        """True when no constraint needs rejection (only combinations, keys and non-strict
        reparametrised inequalities)."""
        rep = {(r.low, r.high) for r in self.reparams}
        for c in self.constraints:
            if isinstance(c, FixedCombinations | UniqueKey):
                continue
            if isinstance(c, Inequality) and not c.strict and (c.low, c.high) in rep:
                continue
            return False
        return True

    def inverse(self, inner: pd.DataFrame) -> pd.DataFrame:
        """The model's rows back in the user's columns (keys are added by :meth:`add_keys`)."""
        n = len(inner)
        out: dict[str, pd.Series] = {c: inner[c].reset_index(drop=True) for c in inner.columns}
        for combo in self.combos:
            lookup = {k: i for i, k in enumerate(combo.keys)}
            idx = pd.Series(out.pop(combo.name)).map(lookup)
            if idx.isna().any():  # cannot happen: the token's categories are the seen keys
                raise ConstraintError(f"internal error: unknown combination in {combo.name!r}")
            table = np.asarray(combo.values, dtype=object)[idx.to_numpy(dtype=int)]
            for j, col in enumerate(combo.columns):
                out[col] = self._cast(col, pd.Series(table[:, j], dtype=object))
        for r in self.reparams:
            low = self._to_units(r.low, r.high, self._num(r.low, out[r.low]))
            d = pd.to_numeric(out[r.high], errors="coerce").to_numpy(dtype=float)
            top = self.room.get(r.high)
            if top is None:
                high = low + np.maximum(d, 0.0)
            else:  # a share of the room between low and the real maximum of high
                high = low + np.clip(d, 0.0, 1.0) * np.maximum(top - low, 0.0)
            out[r.high] = self._restore(r.high, high)
        for k in self.keys:
            if k.format:
                out[k.column] = pd.Series([None] * n, dtype=object)
        return frame_of_columns({c: out[c] for c in self.output_columns if c in out}, n)

    def settle_rules(
        self, out: pd.DataFrame, rng: np.random.Generator, donors: pd.DataFrame | None = None
    ) -> int:
        """Repair broken implications in place (the implied column takes a donor row's value,
        :func:`~synthcust.constraints.implications.repair_implications`); values changed.
        ``donors``: other generated rows to take the values from (default: ``out`` itself)."""
        if not self.implications:
            return 0
        cols = list(dict.fromkeys(c for i in self.implications for c in (i.if_col, i.then_col)))
        typed = self.typed(out, cols)
        pool = None if donors is None or not len(donors) else (donors, self.typed(donors, cols))
        return repair_implications(out, typed, self.implications, rng, donors=pool)

    @property
    def has_implications(self) -> bool:
        """Whether samples are repaired by implication rules (conditions then want donors)."""
        return bool(self.implications)

    def settle_identities(self, out: pd.DataFrame, mode: str | None) -> tuple[np.ndarray, str]:
        """Which rows' own values obey every identity; in ``"repair"`` mode fix the others.

        ``mode`` ``None`` decides from this batch: ``"reject"`` when at least half the rows
        obey every identity, else ``"repair"``. Repairs follow the dependency order, so a
        repaired input feeds the identities that read it. ``out`` is changed in place.
        """
        n = len(out)
        if not self.identities:
            return np.ones(n, dtype=bool), mode or "reject"
        cols = dict.fromkeys(c for i in self.identities for c in i.columns)
        frame = frame_of_columns({c: self._num(c, out[c]) for c in cols}, n)
        natural = np.ones(n, dtype=bool)
        for i in self.identities:
            natural &= i.check(frame)
        if mode is None:
            mode = "reject" if natural.mean() >= 0.5 else "repair"
        if mode == "repair" and not natural.all():
            for i in self.identities:
                bad = ~i.check(frame)
                if not bad.any():
                    continue
                want = i.compute(frame).to_numpy(dtype=float)
                k = self.decimals.get(i.column)
                if k is not None and 0.5 * 10.0 ** (-k) <= i.tolerance + 1e-12:
                    want = np.round(want, k)
                vals = frame[i.column].to_numpy(dtype=float).copy()
                vals[bad] = want[bad]
                frame[i.column] = vals
                fixed = self._restore(i.column, vals)
                col = out[i.column].copy()
                if fixed.dtype != col.dtype:
                    col = col.astype(fixed.dtype)
                col[bad] = fixed[bad].to_numpy()
                out[i.column] = col
        self.last_identity_mode = mode
        return natural, mode

    def rebuilt_in_range(self, out: pd.DataFrame) -> np.ndarray:
        """Rows whose rebuilt values (inequality highs, repaired identities) lie inside the real
        range of their column, as every modelled value does (a validity check would flag them)."""
        ok = np.ones(len(out), dtype=bool)
        for col in dict.fromkeys(
            [r.high for r in self.reparams] + [i.column for i in self.identities]
        ):
            spec = self.outer.spec(col)
            if spec.lower is None and spec.upper is None:
                continue
            x = self._num(col, out[col])
            tol = 1e-9 * max(1.0, abs(spec.lower or 0.0), abs(spec.upper or 0.0))
            with np.errstate(invalid="ignore"):
                if spec.lower is not None:
                    ok &= ~(x < spec.lower - tol)
                if spec.upper is not None:
                    ok &= ~(x > spec.upper + tol)
        return ok

    def add_keys(self, df: pd.DataFrame, rng: np.random.Generator, inner_codec: TableCodec) -> None:
        """Generate the key columns for the final rows, in place."""
        for k in self.keys:
            if k.format:
                df[k.column] = k.make(len(df), rng).to_numpy()
            else:
                df[k.column] = restore_id(len(df), inner_codec.spec(k.column)).to_numpy()

    # ------------------------------------------------------------------ checks
    def typed(self, df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The constrained columns (or ``columns``) as numbers / timestamps / raw values, as
        the checks see them."""
        cols = dict.fromkeys(
            columns if columns is not None else (c for con in self.constraints for c in con.columns)
        )
        data = {}
        for c in cols:
            spec = self.outer.spec(c)
            if spec.kind == "numeric":
                data[c] = pd.Series(self._num(c, df[c]), index=df.index)
            elif spec.kind == "datetime":
                x = self._num(c, df[c])
                scale = 86400.0 if spec.datetime_unit == "D" else 1.0
                data[c] = pd.to_datetime(pd.Series(x * scale, index=df.index), unit="s")
            else:
                data[c] = df[c]
        out = frame_of_columns(data, len(df))
        out.index = df.index
        return out

    def check(
        self, df: pd.DataFrame, reference: pd.DataFrame | None = None, *, full: bool = True
    ) -> dict[str, np.ndarray]:
        """Per constraint (by its description): which rows of ``df`` obey it.

        Key uniqueness is checked on the whole output, not per row, so keys are left out.
        ``full=False`` (the sampling loop) also skips fixed combinations, which the model's
        rows obey by construction (every token it can draw is a combination seen in the data).
        """
        typed = self.typed(df)
        out = {}
        for c in self.constraints:
            if isinstance(c, UniqueKey):
                continue
            if isinstance(c, FixedCombinations):
                if not full:
                    continue
                seen = self._seen_keys(c.columns)
                out[str(c)] = np.isin(combo_keys(df, c.columns).astype(str), seen)
            else:
                out[str(c)] = c.check(typed, reference)
        return out

    def _seen_keys(self, cols: Sequence[str]) -> np.ndarray:
        for combo in self.combos:
            if set(cols) <= set(combo.columns):
                frame = pd.DataFrame(
                    np.asarray(combo.values, dtype=object), columns=list(combo.columns)
                )
                return np.unique(combo_keys(frame, cols).astype(str))
        raise ConstraintError(f"internal error: no combination table for {list(cols)}")

    # ------------------------------------------------------------------ conditions
    def split_conditions(
        self, conditions: Mapping[str, Any] | None, inner_codec: TableCodec
    ) -> tuple[dict[str, Any], list[Any]]:
        """Conditions the model can take directly, and the rest as checks on the output.

        A condition on a member of a fixed combination becomes a condition on the combination
        token (the combinations whose member matches), so it is exact and needs no rejection.
        """
        if not conditions:
            return {}, []
        inner: dict[str, Any] = {}
        post: dict[str, Any] = {}
        combo_of = {col: cb for cb in self.combos for col in cb.columns}
        modelled = {s.name for s in inner_codec.specs_ if s.kind != "id"}
        changed = {r.high for r in self.reparams}
        # an implied column is overwritten after sampling (settle_rules): a condition on it is
        # checked on the repaired rows only, else the rows repaired into it would be missing
        changed |= {i.then_col for i in self.implications}
        derived = {i.column for i in self.identities}
        allowed: dict[str, np.ndarray] = {}
        for col, v in conditions.items():
            if col in combo_of:
                cb = combo_of[col]
                frame = pd.DataFrame(np.asarray(cb.values, dtype=object), columns=list(cb.columns))
                frame = pd.concat([self._cast(c, frame[c]) for c in cb.columns], axis=1)
                [cond] = compile_conditions({col: v}, self.outer)
                ok = _cond_mask(cond, self._encode(col, frame[col]), self.outer.spec(col))
                prev = allowed.get(cb.name, np.ones(len(cb.keys), dtype=bool))
                allowed[cb.name] = prev & ok
            elif col in modelled and col not in changed:
                inner[col] = v
                if col in derived:  # a repaired value must still meet it
                    post[col] = v
            else:
                post[col] = v
        for name, ok in allowed.items():
            cb = next(c for c in self.combos if c.name == name)
            if not ok.any():
                raise ConditionError(
                    f"no combination of {', '.join(cb.columns)} seen in the data matches the "
                    f"conditions {dict(conditions)}"
                )
            inner[name] = [k for k, good in zip(cb.keys, ok, strict=True) if good]
        post_conds = compile_conditions(post, self.outer) if post else []
        return inner, post_conds

    def condition_mask(self, df: pd.DataFrame, conds: list[Any]) -> np.ndarray:
        ok = np.ones(len(df), dtype=bool)
        for c in conds:
            ok &= _cond_mask(c, self._encode(c.column, df[c.column]), self.outer.spec(c.column))
        return ok

    # ------------------------------------------------------------------ sampling loop
    def sample(
        self,
        n: int,
        draw: Callable[[int], pd.DataFrame],
        post_conds: list[Any],
        rng: np.random.Generator | None = None,
        donor_draw: Callable[[int], pd.DataFrame] | None = None,
    ) -> pd.DataFrame:
        """``n`` rows obeying every constraint and condition, from ``draw(m)`` (inverse applied).

        At most ``MAX_ROUNDS`` rounds and ``MAX_FACTOR * n`` rows drawn in all (see
        :func:`synthcust.constraints.sampling.sample_rows`). ``donor_draw(m)``: unconditional
        rows that implication repairs take their values from (for a conditional ``draw``).
        """
        return sample_rows(self, n, draw, post_conds, rng, donor_draw)

    # ------------------------------------------------------------------ persistence
    def to_state(self) -> dict[str, Any]:
        return {
            "outer_codec": self.outer.to_dict(),
            "reparams": [[r.low, r.high] for r in self.reparams],
            "integer_diff": self.integer_diff,
            "room": self.room,
            "decimals": self.decimals,
            "combos": [
                {"name": c.name, "columns": list(c.columns), "keys": c.keys, "values": c.values}
                for c in self.combos
            ],
            "notes": self.notes,
        }

    @staticmethod
    def from_state(schema: Schema, state: Mapping[str, Any]) -> ConstraintPlan:
        plan = ConstraintPlan(schema.constraints, schema)
        plan.outer = TableCodec.from_dict(state["outer_codec"])
        pairs = [tuple(p) for p in state["reparams"]]
        plan.reparams = [r for r in plan.reparams if (r.low, r.high) in pairs]
        plan.integer_diff = dict(state["integer_diff"])
        plan.room = dict(state.get("room", {}))
        plan.decimals = {k: (None if v is None else int(v)) for k, v in state["decimals"].items()}
        plan.combos = [
            _Combo(c["name"], tuple(c["columns"]), list(c["keys"]), [list(v) for v in c["values"]])
            for c in state["combos"]
        ]
        plan.notes = list(state.get("notes", []))
        plan.keys_format = {k.column: k for k in plan.keys}
        return plan

    # ------------------------------------------------------------------ helpers
    def _encode(self, col: str, s: pd.Series) -> np.ndarray:
        """One column in the outer codec's encoding (numbers/days/seconds, or category codes)."""
        spec = self.outer.spec(col)
        if not spec.markers and not spec.as_text:  # fast paths: plain numbers and timestamps
            if (
                spec.kind == "numeric"
                and pd.api.types.is_numeric_dtype(s.dtype)
                and not pd.api.types.is_bool_dtype(s.dtype)
            ):
                x = s.to_numpy(dtype=float, na_value=np.nan)
                return np.where(np.isfinite(x), x, np.nan)
            if (
                spec.kind == "datetime"
                and pd.api.types.is_datetime64_dtype(s.dtype)
                and not spec.tz
            ):
                ns = s.to_numpy(dtype="datetime64[ns]")
                x = ns.astype(np.int64).astype(float) / 1e9
                x[np.isnat(ns)] = np.nan
                return x / 86400.0 if spec.datetime_unit == "D" else x
        sub = TableCodec()
        sub.specs_, sub.notes_ = [self.outer.spec(col)], []
        enc = sub.encode(pd.DataFrame({col: s.reset_index(drop=True)}))
        return enc.numeric[:, 0] if enc.numeric.shape[1] else enc.codes[:, 0]

    def _num(self, col: str, s: pd.Series) -> np.ndarray:
        return self._encode(col, s).astype(float)

    def _to_units(self, low: str, high: str, x: np.ndarray) -> np.ndarray:
        a, b = self.outer.spec(low), self.outer.spec(high)
        if a.kind == "datetime" and a.datetime_unit != b.datetime_unit:
            return x * 86400.0 if a.datetime_unit == "D" else x / 86400.0
        return x

    def _diff(self, df: pd.DataFrame, r: _Reparam) -> np.ndarray:
        """What the model learns for ``high``: ``high - low``, or in ``share`` mode the share
        ``(high - low) / (top - low)`` of the room up to the real maximum ``top`` of ``high``
        (so reconstructed values stay inside the real range)."""
        low = self._to_units(r.low, r.high, self._num(r.low, df[r.low]))
        d = self._num(r.high, df[r.high]) - low
        top = getattr(self, "room", {}).get(r.high)
        if top is None:
            return d
        room = top - low
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                room > 0, np.clip(d / room, 0.0, 1.0), np.where(np.isnan(d), np.nan, 0.0)
            )

    def _restore(self, col: str, x: np.ndarray) -> pd.Series:
        spec = self.outer.spec(col)
        free = ColumnSpec(**{**spec.__dict__, "lower": None, "upper": None})
        return restore_numeric(np.asarray(x, dtype=float), free)

    def _cast(self, col: str, s: pd.Series) -> pd.Series:
        spec = self.outer.spec(col)
        dtype = spec.dtype
        if s.isna().any() and dtype.startswith(("int", "uint")):
            dtype = "Int64"
        if dtype == "bool" and s.isna().any():
            dtype = "boolean"
        return astype_safe(s, dtype)


def _cond_mask(cond: Any, x: np.ndarray, spec: ColumnSpec) -> np.ndarray:
    if isinstance(cond, CategoricalCondition):
        return np.isin(x, np.asarray(cond.codes))
    with np.errstate(invalid="ignore"):
        return (x >= cond.low) & (x <= cond.high)


def _combo_name(cols: Sequence[str], taken: Sequence[str]) -> str:
    name = "combination(" + ", ".join(cols) + ")"
    while name in taken:
        name += "_"
    return name


def _show(v: Any) -> Any:
    return json_value(v)


def _topo_identities(ids: list[Identity]) -> list[Identity]:
    by_target = {i.column: i for i in ids}
    done: list[Identity] = []
    seen: set[str] = set()

    def visit(i: Identity) -> None:
        if i.column in seen:
            return
        seen.add(i.column)
        for c in i.inputs:
            if c in by_target:
                visit(by_target[c])
        done.append(i)

    for i in ids:
        visit(i)
    return done


def _topo_reparams(rs: list[_Reparam]) -> list[_Reparam]:
    by_high = {r.high: r for r in rs}
    done: list[_Reparam] = []
    seen: set[str] = set()

    def visit(r: _Reparam) -> None:
        if r.high in seen:
            return
        seen.add(r.high)
        if r.low in by_high:
            visit(by_high[r.low])
        done.append(r)

    for r in rs:
        visit(r)
    return done
