"""Mail merge: the links of a wave's address list as a CSV for the council's own email system.

The file holds the only copy of the links; the database keeps their hashes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import bindparam, update

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import InvitationAddress, User, Wave
from survey_app.services import ServiceError, audit
from survey_app.services.formula_guard import neutralise
from survey_app.services.invitations import (
    create_invitations,
    issue_links,
    new_token,
    renew_links,
    survey_link,
)
from survey_app.services.mailing.address_list import (
    Target,
    check_wave_open,
    not_invited,
    targets_of,
    unused,
)
from survey_app.services.mailing.messages import compose, wave_text

#: ``language``: ``en``, ``cy`` or blank (not known: the message is in both); the link of a
#: known language already opens the survey in it. ``subject`` and ``message``: the wave's email
#: to that person (its edited texts, or the defaults), written by the code that sends emails.
MAIL_MERGE_COLUMNS = ("email", "link", "party", "service_area", "language", "subject", "message")


Names = tuple[dict[int, str], dict[int, str]]
Composer = Callable[[int, str, str | None], tuple[str, str]]


def _read_wave(wave: Wave, kind: str) -> tuple[Names, Composer]:
    """Refuse a wave that is not open; else what the rows of a ``kind`` ("invitation" or
    "reminder") file need, read before they are claimed: the names of the wave's parties and
    service areas by id, and what its ``kind`` email says to one person."""
    check_wave_open(wave, f"{kind}s")
    rel = wave.relationship
    names = {p.id: p.name for p in rel.parties}, {a.id: a.name for a in rel.service_areas}
    text = wave_text(wave)
    return names, lambda party_id, link, language: compose(kind, text, party_id, link, language)


def _csv(rows: Iterator[Sequence[str]]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 only with the byte order mark
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MAIL_MERGE_COLUMNS)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])  # CSV injection
    return out.getvalue()


def _rows(
    names: Names,
    compose: Composer,
    links: Iterable[tuple[Target, str]],
) -> Iterator[Sequence[str]]:
    """The mail-merge rows of (address, new token) pairs: address, link, party, area, language,
    and the email's subject and text (``compose(party id, link, language)``)."""
    parties, areas = names
    for t, token in links:
        link = survey_link(token, t.language)
        yield (
            t.email,
            link,
            parties[t.party_id],
            areas.get(t.service_area_id or 0, ""),
            t.language or "",
            *compose(t.party_id, link, t.language),
        )


def mail_merge_invitations(
    wave: Wave, *, actor: User | str, today: date | None = None
) -> tuple[str, int]:
    """Issue a link to every address not yet invited; the mail-merge CSV and how many rows.

    The file holds the only copy of the links. Commits (in one transaction holding the rows it
    issues, so that two downloads at once never invite one person twice) before the file is
    handed over.
    """
    names, message = _read_wave(wave, "invitation")
    day = today or date.today()
    wave_id = wave.id
    a = InvitationAddress
    with write_transaction():
        targets = targets_of(not_invited(wave_id, failed=None).with_for_update(of=a))
        if not targets:
            raise ServiceError(_("Everybody on the address list has been invited already"))
        rows = [(t.party_id, t.service_area_id, None) for t in targets]
        ids = create_invitations(wave_id, rows, day)
        tokens = issue_links(ids)
        table = a.__table__
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("aid"))
            .values(invitation_id=bindparam("iid"), invited_on=day, last_error=None),
            [{"aid": t.address_id, "iid": i} for t, i in zip(targets, ids, strict=True)],
        )
        audit.record("invitations.mail_merge", actor=actor, wave=wave_id, count=len(targets))
    return _csv(_rows(names, message, zip(targets, tokens, strict=True))), len(targets)


def mail_merge_reminders(
    wave: Wave, *, actor: User | str, today: date | None = None
) -> tuple[str, int]:
    """New links for every unused invitation on the list, as a mail-merge CSV (one reminder
    round); the CSV and how many rows. Commits, in one transaction holding its rows, before
    the file is handed over. The earlier links keep working until the invitation is used;
    answers saved through them move to the new link."""
    names, message = _read_wave(wave, "reminder")
    day = today or date.today()
    wave_id = wave.id
    a = InvitationAddress
    with write_transaction():
        targets = targets_of(unused(wave_id).with_for_update(of=a))
        if not targets:
            raise ServiceError(_("Nobody on the address list is waiting for a reminder"))
        round_ = max(t.reminders_sent for t in targets) + 1
        tokens = {t.invitation_id: new_token() for t in targets}
        changed = renew_links([(i, k) for i, k in tokens.items() if i])
        targets = [t for t in targets if t.invitation_id in changed]
        table = a.__table__
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("aid"))
            .values(reminders_sent=round_, last_sent_on=day, last_error=None),
            [{"aid": t.address_id} for t in targets],
        )
        audit.record(
            "reminders.mail_merge", actor=actor, wave=wave_id, round=round_, count=len(targets)
        )
    pairs = ((t, tokens[t.invitation_id]) for t in targets)
    return _csv(_rows(names, message, pairs)), len(targets)
