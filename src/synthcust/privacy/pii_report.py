"""The record of PII handling: per-column actions, the plan a model keeps, the report.

:class:`PIIPlan` is what a fitted model stores (JSON, never a real value): the actions taken
and the :class:`~synthcust.privacy.pii_fake.FakeSpec` s that refill ``fake`` columns at
sampling time.  :class:`PIIReport` adds the findings and warnings for the user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from synthcust.exceptions import PIIError
from synthcust.privacy.pii_detect import PIIFinding
from synthcust.privacy.pii_fake import FakeSpec, fake_columns
from synthcust.schema.model import PIIKind, PIIPolicy

__all__ = ["ColumnAction", "PIIPlan", "PIIReport"]


@dataclass(frozen=True)
class ColumnAction:
    """What was done to one column.

    ``source`` says who chose the policy: ``default``, ``schema`` or ``user``; ``output`` is
    the column's name in the returned frame, ``None`` when it was removed.
    """

    column: str
    kind: PIIKind | None
    policy: PIIPolicy
    source: str
    detail: str
    output: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind.value if self.kind else None,
            "policy": self.policy.value,
            "source": self.source,
            "detail": self.detail,
            "output": self.output,
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> ColumnAction:
        return ColumnAction(
            str(d["column"]),
            PIIKind(d["kind"]) if d.get("kind") else None,
            PIIPolicy(d["policy"]),
            str(d.get("source", "user")),
            str(d.get("detail", "")),
            d.get("output"),
        )


@dataclass(frozen=True)
class PIIPlan:
    """The part of PII handling a fitted model keeps: JSON only, never a real value.

    ``columns`` is the original column order, so :meth:`add_fakes` can put faked columns back
    where they were.
    """

    actions: tuple[ColumnAction, ...] = ()
    fakes: tuple[FakeSpec, ...] = ()
    columns: tuple[str, ...] = ()
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "columns": list(self.columns),
            "actions": [a.to_dict() for a in self.actions],
            "fakes": [f.to_dict() for f in self.fakes],
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> PIIPlan:
        if not isinstance(d, Mapping) or int(d.get("version", 1)) > 1:
            raise PIIError("not a PII plan this synthcust understands (expected version 1)")
        return PIIPlan(
            tuple(ColumnAction.from_dict(a) for a in d.get("actions", ())),
            tuple(FakeSpec.from_dict(f) for f in d.get("fakes", ())),
            tuple(d.get("columns", ())),
        )

    def fake_columns(
        self, n: int, random_state: int = 0, *, exclude: Mapping[str, Iterable[Any]] | None = None
    ) -> pd.DataFrame:
        """``n`` rows of fresh fakes for the faked columns (see :func:`fake_columns`)."""
        return fake_columns(self.fakes, n, random_state, exclude=_listed(exclude))

    def add_fakes(
        self,
        frame: pd.DataFrame,
        random_state: int = 0,
        *,
        exclude: Mapping[str, Iterable[Any]] | None = None,
    ) -> pd.DataFrame:
        """A copy of a sampled ``frame`` with the faked columns added back in their places."""
        clash = [f.column for f in self.fakes if f.column in frame.columns]
        if clash:
            raise PIIError(f"cannot add fake columns {clash}: the frame already has them")
        fakes = self.fake_columns(len(frame), random_state, exclude=exclude)
        fakes.index = frame.index
        out = pd.concat([frame, fakes], axis=1)
        rank = {c: i for i, c in enumerate(self.columns)}
        order = sorted(
            range(len(out.columns)), key=lambda i: (rank.get(out.columns[i], len(rank) + i), i)
        )
        return out.iloc[:, order]


def _listed(exclude: Mapping[str, Iterable[Any]] | None) -> dict[str, list[Any]] | None:
    return None if exclude is None else {k: list(v) for k, v in exclude.items()}


@dataclass
class PIIReport:
    """Findings, what was done per column, and warnings; see :meth:`summary_lines`."""

    findings: dict[str, PIIFinding] = field(default_factory=dict)
    actions: dict[str, ColumnAction] = field(default_factory=dict)
    fakes: list[FakeSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    hash_key_source: str | None = None  # "argument", "environment", "random" or None
    columns: tuple[str, ...] = ()

    @property
    def plan(self) -> PIIPlan:
        return PIIPlan(tuple(self.actions.values()), tuple(self.fakes), self.columns)

    @property
    def removed(self) -> list[str]:
        return [c for c, a in self.actions.items() if a.output is None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings.values()],
            "actions": [a.to_dict() for a in self.actions.values()],
            "fakes": [f.to_dict() for f in self.fakes],
            "warnings": list(self.warnings),
            "hash_key_source": self.hash_key_source,
            "columns": list(self.columns),
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> PIIReport:
        findings = [PIIFinding.from_dict(f) for f in d.get("findings", ())]
        actions = [ColumnAction.from_dict(a) for a in d.get("actions", ())]
        return PIIReport(
            {f.column: f for f in findings},
            {a.column: a for a in actions},
            [FakeSpec.from_dict(f) for f in d.get("fakes", ())],
            list(d.get("warnings", ())),
            d.get("hash_key_source"),
            tuple(d.get("columns", ())),
        )

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        rows = []
        for col, a in self.actions.items():
            f = self.findings.get(col)
            rows.append(
                (
                    str(col),
                    a.kind.value if a.kind else "-",
                    f"{f.confidence:.2f}" if f else "-",
                    f.evidence if f else "not detected as PII",
                    f"{a.policy.value} ({a.source}): {a.detail}",
                )
            )
        return rows

    def summary_lines(self) -> list[str]:
        """Plain-text lines: one per handled column, then the warnings."""
        if not self.actions:
            lines = ["no PII found"]
        else:
            lines = [
                f"{c}: {k} [{conf}] -> {act}; evidence: {ev}"
                for c, k, conf, ev, act in self._rows()
            ]
        return lines + [f"warning: {w}" for w in self.warnings]

    def render_table(self) -> Any:
        """A :class:`rich.table.Table` of column / kind / confidence / evidence / action."""
        from rich.table import Table

        table = Table(title="PII found and handled", show_lines=False)
        for name in ("Column", "PII kind", "Conf.", "Evidence", "Action"):
            table.add_column(name, overflow="fold")
        for row in self._rows():
            style = "bold red" if row[4].startswith("keep") else None
            table.add_row(*row, style=style)
        if self.warnings:
            table.caption = "\n".join(f"warning: {w}" for w in self.warnings)
        return table
