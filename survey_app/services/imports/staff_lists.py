"""Staff lists: the people a wave invites, uploaded as CSV or XLSX, checked row by row.

A staff list has a header row and one row per person, with the columns

* ``email`` (also ``email address``, ``e-mail``) — required;
* ``party`` (also ``organisation``, ``side``) — the party's name as the relationship spells it,
  or its side, ``client`` or ``supplier`` (case and spacing do not matter) — required;
* ``service area`` (also ``service_area``, ``area``) — optional: a service area's name or key;
  blank leaves the respondent to choose it in the survey.
* ``language`` (also ``iaith``) — optional: ``en`` or ``cy`` (also ``English``, ``Welsh``,
  ``Cymraeg``, ``Saesneg``); blank: not known, so the person's emails are bilingual (Welsh
  first where ``WELSH_FIRST`` is set). The language is kept only on the address list (deleted
  when the wave closes) and on the link it sends, which opens the survey in it; never on a
  response, since a language is a quasi-identifier.

A party's area with fewer than ``MIN_CELL_SIZE`` people on the wave's list is not fixed on
their invitations: they are added without it (and choose it in the survey), because an
invitation area of one or two people, once a link of it is used, would name who answered.
The report says which areas were treated so, and why.

Other columns (names, job titles ...) are ignored and never stored. An updated list may be
uploaded again for late joiners: addresses already on the wave's list are skipped and
reported, the new ones added. Otherwise the upload is all or nothing: a file with any problem
adds nobody, and the report names each bad row and column (duplicates within the file,
addresses that are not email addresses, parties or areas the relationship does not have). What is stored is the address
list of the wave (:class:`~survey_app.models.InvitationAddress`), deleted when the wave closes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import IO, Any, ClassVar

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select

from survey_app.extensions import db
from survey_app.models import InvitationAddress, Party, ServiceArea, User, Wave
from survey_app.services import audit
from survey_app.services.imports.spreadsheets import (
    Problems,
    Rejected,
    UnreadableFile,
    cell_text,
    column_letter,
    read_rows,
)
from survey_app.texts import N_, wording

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
    "language": ("language", "iaith", "preferred language"),
}
COLUMN_NAMES = {  # translated where shown
    "email": N_("email"),
    "party": N_("party"),
    "service_area": N_("service area"),
    "language": N_("language"),
}
#: What a language cell may say (casefolded) -> the language code stored.
LANGUAGE_WORDS = {
    "en": "en",
    "english": "en",
    "saesneg": "en",
    "cy": "cy",
    "welsh": "cy",
    "cymraeg": "cy",
}


class StaffListRejected(Rejected):
    """The staff list was refused; ``problems`` names each bad row and column. Nothing was added.

    The message is its first line only: the page lists the problems.
    """

    outcome: ClassVar[str] = N_("Nobody was added")

    def describe(self) -> str:
        if self.rows_checked:
            return self.counted()
        return self.problems[0] if self.problems else _("The staff list cannot be read")


@dataclass(frozen=True, slots=True)
class StaffMember:
    row: int
    email: str
    party: Party
    service_area: ServiceArea | None
    language: str | None = None  # en, cy, or None: not known


@dataclass(frozen=True, slots=True)
class StaffListReport:
    """What an upload added (counts only: the addresses are on the wave's list)."""

    added: int
    by_party: dict[str, int]
    by_area: dict[str, int]
    ignored_columns: tuple[str, ...]
    on_list: int
    #: "Area (party)" -> people added without that area: too few to fix it on invitations
    without_area: dict[str, int] = field(default_factory=dict)
    min_group: int = 0
    #: Addresses of the file already on the wave's list (late joiners' lists): skipped
    already_listed: tuple[str, ...] = ()


def _normal(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold())


def _shown(text: str, limit: int = 60) -> str:
    """A cell's text as quoted in a problem (cut short, control characters made visible)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_staff_list(
    source: IO[bytes], wave: Wave, *, filename: str = ""
) -> tuple[list[StaffMember], tuple[str, ...], tuple[str, ...]]:
    """Read and check a staff list for ``wave``; raise :class:`StaffListRejected` on any problem.

    Returns the new people in file order, the names of the columns that were ignored, and the
    addresses already on the wave's list (skipped).
    """
    try:
        _, rows = read_rows(source, filename)
        header_row = next(rows, None)
    except UnreadableFile as refused:
        raise StaffListRejected([refused.stored]) from refused
    if header_row is None:
        raise StaffListRejected([wording(N_("The file is empty"))])
    columns, ignored = _header(header_row[1])
    checker = _Checker(wave, columns)
    people: list[StaffMember] = []
    try:
        for number, cells in rows:
            if not any(cell_text(c) for c in cells):
                continue  # a blank row
            checker.checked += 1
            if checker.checked > MAX_ROWS:
                raise StaffListRejected(
                    [
                        wording(
                            N_(
                                "The file has more than %(count)s people: split it into smaller lists"
                            ),
                            count=f"{MAX_ROWS:,}",
                        )
                    ]
                )
            person = checker.person(number, cells)
            if person is not None:
                people.append(person)
    except UnreadableFile as refused:
        raise StaffListRejected([refused.stored]) from refused
    problems = checker.problems
    if problems:
        raise StaffListRejected(problems.listed, more=problems.more, rows_checked=checker.checked)
    if not people and not checker.known:
        raise StaffListRejected([wording(N_("The file has a header row but nobody in it"))])
    return people, tuple(ignored), tuple(checker.known)


def _header(cells: list[Any]) -> tuple[dict[str, int], list[str]]:
    """Where each known column is (email, party, service area), and the ignored columns' names."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[str] = []
    for index, raw in enumerate(cells):
        name = _normal(cell_text(raw))
        if not name:
            continue
        kind = next((k for k, names in HEADERS.items() if name in names), None)
        if kind is None:
            ignored.append(cell_text(raw))
        elif kind in columns:
            problems.append(
                _(
                    "Row 1: columns %(first)s and %(second)s are both the %(name)s column: "
                    "keep one",
                    first=column_letter(columns[kind]),
                    second=column_letter(index),
                    name=_(COLUMN_NAMES[kind]),
                )
            )
        else:
            columns[kind] = index
    for kind in ("email", "party"):
        if kind not in columns:
            problems.append(
                _(
                    "Row 1: there is no %(name)s column. The first row must name the columns: "
                    "email, party and (optionally) service area and language",
                    name=_(COLUMN_NAMES[kind]),
                )
            )
    if problems:
        raise StaffListRejected(problems)
    return columns, ignored


@dataclass
class _Checker:
    """Checks each row of a staff list against the wave's relationship and address list."""

    wave: Wave
    columns: dict[str, int]
    problems: Problems = field(default_factory=Problems)
    checked: int = 0
    #: casefolded address -> the row it was first on
    seen: dict[str, int] = field(default_factory=dict)
    #: addresses already on the wave's list, as the file spells them (skipped, not refused)
    known: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        relationship = self.wave.relationship
        self.parties: dict[str, Party] = {}
        for party in relationship.parties:
            self.parties[_normal(party.name)] = party
            self.parties[party.side] = party
        self.areas: dict[str, ServiceArea] = {}
        for area in relationship.service_areas:
            self.areas[_normal(area.name)] = area
            self.areas[_normal(area.key)] = area
        self.party_names = _(" or ").join(f"‘{p.name}’" for p in relationship.parties)
        self.area_names = ", ".join(f"‘{a.name}’" for a in relationship.service_areas)
        self.on_list = {
            email.casefold()
            for email in db.session.scalars(
                select(InvitationAddress.email).where(InvitationAddress.wave_id == self.wave.id)
            )
        }

    def person(self, number: int, cells: list[Any]) -> StaffMember | None:
        """The person on row ``number``, or None (with the row's problems noted)."""
        values = {
            kind: cell_text(cells[i]) if i < len(cells) else "" for kind, i in self.columns.items()
        }
        email = self.email(number, values["email"])
        party = self.party(number, values["party"])
        area_ok, area = self.area(number, values.get("service_area", ""))
        language_ok, language = self.language(number, values.get("language", ""))
        if email is None or party is None or not area_ok or not language_ok:
            return None
        return StaffMember(number, email, party, area, language)

    def where(self, number: int, kind: str) -> str:
        return _(
            "Row %(row)s, column %(column)s (%(name)s)",
            row=number,
            column=column_letter(self.columns[kind]),
            name=_(COLUMN_NAMES[kind]),
        )

    def email(self, number: int, email: str) -> str | None:
        if email.lower().startswith("mailto:"):
            email = email[7:]
        folded = email.casefold()
        if not email:
            problem = _("enter an email address")
        elif len(email) > MAX_EMAIL or not EMAIL.match(email):
            problem = _(
                "‘%(text)s’ is not an email address in the correct format, like name@example.com",
                text=_shown(email),
            )
        elif folded in self.seen:
            problem = _("%(email)s is also on row %(row)s", email=email, row=self.seen[folded])
        elif folded in self.on_list:
            self.seen[folded] = number
            self.known.append(email)
            return None
        else:
            self.seen[folded] = number
            return email
        self.problems.add(f"{self.where(number, 'email')}: {problem}")
        return None

    def party(self, number: int, text: str) -> Party | None:
        party = self.parties.get(_normal(text)) if text else None
        if not text:
            self.problems.add(
                f"{self.where(number, 'party')}: "
                + _("enter the party, %(parties)s", parties=self.party_names)
            )
        elif party is None:
            self.problems.add(
                f"{self.where(number, 'party')}: "
                + _(
                    "‘%(text)s’ is not a party of this relationship: use %(parties)s, or the "
                    "side (client or supplier)",
                    text=_shown(text),
                    parties=self.party_names,
                )
            )
        return party

    def area(self, number: int, text: str) -> tuple[bool, ServiceArea | None]:
        """Whether the row's service area is fine, and the area (None: left to the survey)."""
        if not text:
            return True, None
        area = self.areas.get(_normal(text))
        if area is None:
            known = (
                _("use one of %(areas)s, or leave it blank", areas=self.area_names)
                if self.area_names
                else _("this relationship has no service areas: leave it blank")
            )
            self.problems.add(
                f"{self.where(number, 'service_area')}: "
                + _(
                    "‘%(text)s’ is not a service area of this relationship: %(known)s",
                    text=_shown(text),
                    known=known,
                )
            )
        return area is not None, area

    def language(self, number: int, text: str) -> tuple[bool, str | None]:
        """Whether the row's language is fine, and the language (None: not known)."""
        if not text:
            return True, None
        language = LANGUAGE_WORDS.get(_normal(text))
        if language is None:
            self.problems.add(
                f"{self.where(number, 'language')}: "
                + _(
                    "‘%(text)s’ is not a language the survey offers: use en (English) or cy "
                    "(Welsh), or leave it blank",
                    text=_shown(text),
                )
            )
        return language is not None, language


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
        raise StaffListRejected(
            [wording(N_("Wave %(wave)s is closed: nobody can be invited to it"), wave=wave.label)]
        )
    people, ignored, known = read_staff_list(source, wave, filename=filename)
    min_group = current_app.config["MIN_CELL_SIZE"]
    people, without_area = _small_areas_left_open(wave, people, min_group)
    added_on = today or date.today()
    if people:
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
                    "language": person.language,
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
        skipped=len(known),
    )
    return StaffListReport(
        len(people), dict(by_party), dict(by_area), ignored, on_list, without_area, min_group,
        known,
    )  # fmt: skip


def _small_areas_left_open(
    wave: Wave, people: list[StaffMember], min_group: int
) -> tuple[list[StaffMember], dict[str, int]]:
    """The people, those of a party's area with fewer than ``min_group`` on the list (with
    this upload) taken out of their area; and how many of each such area."""
    listed = Counter(
        tuple(row)
        for row in db.session.execute(
            select(InvitationAddress.party_id, InvitationAddress.service_area_id).where(
                InvitationAddress.wave_id == wave.id,
                InvitationAddress.service_area_id.is_not(None),
            )
        )
    )
    listed.update((p.party.id, p.service_area.id) for p in people if p.service_area)
    small = {group for group, n in listed.items() if n < min_group}
    kept, without = [], Counter[str]()
    for person in people:
        area = person.service_area
        if area is not None and (person.party.id, area.id) in small:
            without[f"{area.name} ({person.party.name})"] += 1
            person = replace(person, service_area=None)
        kept.append(person)
    return kept, dict(without)
