"""The synthesizer contract every model follows (scikit-learn style, template methods).

``__init__`` only stores arguments; ``fit`` validates, learns, sets ``*_`` attributes and
returns ``self``; ``sample`` checks it is fitted. Subclasses write ``_fit`` / ``_sample`` on
encoded numeric blocks and ``_state`` / ``_from_state`` for persistence. The caller's frame is
never modified.
"""

from __future__ import annotations

import inspect
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from synthcust._utils.persist import CORRUPT_MODEL_ERRORS, load_bundle, save_bundle
from synthcust._utils.rng import resolve_rng
from synthcust.constraints.auto import RULES_MODES, discover_rules
from synthcust.constraints.plan import ConstraintPlan
from synthcust.constraints.suggestions import Suggestion
from synthcust.exceptions import DataError, ModelError, ModelFileError, NotFittedError
from synthcust.rules.constraint_text import constraint_from_dict
from synthcust.schema.infer import infer_schema
from synthcust.schema.model import Schema
from synthcust.synthesizers.conditions import (
    CategoricalCondition,
    Condition,
    NumericCondition,
    compile_conditions,
)
from synthcust.transform.codec import Encoded, TableCodec

REGISTRY: dict[str, type[BaseSynthesizer]] = {}


def check_frame(df: Any) -> pd.DataFrame:
    """Reject inputs no synthesizer can learn from, with a message saying what to do."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise DataError("the table has no columns")
    if len(df) < 2:
        raise DataError(
            f"the table has {len(df)} row(s); at least 2 are needed to learn anything "
            "(and far more to learn anything useful)"
        )
    cols = [str(c) for c in df.columns]
    dups = sorted(c for c, k in Counter(cols).items() if k > 1)
    if dups:
        raise DataError(f"duplicate column names {dups}; rename them so each is unique")
    return df


#: Bounds on settings read from a model file (a file is data, not code: a crafted
#: ``gibbs_sweeps=1e9`` would hang sampling, ``threads=1e5`` exhaust memory). Generous: no
#: model synthcust writes comes near them.
LOADED_PARAM_LIMITS: dict[str, tuple[float, float]] = {
    "threads": (1, 1024), "gibbs_sweeps": (0, 10_000), "scaling_iterations": (0, 1_000),
    "epochs": (1, 10_000_000), "batch_size": (1, 10_000_000), "embedding_dim": (1, 8_192),
    "hidden": (1, 65_536), "layers": (1, 64), "pac": (1, 1_000), "max_bins": (2, 100_000),
    "n_bins": (2, 1_000_000), "fine_bins": (2, 10_000_000), "max_cells": (1, 1_000_000_000),
    "generator_dim": (1, 65_536), "discriminator_dim": (1, 65_536),
    "compress_dims": (1, 65_536), "decompress_dims": (1, 65_536),
}  # fmt: skip


def check_loaded_params(params: Any, where: str = "") -> None:
    """Check a model file's settings against :data:`LOADED_PARAM_LIMITS` before use.

    Raises
    ------
    ModelFileError
        Naming the setting, its value and the allowed range.
    """
    if not isinstance(params, dict):
        raise ModelFileError(f"{where!r}: the model's params must be an object; re-fit")
    for name, (lo, hi) in LOADED_PARAM_LIMITS.items():
        value = params.get(name)
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        bad = len(values) > 64 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and lo <= v <= hi
            for v in values
        )
        if bad:
            raise ModelFileError(
                f"{where!r}: setting {name}={value!r:.60} is outside {lo:g}..{hi:g}; the file "
                "is corrupt or crafted. Refusing to load it"
            )


class BaseSynthesizer:
    """Base class: validation, encoding, conditions and persistence around ``_fit``/``_sample``."""

    name: ClassVar[str] = "base"

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.name != "base":
            REGISTRY[cls.name] = cls

    def __init__(self, random_state: int | None = None):
        self.random_state = random_state

    # -- public API ------------------------------------------------------------------------
    def fit(
        self, data: pd.DataFrame, schema: Schema | None = None, *, rules: str = "auto"
    ) -> Self:
        """Learn from ``data`` (described by ``schema``; inferred when omitted).

        Parameters
        ----------
        data : pandas.DataFrame
            The real rows (never modified).
        schema : Schema, optional
            Their schema; its constraints are enforced on every sample.
        rules : {"auto", "off"}, default "auto"
            ``"auto"``: the data's own exact rules (implications between values, ``A <= B``,
            identities; :func:`synthcust.constraints.auto.discover_rules`) are discovered and
            enforced along with the schema's constraints; they are listed in ``rules_``.
            ``"off"``: only the schema's constraints. A differentially private model
            (``dp_marginal``, or ``dp_epsilon`` given) never discovers rules from the private
            rows, whatever ``rules`` says.
        """
        check_frame(data)
        if rules not in RULES_MODES:
            raise ModelError(f"rules must be one of {', '.join(RULES_MODES)}, got {rules!r}")
        if schema is None:
            schema = infer_schema(data, detect_pii=False)
        self.rules_: list[Suggestion] = []
        if rules == "auto" and not self._private_fit():
            self.rules_ = discover_rules(data, schema, random_state=0)
        self.schema_ = schema  # the declared constraints; the discovered ones are in rules_
        full = self._with_rules(schema, self.rules_)
        self.plan_ = None
        inner, inner_schema = data, schema
        if full.constraints:
            # checked on the real rows first; the model learns the reparametrised table
            self.plan_ = ConstraintPlan(full.constraints, full).fit(data)
            inner, inner_schema = self.plan_.forward(data)
        self.codec_ = TableCodec().fit(inner, inner_schema)
        enc = self.codec_.encode(inner)
        self.n_training_rows_ = len(data)
        self._fit(enc, resolve_rng(self.random_state))
        return self

    @staticmethod
    def _with_rules(schema: Schema, rules: list[Suggestion]) -> Schema:
        """``schema`` with the discovered ``rules`` added to its constraints."""
        return schema.with_constraints(*(r.constraint for r in rules)) if rules else schema

    def _private_fit(self) -> bool:
        """True for a differentially private fit (it must not read rules off private rows)."""
        return self.name == "dp_marginal" or getattr(self, "dp_epsilon", None) is not None

    def sample(
        self,
        n: int,
        conditions: Mapping[str, Any] | None = None,
        random_state: int | None = None,
    ) -> pd.DataFrame:
        """Draw ``n`` synthetic rows; ``conditions`` fix values, sets or ranges exactly."""
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
            raise ModelError(f"n must be a positive whole number of rows, got {n!r}")
        rng = resolve_rng(self.random_state if random_state is None else random_state)
        plan = getattr(self, "plan_", None)
        if plan is not None:
            return self._sample_constrained(int(n), conditions, rng)
        conds = compile_conditions(conditions, self.codec_)
        enc = self._sample_chunked(int(n), conds, rng)
        _enforce(enc, conds)
        return self.codec_.decode(enc, rng)

    def _sample_constrained(
        self, n: int, conditions: Mapping[str, Any] | None, rng: np.random.Generator
    ) -> pd.DataFrame:
        """Sample the reparametrised table, map it back, keep rows obeying every rule."""
        plan = self.plan_
        for k in plan.keys:  # before any work: a format too small for n rows fails at once
            if k.capacity is not None and n > k.capacity:
                k.make(n, rng)  # raises, naming the column, the format and its capacity
        inner_conds, post = plan.split_conditions(conditions, self.codec_)
        conds = compile_conditions(inner_conds, self.codec_)

        def draw(m: int) -> pd.DataFrame:
            enc = self._sample_chunked(m, conds, rng)
            _enforce(enc, conds)
            return plan.inverse(self.codec_.decode(enc, rng))

        def donor_draw(m: int) -> pd.DataFrame:  # unconditional rows: the repairs' donors
            return plan.inverse(self.codec_.decode(self._sample_chunked(m, [], rng), rng))

        conditional = bool(conditions) and plan.has_implications
        out = plan.sample(n, draw, post, rng, donor_draw if conditional else None)
        plan.add_keys(out, rng, self.codec_)
        return out

    #: rows generated per block; bounds the model's working memory for large n
    sample_chunk_rows: ClassVar[int] = 100_000

    def _sample_chunked(self, n: int, conds: list[Condition], rng: np.random.Generator) -> Encoded:
        step = self.sample_chunk_rows
        if n <= step:
            return self._sample(n, conds, rng)
        first = self._sample(step, conds, rng)
        numeric = np.empty((n, first.numeric.shape[1]), dtype=first.numeric.dtype)
        codes = np.empty((n, first.codes.shape[1]), dtype=first.codes.dtype)
        numeric[:step], codes[:step] = first.numeric, first.codes
        for i in range(step, n, step):  # fill in place: no second copy of the whole output
            part = self._sample(min(step, n - i), conds, rng)
            numeric[i : i + len(part.numeric)] = part.numeric
            codes[i : i + len(part.codes)] = part.codes
        return Encoded(numeric, codes, first.numeric_names, first.categorical_names)

    def save(self, path: str | os.PathLike, extra: dict[str, Any] | None = None) -> Path:
        """Save to a model file (JSON + NumPy arrays in a zip; never pickle)."""
        self._check_fitted()
        state, arrays = self._state()
        meta = {
            "synthesizer": self.name,
            "params": self.get_params(),
            "schema": self.schema_.to_dict(),
            "codec": self.codec_.to_dict(),
            "n_training_rows": self.n_training_rows_,
            "constraint_plan": None if self.plan_ is None else self.plan_.to_state(),
            "discovered_rules": [r.to_dict() for r in getattr(self, "rules_", [])],
            "state": state,
            **(extra or {}),
        }
        return save_bundle(path, meta, arrays, kind="synthesizer")

    @staticmethod
    def load(path: str | os.PathLike) -> BaseSynthesizer:
        """Load a synthesizer saved by :meth:`save` (never unpickles anything).

        Raises
        ------
        ModelFileError
            When ``path`` is not a synthesizer model file (another kind, corrupt, newer).
        """
        meta, arrays = load_bundle(path, kind="synthesizer")
        return BaseSynthesizer.from_bundle(meta, arrays, str(path))

    @staticmethod
    def from_bundle(meta: dict[str, Any], arrays: dict[str, np.ndarray], where: str = "") -> Any:
        name = meta.get("synthesizer", "")
        cls = REGISTRY.get(name) if isinstance(name, str) else None
        if cls is None:
            raise ModelFileError(
                f"{where!r} holds a {meta.get('synthesizer')!r} model, which this synthcust "
                f"does not know (known: {sorted(REGISTRY)}); upgrade synthcust"
            )
        params = meta.get("params", {})
        check_loaded_params(params, where)
        try:
            obj = cls(**params)
            obj.schema_ = Schema.from_dict(meta["schema"])
            obj.codec_ = TableCodec.from_dict(meta["codec"])
            obj.n_training_rows_ = int(meta["n_training_rows"])
            obj.plan_ = None
            obj.rules_ = [
                Suggestion(constraint_from_dict(r["constraint"]), r["holds"], r["support"],
                           r["reason"])
                for r in meta.get("discovered_rules", [])
            ]  # fmt: skip
            if meta.get("constraint_plan"):
                full = obj._with_rules(obj.schema_, obj.rules_)
                obj.plan_ = ConstraintPlan.from_state(full, meta["constraint_plan"])
            obj._from_state(meta["state"], arrays)
        except CORRUPT_MODEL_ERRORS as e:
            raise ModelFileError(
                f"{where!r}: model file is incomplete or corrupt ({e}); re-fit"
            ) from e
        return obj

    def get_params(self) -> dict[str, Any]:
        """The arguments of ``__init__`` as stored (scikit-learn's ``get_params``)."""
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k != "self"}

    @property
    def output_columns(self) -> list[str]:
        self._check_fitted()
        plan = getattr(self, "plan_", None)
        return plan.output_columns if plan is not None else self.codec_.output_columns

    def column_spec(self, name: str) -> Any:
        """How column ``name`` of the user's table is encoded (before any constraint)."""
        self._check_fitted()
        plan = getattr(self, "plan_", None)
        return (plan.outer if plan is not None else self.codec_).spec(name)

    @property
    def notes(self) -> list[str]:
        if not hasattr(self, "codec_"):
            return []
        plan = getattr(self, "plan_", None)
        return list(self.codec_.notes_) + (list(plan.notes) if plan is not None else [])

    # -- for subclasses --------------------------------------------------------------------
    def _fit(self, enc: Encoded, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _sample(self, n: int, conds: list[Condition], rng: np.random.Generator) -> Encoded:
        raise NotImplementedError

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError

    def _from_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "codec_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(data) first")


def _enforce(enc: Encoded, conds: list[Condition]) -> None:
    """Guarantee conditions hold exactly (guards float edge cases; the model already aims there)."""
    for c in conds:
        if isinstance(c, NumericCondition):
            j = enc.numeric_names.index(c.column)
            col = enc.numeric[:, j]
            bad = np.isnan(col)
            if bad.any():
                raise ModelError(
                    f"internal error: condition on {c.column!r} produced missing values"
                )
            np.clip(col, c.low, c.high, out=col)
        elif isinstance(c, CategoricalCondition):
            j = enc.categorical_names.index(c.column)
            col = enc.codes[:, j]
            ok = np.isin(col, np.asarray(c.codes))
            if not ok.all():
                col[~ok] = c.codes[0]
