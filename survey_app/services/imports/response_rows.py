"""Checking a file in the ``responses`` layout: its header, then each row, cell by cell.

A :class:`ResponseChecker` reads the header row, then checks every row against the
relationship (side, service area, role level), the instrument version the row names (its item
and comment columns, each answer on its scale), the wave (new, or closed with no responses)
and the response key. A row without problems becomes a :class:`CheckedRow`, ready to store;
a row with problems adds them (row and column named) to the checker's
:class:`~survey_app.services.imports.spreadsheets.Problems`. The rules are those of
:mod:`survey_app.services.imports.responses`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import func, select

from instruments import CommentQuestion, Instrument, Item
from survey_app.extensions import db
from survey_app.models import (
    ROLE_LEVELS,
    SIDES,
    InstrumentVersion,
    Relationship,
    Response,
    Wave,
)
from survey_app.services import ServiceError
from survey_app.services.codebook import DONT_KNOW, OTHER
from survey_app.services.formula_guard import restore
from survey_app.services.imports.spreadsheets import (
    Problems,
    Rejected,
    cell_text,
    column_letter,
)
from survey_app.services.instruments import freeze_instrument, frozen_instrument
from survey_app.services.waves import LABEL
from survey_app.texts import N_, Wording, wording

MAX_COLUMNS = 2000
FIXED = (
    "response_id",
    "wave",
    "side",
    "service_area",
    "role_level",
    "instrument",
    "instrument_version",
)
_GENERALISED = N_(
    "is %(other)s: a group of fewer than k responses combined in a k-anonymous download, "
    "which cannot be imported: import the original responses"
)
REQUIRED = ("side", "instrument", "instrument_version")
_WAVE_LABEL_RULE = N_("use 1–40 letters, digits, spaces, dots, dashes or underscores, e.g. 2012-Q4")


class ImportRejected(Rejected):
    """The file was refused; ``problems`` names each bad row and column. Nothing was stored."""

    outcome: ClassVar[str] = N_("Nothing was imported")


class FileRefused(ImportRejected):
    """The file as a whole cannot be imported: unreadable, not the responses layout, too large."""

    def __init__(self, message: Wording | str) -> None:
        super().__init__([message])


def bad_wave_label(label: str) -> FileRefused:
    """The refusal of a wave label that is not one (``--wave``, the import page's wave field)."""
    return FileRefused(_not_a_wave_label(label))


def _not_a_wave_label(label: str) -> Wording:
    return wording(
        N_("%(label)s is not a wave label: %(rule)s"),
        label=repr(label),
        rule=wording(_WAVE_LABEL_RULE),
    )


def _text(value: Any) -> str:
    """A cell's text, with the spreadsheet-formula guard of a download removed."""
    return restore(cell_text(value))


@dataclass
class _Version:
    """An instrument version as the file's columns hold it."""

    model: InstrumentVersion
    instrument: Instrument
    #: column index -> (item_no, item)
    items: dict[int, tuple[int, Item]] = field(default_factory=dict)
    #: column index -> comment question
    comments: dict[int, CommentQuestion] = field(default_factory=dict)
    #: item/comment columns that this version does not have
    foreign: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.model.key} v{self.model.version}"


@dataclass
class WaveTarget:
    """A wave the file's rows go to: an existing closed wave, or one to create (``wave`` None)."""

    label: str
    wave: Wave | None
    version_id: int | None
    count: int = 0
    first_row: int = 0


@dataclass
class CheckedRow:
    """A row without problems: its response (without its wave), answers and comments."""

    row: int
    wave_label: str
    response: dict[str, Any]
    answers: list[dict[str, Any]]
    comments: list[dict[str, Any]]


