"""Schema model: frozen dataclasses describing every column of a customer table.

A :class:`Schema` is inferred by :func:`synthcust.schema.infer_schema`, saved and edited as
JSON, and travels with every fitted model so that samples match the data they came from.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from synthcust._utils.validation import unknown_column_message
from synthcust.exceptions import SchemaError
from synthcust.rules.constraint_text import constraint_from_dict, parse_constraint
from synthcust.rules.constraints import Constraint
from synthcust.schema.formats import RESOLUTIONS

SCHEMA_VERSION = 1


class Kind(StrEnum):
    """What a column holds."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    ID = "id"
    TEXT = "text"
    CONSTANT = "constant"


class PIIKind(StrEnum):
    """Kinds of personal data synthcust detects."""

    EMAIL = "email"
    PHONE = "phone"
    PERSON_NAME = "person_name"
    ADDRESS = "address"
    POSTAL_CODE = "postal_code"
    CREDIT_CARD = "credit_card"
    IBAN = "iban"
    NATIONAL_ID = "national_id"
    IP_ADDRESS = "ip_address"
    DATE_OF_BIRTH = "date_of_birth"
    TEXT_WITH_PII = "text_with_pii"


class PIIPolicy(StrEnum):
    """What is done to a PII column before anything is learned.

    ``drop``: removed. ``hash``: keyed HMAC-SHA256 pseudonym. ``fake``: removed before learning
    and filled with fresh realistic fakes at sampling time. ``generalise``: coarsened (date of
    birth -> year, postcode -> prefix, age -> band). ``redact``: PII spans inside free text
    replaced by ``[EMAIL]``-style tags. ``keep``: the user's explicit, logged decision to keep it.
    """

    DROP = "drop"
    HASH = "hash"
    FAKE = "fake"
    GENERALISE = "generalise"
    REDACT = "redact"
    KEEP = "keep"


class Role(StrEnum):
    """Special roles a column can play."""

    TARGET = "target"
    KEY = "key"


@dataclass(frozen=True)
class Column:
    """One column of a schema.

    Attributes
    ----------
    name: column name as in the data.
    kind: what it holds (:class:`Kind`).
    integer: numeric columns only; values are whole numbers.
    decimals: numeric columns only; the decimals the real values are written with (``2`` for
        money); samples are rounded to them. ``None``: not learned, or more than six.
    datetime_format: datetime columns read from text: the ``strftime`` format they follow.
    resolution: datetime columns: ``day`` (dates), ``hour``, ``minute`` or ``second``, the
        coarsest unit every real value sits on; samples keep it. ``None``: not learned (a
        schema from before; the model learns it from the data).
    missing_markers: strings that mean "missing" in this column (``?``, ``unknown``, ...).
    pii: detected or declared PII kind, if any.
    pii_policy: what to do with it; ``None`` = the default for its kind.
    role: ``target`` or ``key`` or ``None``.
    lower, upper: public bounds, if known (used to clip and, later, for DP).
    """

    name: str
    kind: Kind
    integer: bool = False
    datetime_format: str | None = None
    missing_markers: tuple[str, ...] = ()
    pii: PIIKind | None = None
    pii_policy: PIIPolicy | None = None
    role: Role | None = None
    lower: float | None = None
    upper: float | None = None
    note: str | None = None
    decimals: int | None = None
    resolution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind.value}
        for f in dataclasses.fields(self):
            if f.name in ("name", "kind"):
                continue
            v = getattr(self, f.name)
            if v is None or v == () or (f.name == "integer" and not v):
                continue
            d[f.name] = (
                list(v) if isinstance(v, tuple) else (v.value if isinstance(v, StrEnum) else v)
            )
        return d

    @staticmethod
    def from_dict(d: Mapping[str, Any], where: str = "") -> Column:
        problems = _column_problems(d, where)
        if problems:
            raise SchemaError(problems)
        return Column(
            name=str(d["name"]),
            kind=Kind(d["kind"]),
            integer=bool(d.get("integer", False)),
            decimals=None if d.get("decimals") is None else int(d["decimals"]),
            datetime_format=d.get("datetime_format"),
            missing_markers=tuple(str(m) for m in d.get("missing_markers", ()) or ()),
            pii=PIIKind(d["pii"]) if d.get("pii") else None,
            pii_policy=PIIPolicy(d["pii_policy"]) if d.get("pii_policy") else None,
            role=Role(d["role"]) if d.get("role") else None,
            lower=None if d.get("lower") is None else float(d["lower"]),
            upper=None if d.get("upper") is None else float(d["upper"]),
            note=d.get("note"),
            resolution=d.get("resolution"),
        )


