"""What a wave's invitation and reminder emails say: the defaults, the ``{placeholders}``, and
the texts its administrators edit and save (one version per save).

A text is a template: ``{link}``, ``{survey}``, ``{closing_date}``... are filled in for each
person (:data:`PLACEHOLDERS`). A body is paragraphs separated by blank lines; a paragraph that
names a value the wave does not have (no closing time yet, no survey team given) is left out,
so the default texts need no conditions. A subject that needs such a value falls back to the
default subject. ``{link}`` must be in the body once, on a line of its own: a bilingual email
then carries it once, under both languages' words for it (``messages.in_language``).

**Versions, not a lock.** Every save is a new version and no version is ever changed. A round
sent by a job fixes the version it started with (in its checkpoint), so every message of the
round says the same, even those sent again after a crash; an edit made meanwhile goes into the
next round. The texts are not locked once sending starts because a council must be able to
correct a wrong phone number or add a sentence for the reminders after the invitations went;
the audit log says which version each save made, and each round which version it sent.

The defaults are today's texts, built from the catalogue's sentences with placeholders in place
of the values, so their Welsh is the catalogue's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from instruments import LANGUAGES
from survey_app.extensions import db
from survey_app.models import User, Wave, WaveEmailTexts
from survey_app.services import ServiceError, audit
from survey_app.services.instruments import offered_translations
from survey_app.texts import N_

#: Every placeholder a text may use, and what it stands for (shown on the edit page).
PLACEHOLDERS: dict[str, str] = {
    "link": N_("the person’s own survey link: the body must have it once, on a line of its own"),
    "survey": N_("the questionnaire’s title"),
    "wave": N_("the wave’s name, such as 2024-Q1"),
    "relationship": N_("the relationship’s name"),
    "party": N_("the person’s own organisation, client or supplier"),
    "partner": N_("the other organisation of the partnership"),
    "minutes": N_("about how many minutes the survey takes"),
    "closing_date": N_("the day the survey closes"),
    "minimum_group": N_("the smallest group whose results are shown"),
    "team": N_("the survey team’s name"),
    "team_contact": N_("the survey team’s email address and phone number"),
    "sender": N_("the sender’s name"),
}
PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
KINDS = ("invitation", "reminder")
MAX_SUBJECT = 150
MAX_BODY = 5000
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class Wording:
    """A wave's email texts in one language."""

    team: str | None  # the survey team's name in this language
    invitation_subject: str
    invitation_body: str
    reminder_subject: str
    reminder_body: str

    def subject(self, kind: str) -> str:
        return str(getattr(self, f"{kind}_subject"))

    def body(self, kind: str) -> str:
        return str(getattr(self, f"{kind}_body"))


TEMPLATE_FIELDS = tuple(f.name for f in fields(Wording) if f.name != "team")


@dataclass(frozen=True, slots=True)
class EmailTexts:
    """A wave's email texts: version 0 is the defaults, never saved."""

    version: int
    sender_name: str | None
    team_email: str | None
    team_phone: str | None
    wordings: dict[str, Wording]

    @property
    def team_contact(self) -> str | None:
        """The survey team's email address and phone, as one line (None: neither given)."""
        return ", ".join(c for c in (self.team_email, self.team_phone) if c) or None

    def wording(self, language: str, *, closes: bool) -> Wording:
        return self.wordings.get(language) or default_wording(language, closes=closes)

    def team(self, language: str) -> str | None:
        """The survey team's name in ``language`` (the English name when it has none)."""
        found = self.wordings.get(language)
        english = self.wordings.get("en")
        return (found and found.team) or (english and english.team) or None


# ---------------------------------------------------------------------- defaults


def _paragraphs(*parts: str) -> str:
    return "\n\n".join(parts)


