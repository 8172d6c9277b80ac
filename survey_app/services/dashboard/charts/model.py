"""What a chart is, and what each kind of chart is drawn from: small frozen value types.

A :class:`Chart` is an inline SVG with its title, its description in words and its
:class:`DataTable` (the numbers it draws, for screen readers and anyone who prefers numbers).
The other types are the inputs of the chart functions, one row of published results each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_row(cls: type[T], row: Mapping[str, Any], **given: Any) -> T:
    """A ``cls`` (a dataclass) from a published results row: every field not ``given`` is the
    row's entry of the same name, ``None`` where the row has none (e.g. an empty row)."""
    taken = {f.name: row.get(f.name) for f in fields(cls) if f.name not in given}  # type: ignore[arg-type]
    return cls(**taken, **given)


@dataclass(frozen=True)
class DataTable:
    """The numbers a chart draws, as a table: ``head`` and ``rows`` of display strings.

    ``numeric`` says, per column, whether it holds numbers (right-aligned by GOV.UK);
    the first column of each row is its header.
    """

    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]

    @property
    def headers(self) -> list[dict[str, Any]]:
        """The column headers as the templates' ``table`` macro takes them."""
        return [{"text": h, "numeric": n} for h, n in zip(self.head, self.numeric, strict=True)]


@dataclass(frozen=True)
class Chart:
    """An inline SVG with its title, description and table alternative."""

    key: str
    title: str
    description: str
    svg: str
    table: DataTable
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chart:
        table = data["table"]
        return cls(
            key=data["key"],
            title=data["title"],
            description=data["description"],
            svg=data["svg"],
            table=DataTable(
                table["caption"],
                tuple(table["head"]),
                tuple(tuple(r) for r in table["rows"]),
                tuple(table["numeric"]),
            ),
            notes=tuple(data.get("notes", ())),
        )


@dataclass(frozen=True)
class SeriesPoint:
    """One closed wave of a score series, as published (suppressed values are ``None``)."""

    wave: str
    n: int | None
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    score100: float | None
    band: str | None
    suppressed: str | None
    ewma: float | None = None
    ewma_lower: float | None = None
    ewma_upper: float | None = None


@dataclass(frozen=True)
class ActionMarker:
    """An agreed action, drawn as a vertical line at the wave it was agreed after."""

    wave: str
    text: str


@dataclass(frozen=True)
class TargetLine:
    """The target both sides agreed for a score, drawn as a horizontal line."""

    value: float
    agreed: str  # the day agreed, as pages write it


@dataclass(frozen=True)
class GapPoint:
    """One dimension of a perception-gap chart (``None`` statistics when suppressed)."""

    dimension: str
    title: str
    mean_client: float | None
    mean_supplier: float | None
    n_client: int | None
    n_supplier: int | None
    difference: float | None
    g: float | None
    p_adjusted: float | None
    material: bool | None
    suppressed: str | None


@dataclass(frozen=True)
class HeatCell:
    mean: float | None
    n: int | None
    band: str | None
    suppressed: str | None


@dataclass(frozen=True)
class Scale:
    """What the charts need to know about the instrument's scale."""

    points: int = 5
    strength: float = 4.0
    concern: float = 3.0