_COLUMN_FIELDS = {f.name for f in dataclasses.fields(Column)}


def _enum_problem(enum: type[StrEnum], value: Any, what: str) -> str | None:
    allowed = [e.value for e in enum]
    if value in allowed:
        return None
    hint = difflib.get_close_matches(str(value), allowed, n=1)
    sugg = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"{what} has unknown value {value!r}{sugg}; use one of {', '.join(allowed)}"


def _column_problems(d: Mapping[str, Any], where: str = "") -> list[str]:
    name = d.get("name")
    label = f"column {name!r}" if name is not None else f"column {where}".strip()
    problems: list[str] = []
    if not isinstance(name, str) or not name:
        problems.append(f"{label}: 'name' must be a non-empty string")
    unknown = sorted(set(d) - _COLUMN_FIELDS)
    for k in unknown:
        hint = difflib.get_close_matches(k, sorted(_COLUMN_FIELDS), n=1)
        sugg = f" (did you mean {hint[0]!r}?)" if hint else ""
        problems.append(f"{label}: unknown field {k!r}{sugg}")
    if "kind" not in d:
        problems.append(
            f"{label}: 'kind' is missing; use one of {', '.join(k.value for k in Kind)}"
        )
    else:
        p = _enum_problem(Kind, d["kind"], f"{label}: kind")
        if p:
            problems.append(p)
    for key, enum in (("pii", PIIKind), ("pii_policy", PIIPolicy), ("role", Role)):
        if d.get(key) is not None:
            p = _enum_problem(enum, d[key], f"{label}: {key}")
            if p:
                problems.append(p)
    for key in ("lower", "upper"):
        v = d.get(key)
        if v is not None and not isinstance(v, int | float):
            problems.append(f"{label}: {key} must be a number, got {v!r}")
    if (
        isinstance(d.get("lower"), int | float)
        and isinstance(d.get("upper"), int | float)
        and d["lower"] > d["upper"]
    ):
        problems.append(f"{label}: lower {d['lower']} is above upper {d['upper']}")
    dec = d.get("decimals")
    if dec is not None and (
        isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= 15
    ):
        problems.append(f"{label}: decimals must be a whole number from 0 to 15, got {dec!r}")
    res = d.get("resolution")
    if res is not None and res not in RESOLUTIONS:
        problems.append(f"{label}: resolution must be one of {', '.join(RESOLUTIONS)}, got {res!r}")
    mm = d.get("missing_markers")
    if mm is not None and not isinstance(mm, list | tuple):
        problems.append(f"{label}: missing_markers must be a list of strings")
    return problems