def default_wording(language: str, *, closes: bool) -> Wording:
    """Today's texts in ``language``, as templates; the reminder names the closing day in its
    subject when the wave has one (``closes``)."""
    with force_locale(language):
        names = {"title": "{survey}", "label": "{wave}"}
        about = {"own": "{party}", "partner": "{partner}", "minutes": "{minutes}", **names}
        contact = _(
            "If you have any questions about the survey, contact %(team)s: %(contact)s.",
            team="{team}",
            contact="{team_contact}",
        )
        invitation = _paragraphs(
            _("Dear colleague,"),
            _(
                "You are invited to answer the %(title)s (%(label)s) as a member of staff of "
                "%(own)s. The questions ask how you see the partnership with %(partner)s. "
                "It takes about %(minutes)s minutes.",
                **about,
            ),
            _("Your personal link:") + "\n\n{link}",
            _(
                "The link is yours alone and works once, so please do not forward this email. "
                "You can save your answers and come back to them with the same link."
            ),
            _(
                "Your answers are anonymous: they are stored without your name, your email "
                "address or your link, and results are shown only for groups of at least "
                "%(min_cell)s people.",
                min_cell="{minimum_group}",
            ),
            _("The survey closes on %(day)s.", day="{closing_date}"),
            contact,
            "{sender}",
        )
        if closes:
            subject = _(
                "Reminder: %(title)s (%(label)s) closes on %(day)s", day="{closing_date}", **names
            )
            opening = _(
                "There is still time to answer the %(title)s (%(label)s) before it closes on "
                "%(day)s. It asks how you, as a member of staff of %(own)s, see the partnership "
                "with %(partner)s, and takes about %(minutes)s minutes.",
                day="{closing_date}",
                **about,
            )
        else:
            subject = _("Reminder: %(title)s (%(label)s)", **names)
            opening = _(
                "There is still time to answer the %(title)s (%(label)s). It asks how you, as a "
                "member of staff of %(own)s, see the partnership with %(partner)s, and takes "
                "about %(minutes)s minutes.",
                **about,
            )
        reminder = _paragraphs(
            _("Dear colleague,"),
            opening,
            _("Your new personal link:") + "\n\n{link}",
            _(
                "If you have already saved some answers, open this link in the same browser "
                "to carry on with them, or use the link in our earlier email: either link "
                "works until you submit. The link is yours alone and works once, so please "
                "do not forward this email."
            ),
            _(
                "Your answers are anonymous: they are stored without your name, your email "
                "address or your link. If you have answered since we sent this reminder, "
                "thank you, and please ignore it."
            ),
            contact,
            "{sender}",
        )
        return Wording(
            team=None,
            invitation_subject=_("Please take part: %(title)s (%(label)s)", **names),
            invitation_body=invitation,
            reminder_subject=subject,
            reminder_body=reminder,
        )


def default_texts(wave: Wave) -> EmailTexts:
    closes = wave.closes_at is not None
    return EmailTexts(
        version=0,
        sender_name=None,
        team_email=None,
        team_phone=None,
        wordings={code: default_wording(code, closes=closes) for code in LANGUAGES},
    )


# ---------------------------------------------------------------------- reading


def wave_languages(wave: Wave) -> tuple[str, ...]:
    """The languages the wave offers (English first): its texts are edited in each. A draft
    wave offers what its questionnaire's file carries, which it freezes when it opens."""
    if wave.translations is None and wave.state == "draft":
        offered = offered_translations(wave.instrument_version) or {}
        return ("en", *(code for code in LANGUAGES if code in offered))
    return ("en", *(code for code in LANGUAGES if code in (wave.translations or {})))


def _texts_of(row: WaveEmailTexts) -> EmailTexts:
    wordings = {
        code: Wording(**{name: values.get(name) for name in ("team", *TEMPLATE_FIELDS)})
        for code, values in row.texts.items()
        if code in LANGUAGES
    }
    return EmailTexts(
        version=row.version,
        sender_name=row.sender_name,
        team_email=row.team_email,
        team_phone=row.team_phone,
        wordings=wordings,
    )


def email_texts(wave: Wave, version: int | None = None) -> EmailTexts:
    """The wave's texts: the newest version (or ``version``), or the defaults where none was
    saved."""
    query = select(WaveEmailTexts).where(WaveEmailTexts.wave_id == wave.id)
    if version is not None:
        query = query.where(WaveEmailTexts.version == version)
    row = db.session.scalar(query.order_by(WaveEmailTexts.version.desc()).limit(1))
    return _texts_of(row) if row is not None else default_texts(wave)


def survey_team(wave_id: int, language: str) -> tuple[str, str | None] | None:
    """(name, contact) of the survey team named in the wave's emails, in ``language``; None
    where the wave names none (a respondent's error page then says it generally)."""
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        return None
    texts = email_texts(wave)
    team = texts.team(language)
    return (team, texts.team_contact) if team else None