class ResponseChecker:
    """Checks a responses file for one relationship, header first, then row by row.

    ``only_wave`` (``--wave``) takes the rows of that wave (and rows with a blank wave) and
    counts the others as skipped. Checked rows gather in :attr:`pending` until the caller
    stores them; :attr:`waves` are the waves the rows go to.
    """

    def __init__(self, relationship: Relationship, wave_label: str | None) -> None:
        self.relationship = relationship
        self.only_wave = wave_label.strip() if wave_label else None
        self.problems = Problems()
        self.areas: dict[str, int] = {}
        for area in relationship.service_areas:
            self.areas[area.key.lower()] = area.id
            self.areas.setdefault(area.name.strip().lower(), area.id)
        self.versions: dict[tuple[str, str], _Version | None] = {}
        self.waves: dict[str, WaveTarget | None] = {}
        self.seen_ids: set[bytes] = set()
        self.skipped = 0
        self.rows = 0
        self.pending: list[CheckedRow] = []

    def cell_problem(self, row: int, column: str, problem: Wording | str) -> None:
        """Note a problem of the cell in ``row`` and ``column`` (a wording, said when read)."""
        self.problems.add(
            wording(
                N_("row %(row)s, column %(column)s: %(problem)s"),
                row=row,
                column=column,
                problem=problem,
            )
        )

    # ------------------------------------------------------------------ header

    def read_header(self, cells: list[Any]) -> None:
        """Take the column names from the header row; refuse a file that is not the layout."""
        names = [_text(c).lower() for c in cells]
        while names and not names[-1]:
            names.pop()
        if not names:
            raise FileRefused(
                wording(
                    N_(
                        "Row 1 must be a header row naming the columns (wave, side, "
                        "service_area, role_level, instrument, instrument_version and the item "
                        "keys)"
                    )
                )
            )
        if len(names) > MAX_COLUMNS:
            raise FileRefused(
                wording(
                    N_("The file has %(count)s columns: at most %(most)s"),
                    count=f"{len(names):,}",
                    most=f"{MAX_COLUMNS:,}",
                )
            )
        problems: list[Wording | str] = []
        for i, name in enumerate(names):
            if not name:
                problems.append(
                    wording(
                        N_("column %(column)s of the header row is blank"),
                        column=column_letter(i),
                    )
                )
            elif name in names[:i]:
                problems.append(
                    wording(N_("the header names column %(name)s twice"), name=repr(name))
                )
        required = list(REQUIRED) + ([] if self.only_wave else ["wave"])
        missing = [name for name in required if name not in names]
        if missing:
            problems.append(
                wording(
                    N_(
                        "the header row has no %(columns)s column: is this a file in the "
                        "responses layout?"
                    )
                    if len(missing) == 1
                    else N_(
                        "the header row has no %(columns)s columns: is this a file in the "
                        "responses layout?"
                    ),
                    columns=", ".join(missing),
                )
            )
        if problems:
            raise ImportRejected(problems)
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}
        self.answer_columns = [i for i, name in enumerate(names) if name not in FIXED]
        self.width = len(names)

    # ------------------------------------------------------------------ one row

    def check_row(self, row: int, cells: list[Any]) -> None:
        """Check one row: a :class:`CheckedRow` in :attr:`pending`, or its problems noted."""
        fitted = self._fitted(row, cells)
        if fitted is None:
            return

        def cell(name: str) -> str:
            i = self.index.get(name)
            return _text(fitted[i]) if i is not None else ""

        label = cell("wave")
        if self.only_wave:
            if not label:
                label = self.only_wave
            elif label != self.only_wave:
                self.skipped += 1
                return
        self.rows += 1
        respondent = self._respondent(row, label, cell)
        version = self._row_version(row, cell("instrument"), cell("instrument_version"))
        target = self.wave(row, label, version) if (version is not None and label) else None
        response_id = self.response_id(row, cell("response_id"))
        if version is None:
            return
        answers, comments = self.answers(row, fitted, version, response_id)
        if answers is None or respondent is None or target is None or response_id is None:
            return
        target.count += 1
        response = {"id": response_id, "instrument_version_id": version.model.id, **respondent}
        self.pending.append(CheckedRow(row, label, response, answers, comments))

    def _fitted(self, row: int, cells: list[Any]) -> list[Any] | None:
        """The row's cells, one per header column; None (a problem) for a value past them."""
        if len(cells) > self.width:
            extra = [i for i in range(self.width, len(cells)) if _text(cells[i])]
            if extra:
                self.problems.add(
                    wording(
                        N_("row %(row)s: column %(column)s has a value but no header"),
                        row=row,
                        column=column_letter(extra[0]),
                    )
                )
                return None
        if len(cells) < self.width:
            cells = cells + [None] * (self.width - len(cells))
        return cells

    def _respondent(
        self, row: int, label: str, cell: Callable[[str], str]
    ) -> dict[str, Any] | None:
        """The row's side, service area and role level, or None if any of them (or its wave
        label) has a problem."""
        ok = True
        for column in ("side", "service_area", "role_level"):
            if cell(column).lower() == OTHER:
                self.cell_problem(row, column, wording(_GENERALISED, other=OTHER))
                return None
        if not label:
            self.cell_problem(
                row, "wave", wording(N_("is blank: every response belongs to a wave"))
            )
            ok = False
        side = cell("side").lower()
        if side not in SIDES:
            self.cell_problem(
                row,
                "side",
                wording(
                    N_("%(value)s is not a side: use client or supplier"), value=repr(cell("side"))
                )
                if side
                else wording(N_("is blank: use client or supplier")),
            )
            ok = False
        area_text = cell("service_area")
        area_id = None
        if area_text:
            area_id = self.areas.get(area_text.lower())
            if area_id is None:
                known = ", ".join(a.key for a in self.relationship.service_areas)
                self.cell_problem(
                    row,
                    "service_area",
                    wording(
                        N_(
                            "%(value)s is not a service area of this relationship (known: %(known)s)"
                        ),
                        value=repr(area_text),
                        known=known or wording(N_("none")),
                    ),
                )
                ok = False
        role = cell("role_level").lower() or None
        if role is not None and role not in ROLE_LEVELS:
            self.cell_problem(
                row,
                "role_level",
                wording(
                    N_("%(value)s is not a role level: use %(levels)s or leave it blank"),
                    value=repr(cell("role_level")),
                    levels=", ".join(ROLE_LEVELS),
                ),
            )
            ok = False
        if not ok:
            return None
        return {"side": side, "service_area_id": area_id, "role_level": role}

    def response_id(self, row: int, text: str) -> uuid.UUID | None:
        if not text:
            return uuid.uuid4()
        try:
            value = uuid.UUID(text)
        except ValueError:
            self.cell_problem(
                row,
                "response_id",
                wording(N_("%(value)s is not a response key (a UUID)"), value=repr(text)),
            )
            return None
        if value.bytes in self.seen_ids:
            self.cell_problem(
                row, "response_id", wording(N_("%(value)s appears twice in the file"), value=text)
            )
            return None
        self.seen_ids.add(value.bytes)
        return value

    # ------------------------------------------------------------------ instrument versions

    def _row_version(self, row: int, key: str, number: str) -> _Version | None:
        if not key or not number:
            column = "instrument" if not key else "instrument_version"
            self.cell_problem(
                row, column, wording(N_("is blank: name the instrument the response answered"))
            )
            return None
        return self.version(row, key, number)

    def version(self, row: int, key: str, number: str) -> _Version | None:
        """The instrument version a row names (frozen now if it is new), looked up once."""
        cache_key = (key, number)
        if cache_key in self.versions:
            return self.versions[cache_key]
        found: _Version | None = None
        if not re.fullmatch(r"[1-9][0-9]{0,5}", number):
            self.cell_problem(
                row,
                "instrument_version",
                wording(N_("%(value)s is not a version number"), value=repr(number)),
            )
        else:
            try:
                model = freeze_instrument(key, int(number))
            except ServiceError as exc:
                self.cell_problem(row, "instrument", exc.stored)
            else:
                found = self._layout(row, model)
        self.versions[cache_key] = found
        return found

    def _layout(self, row: int, model: InstrumentVersion) -> _Version:
        instrument = frozen_instrument(model)
        items = {item.key: (n, item) for n, item in enumerate(instrument.items)}
        comments = {q.key: q for q in instrument.comments}
        layout = _Version(model, instrument)
        for i in self.answer_columns:
            name = self.names[i]
            if name in items:
                layout.items[i] = items[name]
            elif name in comments:
                layout.comments[i] = comments[name]
            elif name.startswith("comment_") and name[8:] in comments:
                layout.comments[i] = comments[name[8:]]
            else:
                layout.foreign.append(i)
        missing = [key for key in items if key not in self.index]
        if missing and len(missing) == len(items):
            self.problems.add(
                wording(
                    N_(
                        "row %(row)s: the header has none of the item columns of %(version)s (%(keys)s...)"
                    ),
                    row=row,
                    version=layout.name,
                    keys=", ".join(list(items)[:5]),
                )
            )
        return layout

    # ------------------------------------------------------------------ waves

    def wave(self, row: int, label: str, version: _Version) -> WaveTarget | None:
        """The wave a row goes to: every row of a wave must name the same instrument version."""
        if label in self.waves:
            target = self.waves[label]
            if target is not None and target.version_id != version.model.id:
                self.cell_problem(
                    row,
                    "instrument_version",
                    wording(
                        N_(
                            "wave %(wave)s is on %(version)s; every response of a wave must "
                            "answer the same instrument version"
                        ),
                        wave=label,
                        version=_version_name(target.version_id),
                    ),
                )
            return target
        target = None
        if not LABEL.match(label):
            self.cell_problem(row, "wave", _not_a_wave_label(label))
        else:
            existing = db.session.scalar(
                select(Wave).where(
                    Wave.relationship_id == self.relationship.id, Wave.label == label
                )
            )
            if existing is None:
                target = WaveTarget(label, None, version.model.id, first_row=row)
            else:
                target = self._existing_wave(row, existing, version)
        self.waves[label] = target
        return target

    def _existing_wave(self, row: int, existing: Wave, version: _Version) -> WaveTarget | None:
        """An existing wave takes the rows only if it is closed, empty and on their version."""
        label = existing.label
        stored = db.session.scalar(
            select(func.count()).select_from(Response).where(Response.wave_id == existing.id)
        )
        if existing.state != "closed":
            self.cell_problem(
                row,
                "wave",
                wording(
                    N_(
                        "wave %(wave)s is %(state)s: responses can be imported only into a new "
                        "wave or a closed wave with no responses"
                    ),
                    wave=label,
                    state=existing.state,
                ),
            )
        elif stored:
            self.cell_problem(
                row,
                "wave",
                wording(
                    N_(
                        "wave %(wave)s already has %(count)s responses: import only waves this "
                        "service holds no responses for"
                    ),
                    wave=label,
                    count=f"{stored:,}",
                ),
            )
        elif existing.instrument_version_id != version.model.id:
            self.cell_problem(
                row,
                "instrument_version",
                wording(
                    N_("wave %(wave)s is on %(version)s, not %(row_version)s"),
                    wave=label,
                    version=_version_name(existing.instrument_version_id),
                    row_version=version.name,
                ),
            )
        else:
            return WaveTarget(label, existing, existing.instrument_version_id, first_row=row)
        return None

    # ------------------------------------------------------------------ answers

    def answers(
        self, row: int, cells: list[Any], version: _Version, response_id: uuid.UUID | None
    ) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]]]:
        """The row's answers (None if any cell has a problem) and comments, as rows to insert."""
        ok = True
        for i in version.foreign:
            if _text(cells[i]):
                self.cell_problem(
                    row,
                    self.names[i],
                    wording(
                        N_("is not an item of %(version)s, so it must be blank"),
                        version=version.name,
                    ),
                )
                ok = False
        answers = self._item_answers(row, cells, version, response_id)
        comments = self._comments(row, cells, version, response_id)
        if answers is None or comments is None:
            ok = False
        return (answers if ok else None), (comments or [])

    def _item_answers(
        self, row: int, cells: list[Any], version: _Version, response_id: uuid.UUID | None
    ) -> list[dict[str, Any]] | None:
        scale = version.instrument.scale
        points = scale.points
        dk_words = {DONT_KNOW, scale.dont_know_label.strip().lower(), "don't know", "don’t know"}
        answers: list[dict[str, Any]] = []
        ok = True
        for i, (item_no, item) in version.items.items():
            raw = cells[i]
            if raw is None or raw == "":
                continue
            value = _answer(raw, points)
            if value is None:
                text = _text(raw)
                if not text:
                    continue
                problem: Wording | None
                if text.lower() not in dk_words:
                    problem = _off_scale(text, points, item.dont_know)
                elif not item.dont_know:
                    problem = wording(N_("“don't know” is not an answer this item allows"))
                else:
                    problem = None  # "don't know": stored as an answer without a value
                if problem:
                    self.cell_problem(row, self.names[i], problem)
                    ok = False
                    continue
            answers.append({"response_id": response_id, "item_no": item_no, "value": value})
        return answers if ok else None

    def _comments(
        self, row: int, cells: list[Any], version: _Version, response_id: uuid.UUID | None
    ) -> list[dict[str, Any]] | None:
        comments: list[dict[str, Any]] = []
        ok = True
        for i, question in version.comments.items():
            text = _text(cells[i])
            if not text:
                continue
            if len(text) > question.max_length:
                self.cell_problem(
                    row,
                    self.names[i],
                    wording(
                        N_("the comment has %(count)s characters: at most %(most)s"),
                        count=f"{len(text):,}",
                        most=f"{question.max_length:,}",
                    ),
                )
                ok = False
                continue
            comments.append(
                {"response_id": response_id, "question_key": question.key, "text": text}
            )
        return comments if ok else None


