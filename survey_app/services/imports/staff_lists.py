"""Staff lists: the people a wave invites, uploaded as CSV or XLSX, checked row by row.

A staff list has a header row and one row per person, with the columns

* ``email`` (also ``email address``, ``e-mail``) — required;
* ``party`` (also ``organisation``, ``side``) — the party's name as the relationship spells it,
  or its side, ``client`` or ``supplier`` (case and spacing do not matter) — required;
* ``service area`` (also ``service_area``, ``area``) — optional: a service area's name or key;
  blank leaves the respondent to choose it in the survey.

Other columns (names, job titles ...) are ignored and never stored. The upload is all or
nothing: a file with any problem adds nobody, and the report names each bad row and column
(duplicates within the file or already on the wave's list, addresses that are not email
addresses, parties or areas the relationship does not have). What is stored is the address
list of the wave (:class:`~survey_app.models.InvitationAddress`), deleted when the wave closes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlalchemy import func, insert, select

from survey_app.extensions import db
from survey_app.models import InvitationAddress, Party, ServiceArea, User, Wave
from survey_app.services import ServiceError, audit
from survey_app.services.imports.responses import FileRefused, read_rows

MAX_PROBLEMS = 100
MAX_ROWS = 100_000
MAX_EMAIL = 254
# The address forms a mail server accepts in practice, and nothing that could reach a header
# as more than one address (no spaces, commas, quotes or angle brackets): local part of
# RFC 5322 "atext" characters and dots, then a domain of dot-separated labels.
EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]{1,64}(?<!\.)"
    r"@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
HEADERS = {
    "email": ("email", "email address", "e-mail", "e-mail address", "emailaddress"),
    "party": ("party", "organisation", "organization", "side"),
    "service_area": ("service area", "service_area", "area", "service-area", "servicearea"),
}
COLUMN_NAMES = {"email": "email", "party": "party", "service_area": "service area"}


class StaffListRejected(ServiceError):
    """The staff list was refused; ``problems`` names each bad row and column. Nothing was added."""

    def __init__(self, problems: list[str], *, more: int = 0, rows_checked: int = 0) -> None:
        self.problems = problems
        self.more = more
        self.rows_checked = rows_checked
        total = len(problems) + more
        if rows_checked:
            head = (
                f"Nobody was added: {total} problem{'s' if total != 1 else ''} in "
                f"{rows_checked:,} row{'s' if rows_checked != 1 else ''}"
            )
        else:
            head = problems[0] if problems else "The staff list cannot be read"
        super().__init__(head)

    @property
    def total(self) -> int:
        return len(self.problems) + self.more


@dataclass(frozen=True, slots=True)
class StaffMember:
    row: int
    email: str
    party: Party
    service_area: ServiceArea | None


@dataclass(frozen=True, slots=True)
class StaffListReport:
    """What an upload added (counts only: the addresses are on the wave's list)."""

    added: int
    by_party: dict[str, int]
    by_area: dict[str, int]
    ignored_columns: tuple[str, ...]
    on_list: int


def _normal(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold())


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _shown(text: str, limit: int = 60) -> str:
    """A cell's text as quoted in a problem (cut short, control characters made visible)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_staff_list(
    source: IO[bytes], wave: Wave, *, filename: str = ""
) -> tuple[list[StaffMember], tuple[str, ...]]:
    """Read and check a staff list for ``wave``; raise :class:`StaffListRejected` on any problem.

    Returns the people in file order and the names of the columns that were ignored.
    """

    try:
        _, rows = read_rows(source, filename)
        header_row = next(rows, None)
    except FileRefused as refused:
        raise StaffListRejected([refused.problems[0]]) from refused
    if header_row is None:
        raise StaffListRejected(["The file is empty"])
    _, header = header_row
    columns: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[str] = []
    for index, raw in enumerate(header):
        name = _normal(_cell(raw))
        if not name:
            continue
        kind = next((k for k, names in HEADERS.items() if name in names), None)
        if kind is None:
            ignored.append(_cell(raw))
        elif kind in columns:
            problems.append(
                f"Row 1: columns {_column_letter(columns[kind])} and {_column_letter(index)} "
                f"are both the {COLUMN_NAMES[kind]} column: keep one"
            )
        else:
            columns[kind] = index
    for kind in ("email", "party"):
        if kind not in columns:
            problems.append(
                f"Row 1: there is no {COLUMN_NAMES[kind]} column. The first row must name the "
                "columns: email, party and (optionally) service area"
            )
    if problems:
        raise StaffListRejected(problems)

    relationship = wave.relationship
    parties: dict[str, Party] = {}
    for party in relationship.parties:
        parties[_normal(party.name)] = party
        parties[party.side] = party
    areas: dict[str, ServiceArea] = {}
    for area in relationship.service_areas:
        areas[_normal(area.name)] = area
        areas[_normal(area.key)] = area
    party_names = " or ".join(f"‘{p.name}’" for p in relationship.parties)
    area_names = ", ".join(f"‘{a.name}’" for a in relationship.service_areas)
    existing = {
        email.casefold()
        for email in db.session.scalars(
            select(InvitationAddress.email).where(InvitationAddress.wave_id == wave.id)
        )
    }

    people: list[StaffMember] = []
    seen: dict[str, int] = {}
    count = more = checked = 0

    def problem(text: str) -> None:
        nonlocal count, more
        count += 1
        if count <= MAX_PROBLEMS:
            problems.append(text)
        else:
            more += 1

    def where(number: int, kind: str) -> str:
        return f"Row {number}, column {_column_letter(columns[kind])} ({COLUMN_NAMES[kind]})"

    try:
        for number, cells in rows:
            values = {
                kind: _cell(cells[i]) if i < len(cells) else "" for kind, i in columns.items()
            }
            if not any(_cell(c) for c in cells):
                continue  # a blank row
            checked += 1
            if checked > MAX_ROWS:
                raise StaffListRejected(
                    [f"The file has more than {MAX_ROWS:,} people: split it into smaller lists"]
                )
            ok = True
            email = values["email"]
            if email.lower().startswith("mailto:"):
                email = email[7:]
            if not email:
                problem(f"{where(number, 'email')}: enter an email address")
                ok = False
            elif len(email) > MAX_EMAIL or not EMAIL.match(email):
                problem(
                    f"{where(number, 'email')}: ‘{_shown(email)}’ is not an email address in the "
                    "correct format, like name@example.com"
                )
                ok = False
            else:
                folded = email.casefold()
                if folded in seen:
                    problem(f"{where(number, 'email')}: {email} is also on row {seen[folded]}")
                    ok = False
                elif folded in existing:
                    problem(
                        f"{where(number, 'email')}: {email} is already on this wave's address list"
                    )
                    ok = False
                else:
                    seen[folded] = number
            party_text = values["party"]
            party = parties.get(_normal(party_text)) if party_text else None
            if not party_text:
                problem(f"{where(number, 'party')}: enter the party, {party_names}")
                ok = False
            elif party is None:
                problem(
                    f"{where(number, 'party')}: ‘{_shown(party_text)}’ is not a party of this "
                    f"relationship: use {party_names}, or the side (client or supplier)"
                )
                ok = False
            area = None
            if "service_area" in columns and values["service_area"]:
                area = areas.get(_normal(values["service_area"]))
                if area is None:
                    known = (
                        f"use one of {area_names}, or leave it blank"
                        if area_names
                        else ("this relationship has no service areas: leave it blank")
                    )
                    problem(
                        f"{where(number, 'service_area')}: ‘{_shown(values['service_area'])}’ is "
                        f"not a service area of this relationship: {known}"
                    )
                    ok = False
            if ok and party is not None:
                people.append(StaffMember(number, email, party, area))
    except StaffListRejected:
        raise
    except ServiceError as refused:  # FileRefused while reading the rows
        problems_of = getattr(refused, "problems", None) or [str(refused)]
        raise StaffListRejected([problems_of[0]]) from refused
    if problems:
        raise StaffListRejected(problems, more=more, rows_checked=checked)
    if not people:
        raise StaffListRejected(["The file has a header row but nobody in it"])
    return people, tuple(ignored)


def load_staff_list(
    wave: Wave,
    source: IO[bytes],
    *,
    actor: User | str,
    filename: str = "",
    today: date | None = None,
) -> StaffListReport:
    """Add the people of a staff list to the wave's address list (all or nothing)."""
    if wave.state == "closed":
        raise StaffListRejected([f"Wave {wave.label} is closed: nobody can be invited to it"])
    people, ignored = read_staff_list(source, wave, filename=filename)
    added_on = today or date.today()
    db.session.execute(
        insert(InvitationAddress),
        [
            {
                "wave_id": wave.id,
                "email": person.email,
                "party_id": person.party.id,
                "service_area_id": person.service_area.id if person.service_area else None,
                "added_on": added_on,
                "reminders_sent": 0,
            }
            for person in people
        ],
    )
    by_party = Counter(person.party.name for person in people)
    by_area = Counter(
        person.service_area.name if person.service_area else "Not given" for person in people
    )
    on_list = (
        db.session.scalar(select(func.count()).where(InvitationAddress.wave_id == wave.id)) or 0
    )
    audit.record(
        "staff_list.upload",
        actor=actor,
        wave=wave.id,
        added=len(people),
        client=sum(1 for p in people if p.party.side == "client"),
        supplier=sum(1 for p in people if p.party.side == "supplier"),
    )
    return StaffListReport(len(people), dict(by_party), dict(by_area), ignored, on_list)