@dataclass(frozen=True)
class Schema:
    """An ordered collection of :class:`Column` s.

    >>> s = Schema((Column("age", Kind.NUMERIC, integer=True),))
    >>> s["age"].kind
    <Kind.NUMERIC: 'numeric'>
    """

    columns: tuple[Column, ...]
    version: int = SCHEMA_VERSION
    warnings: tuple[str, ...] = field(default=(), compare=False)
    #: business rules synthetic rows must obey (:mod:`synthcust.constraints`)
    constraints: tuple[Constraint, ...] = ()
    #: name -> column, set per instance in ``__post_init__`` (ClassVar: not a dataclass field)
    _by_name: ClassVar[dict[str, Column]]

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        dups = sorted(n for n, k in Counter(names).items() if k > 1)
        if dups:
            raise SchemaError([f"column {n!r} appears more than once" for n in dups])
        # name -> column, so lookups stay O(1) on wide tables (not a field: eq/repr unchanged)
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    # -- access ---------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._by_name
        except TypeError:  # an unhashable name is no column's
            return False

    def __getitem__(self, name: str) -> Column:
        col = self._by_name.get(name) if isinstance(name, str) else None
        if col is None:
            raise SchemaError(unknown_column_message(name, self.names))
        return col

    @property
    def target(self) -> str | None:
        for c in self.columns:
            if c.role == Role.TARGET:
                return c.name
        return None

    def of_kind(self, *kinds: Kind) -> list[Column]:
        return [c for c in self.columns if c.kind in kinds]

    @property
    def pii_columns(self) -> list[Column]:
        return [c for c in self.columns if c.pii is not None]

    # -- editing --------------------------------------------------------------------------
    def edit(self, changes: Mapping[str, Mapping[str, Any]]) -> Schema:
        """Return a new schema with ``changes`` ({column: {field: value}}) applied.

        Every problem (unknown column, unknown field, bad kind...) is collected and raised
        together in one :class:`SchemaError`.
        """
        problems: list[str] = []
        for name in changes:
            if name not in self:
                problems.append(unknown_column_message(name, self.names))
        new_cols: list[Column] = []
        for c in self.columns:
            if c.name in changes:
                d = c.to_dict()
                d.update(dict(changes[c.name]))
                d["name"] = c.name
                p = _column_problems(d)
                if p:
                    problems.extend(p)
                    new_cols.append(c)
                else:
                    new_cols.append(Column.from_dict(d))
            else:
                new_cols.append(c)
        if problems:
            raise SchemaError(problems)
        return dataclasses.replace(self, columns=tuple(new_cols))

    def drop(self, names: list[str]) -> Schema:
        """Without ``names``; constraints that read a dropped column are dropped too."""
        return dataclasses.replace(
            self,
            columns=tuple(c for c in self.columns if c.name not in names),
            constraints=tuple(k for k in self.constraints if not set(k.columns) & set(names)),
        )

    def select(self, names: list[str]) -> Schema:
        keep = tuple(k for k in self.constraints if set(k.columns) <= set(names))
        return Schema(tuple(self[n] for n in names), self.version, self.warnings, keep)

    def with_constraints(self, *constraints: Constraint | str, replace: bool = False) -> Schema:
        """A schema with ``constraints`` added (objects, or text like ``"b >= a"``).

        Unknown columns are reported together in one :class:`SchemaError`.
        """
        new = tuple(parse_constraint(c) if isinstance(c, str) else c for c in constraints)
        problems = [
            f"constraint '{k}': {unknown_column_message(col, self.names)}"
            for k in new
            for col in k.columns
            if col not in self
        ]
        if problems:
            raise SchemaError(problems)
        base = () if replace else self.constraints
        merged = tuple(dict.fromkeys((*base, *new)))
        return dataclasses.replace(self, constraints=merged)

    def with_target(self, target: str | None) -> Schema:
        if target is None:
            return self
        if target not in self:
            raise SchemaError(unknown_column_message(target, self.names))
        cols = tuple(
            dataclasses.replace(c, role=Role.TARGET)
            if c.name == target
            else (dataclasses.replace(c, role=None) if c.role == Role.TARGET else c)
            for c in self.columns
        )
        return dataclasses.replace(self, columns=cols)

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "synthcust_schema_version": self.version,
            "columns": [c.to_dict() for c in self.columns],
        }
        if self.constraints:
            d["constraints"] = [k.to_dict() for k in self.constraints]
        return d

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Schema:
        if not isinstance(d, Mapping) or "columns" not in d:
            raise SchemaError("not a synthcust schema: expected an object with a 'columns' list")
        version = d.get("synthcust_schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise SchemaError(
                f"schema version {version!r} is newer than this synthcust understands "
                f"({SCHEMA_VERSION}); upgrade synthcust"
            )
        cols = d["columns"]
        if not isinstance(cols, list):
            raise SchemaError("'columns' must be a list of column objects")
        problems: list[str] = []
        for i, c in enumerate(cols):
            if not isinstance(c, Mapping):
                problems.append(f"column #{i}: must be an object, got {type(c).__name__}")
            else:
                problems.extend(_column_problems(c, f"#{i}"))
        names = [c.get("name") for c in cols if isinstance(c, Mapping)]
        counts = Counter(n for n in names if isinstance(n, str))
        for n in sorted(n for n, k in counts.items() if k > 1):
            problems.append(f"column {n!r} appears more than once")
        raw = d.get("constraints", [])
        constraints: list[Constraint] = []
        if not isinstance(raw, list):
            problems.append("'constraints' must be a list of constraint objects")
            raw = []
        known = [n for n in names if isinstance(n, str)]
        for i, k in enumerate(raw):
            try:
                con = constraint_from_dict(k, f"#{i}")
            except SchemaError as e:
                problems.extend(e.problems)
                continue
            problems.extend(
                f"constraint #{i} '{con}': {unknown_column_message(col, known)}"
                for col in con.columns
                if col not in known
            )
            constraints.append(con)
        if problems:
            raise SchemaError(problems)
        return Schema(tuple(Column.from_dict(c) for c in cols), version, (), tuple(constraints))