_POINTS = {str(n): n for n in range(1, 100)}


def _answer(raw: Any, points: int) -> int | None:
    """The scale point a cell holds, or None if it holds no whole number on the scale."""
    quick = _POINTS.get(raw) if raw.__class__ is str else None
    if quick is not None:
        return quick if quick <= points else None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            return None
        value = int(raw)
    else:
        text = str(raw).strip()
        if not re.fullmatch(r"[0-9]{1,3}(\.0*)?", text):
            return None
        value = int(float(text))
    return value if 1 <= value <= points else None


def _off_scale(text: str, points: int, dont_know: bool) -> Wording:
    shown = text if len(text) <= 20 else text[:20] + "…"
    dk = wording(N_(", %(dk)s for don't know,"), dk=DONT_KNOW) if dont_know else ""
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return wording(
            N_(
                "%(value)s is not on the 1–%(points)s scale (use a whole number "
                "1–%(points)s%(dk)s or leave it blank)"
            ),
            value=shown,
            points=points,
            dk=dk,
        )
    return wording(
        N_("%(value)s is not an answer: use a whole number 1–%(points)s%(dk)s or leave it blank"),
        value=repr(shown),
        points=points,
        dk=dk,
    )


def _version_name(version_id: int | None) -> Wording | str:
    model = db.session.get(InstrumentVersion, version_id) if version_id else None
    return f"{model.key} v{model.version}" if model else wording(N_("another instrument version"))
