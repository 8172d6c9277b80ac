"""The codebook: what a column of a table is (:class:`Column`), and every column of the results
tables, described.

One column type serves every table the service writes — the results tables, the raw
``responses`` and the codebook itself — and every reader of them: the downloads, the results
store and the API's OpenAPI document. This module imports nothing of the services, so that
each of them can import it.

The results tables' columns are data, in ``codebook.yaml`` beside this module (read once, when
first asked for). Types are ``text``, ``integer``, ``number`` and ``boolean`` (and ``answer``
for the item columns of ``responses``: a scale point, blank when skipped, :data:`DONT_KNOW`
for "don't know"); a blank cell (``null``) means "not computed" (the row's ``reason`` says
why), "does not apply", or — with a ``suppressed`` reason — hidden for confidentiality.
Notation: K = scale points (5 unless the instrument says otherwise); scores are on the 1–K
scale after reverse-keying (x' = K + 1 − x), so a higher value is always more favourable to
the partnership; "points" are on the 0–100 scale, (mean − 1) / (K − 1) × 100.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from survey_app.texts import N_

__all__ = [
    "OTHER",
    "OTHER_LABEL",
    "COLUMN_TYPES",
    "DONT_KNOW",
    "NUMBER_KINDS",
    "Column",
    "columns",
    "table_description",
    "tables",
]

#: The text an answer of "don't know" is given as: in the survey's forms, in every download
#: (CSV, XLSX, JSON) and in the files an import reads.
DONT_KNOW = "dk"

#: A side, service area or role level generalised in the raw ``responses`` download: one of
#: several groups of fewer than k responses combined (k-anonymity, DESIGN §4.14).
OTHER = "_other"
OTHER_LABEL = N_("Other (groups of fewer than k responses combined)")

#: Column types: how writers treat a cell. ``answer`` cells hold a scale point, None or DONT_KNOW.
COLUMN_TYPES = ("text", "integer", "number", "boolean", "answer")

#: Kinds of ``number`` column, and the decimals a spreadsheet shows of each (XLSX number
#: formats). Only the display is rounded: every format keeps the full value.
NUMBER_KINDS = {
    "score": 2,  # on the 1–K scale: a mean, sd, limit, difference, slope, chart value
    "points": 1,  # on the 0–100 scale
    "percent": 1,  # a percentage, 0–100
    "p_value": 3,  # a p-value, adjusted or not
    "coefficient": 2,  # a correlation, alpha, effect size (g, δ, τ), ICC or r_wg
    "statistic": 2,  # a test statistic or its degrees of freedom (t, z, U, Var S)
    "count": 0,  # a whole number carried as a number (Mann–Kendall S)
}

_SOURCE = Path(__file__).with_name("codebook.yaml")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table, as the codebook describes it."""

    name: str
    type: str
    description: str
    #: A short label (the SPSS variable label); for an item of ``responses``, the client
    #: staff's wording.
    label: str = ""
    #: Code → meaning, e.g. {1: "Strongly disagree", ..., "dk": "Don't know"}.
    value_labels: Mapping[Any, str] = field(default_factory=dict)
    #: A ``number`` column's kind (:data:`NUMBER_KINDS`): how many decimals a spreadsheet shows.
    kind: str = ""
    #: For an item of ``responses``: the supplier staff's wording, where it differs from the
    #: client's (``label``).
    supplier_label: str = ""
    #: The label in Welsh ("" where there is none): for an item, the client staff's Welsh
    #: wording, from the instrument's translation the wave froze.
    label_cy: str = ""
    #: The value labels in Welsh (empty where there are none).
    value_labels_cy: Mapping[Any, str] = field(default_factory=dict)
    #: The description in Welsh ("" where there is none).
    description_cy: str = ""

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name!r}: type must be one of {COLUMN_TYPES}")
        if self.kind and (self.type != "number" or self.kind not in NUMBER_KINDS):
            raise ValueError(
                f"column {self.name!r}: a kind is for number columns, one of "
                f"{', '.join(NUMBER_KINDS)}"
            )

    def in_language(self, language: str) -> Column:
        """This column labelled and described in ``language`` (``cy``: the Welsh where it has
        it), as an SPSS file in that language labels it."""
        if language != "cy":
            return self
        return replace(
            self,
            label=self.label_cy or self.label,
            description=self.description_cy or self.description,
            value_labels={**self.value_labels, **self.value_labels_cy},
        )

    @property
    def decimals(self) -> int | None:
        """Decimals a spreadsheet shows of a number column (its kind's); None for any other
        column, or a number column of no kind (shown as it is)."""
        return NUMBER_KINDS.get(self.kind) if self.type == "number" else None


@dataclass(frozen=True, slots=True)
class _Codebook:
    columns: dict[str, tuple[Column, ...]]
    descriptions: dict[str, str]
    descriptions_cy: dict[str, str]
    stored: tuple[str, ...]


def tables() -> tuple[str, ...]:
    """The results tables the codebook describes that are stored when a wave closes (the
    others, marked ``stored: false``, are built when read: see :func:`columns`)."""
    return _codebook().stored


def columns(table: str) -> tuple[Column, ...]:
    """Every column of a results table, in table order (``suppressed`` last).

    Raises KeyError for an unknown table.
    """
    return _codebook().columns[table]


def table_description(table: str, language: str = "en") -> str:
    """What one row of a results table is ("" for a table the codebook does not describe), in
    ``language`` (``cy``: the Welsh, where the table has it)."""
    found = _codebook()
    english = found.descriptions.get(table, "")
    return found.descriptions_cy.get(table) or english if language == "cy" else english


@functools.cache
def _codebook() -> _Codebook:
    """The codebook read from ``codebook.yaml``, its shared columns put in place."""
    # The C loader when PyYAML has it: the file is read in about 15 ms instead of about 120.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(_SOURCE.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    shared = {entry["name"]: _column(entry) for entry in document["columns"]}
    tables_: dict[str, tuple[Column, ...]] = {}
    for table, spec in document["tables"].items():
        found = tuple(
            shared[entry] if isinstance(entry, str) else _column(entry) for entry in spec["columns"]
        )
        names = [c.name for c in found]
        if len(set(names)) != len(names):
            raise ValueError(f"{_SOURCE.name}: table {table!r} names a column twice")
        tables_[table] = found
    descriptions = {table: spec["description"] for table, spec in document["tables"].items()}
    welsh = {
        t: spec["description_cy"]
        for t, spec in document["tables"].items()
        if "description_cy" in spec
    }
    stored = tuple(t for t, spec in document["tables"].items() if spec.get("stored", True))
    return _Codebook(tables_, descriptions, welsh, stored)


def _column(entry: Mapping[str, Any]) -> Column:
    return Column(
        entry["name"],
        entry["type"],
        entry["description"],
        label=entry.get("label", ""),
        value_labels=dict(entry.get("value_labels") or {}),
        kind=entry.get("kind", ""),
        label_cy=entry.get("label_cy", ""),
        value_labels_cy=dict(entry.get("value_labels_cy") or {}),
        description_cy=entry.get("description_cy", ""),
    )