# ---------------------------------------------------------------------- filling in


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def fill(text: str, values: Mapping[str, str | None]) -> str | None:
    """``text`` with its placeholders filled in; None when one has no value."""
    if any(values.get(name) is None for name in placeholders_in(text)):
        return None
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def fill_body(text: str, values: Mapping[str, str | None]) -> list[str]:
    """A body's paragraphs filled in, leaving out each one that names a value not given — but
    never the link's, where such a value is left blank."""
    paragraphs = (p.strip() for p in re.split(r"\n[ \t]*\n", text.strip()))
    blanks = {name: value or "" for name, value in values.items()}
    return [
        filled
        for p in paragraphs
        if p and (filled := fill(p, blanks if "{link}" in p else values)) is not None
    ]


# ---------------------------------------------------------------------- checking


def _controls(text: str) -> list[str]:
    if any(ord(ch) < 32 and ch not in "\n\r\t" or ord(ch) == 127 for ch in text):
        return [_("Remove the control characters from the text")]
    return []


def _unknown(text: str) -> list[str]:
    unknown = [n for n in placeholders_in(text) if n not in PLACEHOLDERS]
    if not unknown:
        return []
    return [
        _(
            "‘{%(name)s}’ is not a placeholder you can use: use one of those listed, "
            "such as {survey}",
            name=unknown[0],
        )
    ]


def subject_problems(text: str) -> list[str]:
    """What is wrong with a subject (none: it can be saved)."""
    if not text.strip():
        return [_("Enter a subject")]
    if "\n" in text.strip() or "\r" in text.strip():
        return [_("The subject must be one line")]
    if len(text) > MAX_SUBJECT:
        return [_("The subject must be %(count)s characters or fewer", count=MAX_SUBJECT)]
    if "link" in placeholders_in(text):
        return [_("The subject cannot hold the link: put {link} in the body")]
    return _controls(text) or _unknown(text)


def body_problems(text: str) -> list[str]:
    """What is wrong with a body (none: it can be saved)."""
    if not text.strip():
        return [_("Enter the text of the email")]
    if len(text) > MAX_BODY:
        return [_("The text must be %(count)s characters or fewer", count=MAX_BODY)]
    unknown = _controls(text) or _unknown(text)
    if unknown:
        return unknown
    links = placeholders_in(text).count("link")
    if links == 0:
        return [_("Add {link} to the text: it is where each person’s own survey link goes")]
    if links > 1:
        return [_("Use {link} once only")]
    if not any(line.strip() == "{link}" for line in text.splitlines()):
        return [_("Put {link} on a line of its own")]
    return []


def normalised(text: str | None) -> str:
    """Text as typed in a form: Windows line ends made plain, outer space trimmed."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


# ---------------------------------------------------------------------- saving


def save_email_texts(
    wave: Wave,
    *,
    sender_name: str,
    team_email: str | None,
    team_phone: str | None,
    wordings: Mapping[str, Mapping[str, str]],
    actor: User | str,
) -> EmailTexts:
    """Save the wave's texts as a new version (flushed, audited). ``wordings`` maps each
    language to its ``team`` and the four templates. ServiceError when anything is wrong, and
    then nothing is saved."""
    if wave.state == "closed":
        raise ServiceError(_("This wave is closed: its emails can no longer be changed"))
    if not sender_name.strip() or len(sender_name) > MAX_NAME:
        raise ServiceError(
            _("Enter the sender’s name, %(count)s characters or fewer", count=MAX_NAME)
        )
    if not (team_email or team_phone):
        raise ServiceError(_("Enter the survey team’s email address or phone number, or both"))
    texts: dict[str, dict[str, str | None]] = {}
    for code in wave_languages(wave):
        given = wordings.get(code) or {}
        team = normalised(given.get("team")) or None
        if code == "en" and not team:
            raise ServiceError(_("Enter the survey team’s name"))
        entry: dict[str, str | None] = {"team": team}
        for name in TEMPLATE_FIELDS:
            value = normalised(given.get(name))
            check = subject_problems if name.endswith("subject") else body_problems
            problems = check(value)
            if problems:
                raise ServiceError(f"{code} {name}: {problems[0]}")
            entry[name] = value
        texts[code] = entry
    version = (
        db.session.scalar(
            select(func.max(WaveEmailTexts.version)).where(WaveEmailTexts.wave_id == wave.id)
        )
        or 0
    ) + 1
    row = WaveEmailTexts(
        wave_id=wave.id,
        version=version,
        sender_name=sender_name.strip(),
        team_email=team_email or None,
        team_phone=team_phone or None,
        texts=texts,
    )
    audit.created(row, "wave.email_texts", actor=actor, wave=wave.id, version=version)
    return _texts_of(row)
