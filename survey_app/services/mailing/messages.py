"""What invitation and reminder emails say, worked out once per wave, in the recipient's
language.

An email goes in the language its address list row gives (``en``/``cy``, from the staff list),
rendered with ``flask_babel.force_locale``; where the language is not known it is bilingual,
English first, or Welsh first where the organisation sets ``WELSH_FIRST`` (Welsh Language
Standards). A bilingual message carries its link once, under both languages' words for it.
The texts are marked for translation and their Welsh is in the catalogue
(``survey_app/translations``), like the pages'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app
from flask_babel import force_locale, format_date

from instruments import LANGUAGES
from survey_app.models import Wave
from survey_app.services.instruments import wave_instrument
from survey_app.services.invitations import survey_link
from survey_app.services.mailing.smtp import MailSettings
from survey_app.services.mailing.texts import (
    EmailTexts,
    default_wording,
    email_texts,
    fill,
    fill_body,
)

#: Where the link goes while a body is filled in (a bilingual email carries it once).
LINK_MARK = "\x00link\x00"


@dataclass(frozen=True, slots=True)
class WaveText:
    """What every message of a wave says, worked out once."""

    relationship: str
    titles: dict[str, str]  # language -> the instrument's title in it (or its fallback's)
    minutes: int
    label: str
    closes_on: date | None
    parties: dict[int, tuple[str, str]]  # party id -> (own party, partner)
    min_cell: int
    texts: EmailTexts  # the wave's editable texts, in the version being sent


def wave_text(wave: Wave, version: int | None = None) -> WaveText:
    """What every message of ``wave`` says, with its texts' newest version or ``version``."""
    instrument = wave_instrument(wave)
    rel = wave.relationship
    parties = {p.id: (p.name, rel.other_party(p.side).name) for p in rel.parties}
    return WaveText(
        relationship=rel.name,
        titles={code: instrument.title_in(instrument.resolve_language(code)) for code in LANGUAGES},
        minutes=instrument.minutes,
        label=wave.label,
        closes_on=wave.closes_on,
        parties=parties,
        min_cell=int(current_app.config.get("MIN_CELL_SIZE", 5)),
        texts=email_texts(wave, version),
    )


def day_words(value: date) -> str:
    """A day as a letter writes it, in the current language: 3 December 2026, 3 Rhagfyr 2026."""
    return format_date(value, "d MMMM y")


def service_name(language: str) -> str:
    """The service's name in `language`: ``SERVICE_NAME``, or ``SERVICE_NAME_CY`` for Welsh
    where the organisation gives one."""
    config = current_app.config
    return config.get(f"SERVICE_NAME_{language.upper()}") or config["SERVICE_NAME"]


@dataclass(frozen=True, slots=True)
class Parts:
    """One email in one language: its subject, the paragraphs before the link, the words that
    introduce the link, and the paragraphs after it."""

    subject: str
    before: list[str]
    link_words: str
    after: list[str]


def in_language(language: str | None, parts: Callable[[str], Parts], link: str) -> tuple[str, str]:
    """(subject, body) of an email in `language`; bilingual where it is None (not known), in
    the organisation's order (``WELSH_FIRST``). ``parts(code)`` is called with the locale forced
    to ``code``, so its ``_()`` texts are in that language."""
    if language in LANGUAGES:
        order: tuple[str, ...] = (language,)
    elif current_app.config.get("WELSH_FIRST"):
        order = ("cy", "en")
    else:
        order = ("en", "cy")
    versions = []
    for code in order:
        with force_locale(code):
            versions.append(parts(code))
    subject = " / ".join(v.subject for v in versions)
    before = [p for v in versions for p in v.before]
    after = [p for v in versions for p in v.after]
    words = "\n".join(v.link_words for v in versions if v.link_words)
    at_link = f"{words}\n\n{link}" if words else link
    return subject, "\n\n".join([*before, at_link, *after]) + "\n"


def sender_of(settings: MailSettings, name: str | None = None) -> str:
    """The From header: ``MAIL_FROM``, under the wave's sender name where it gives one."""
    if not name:
        return settings.sender
    return str(Address(display_name=name, addr_spec=parseaddr(settings.sender)[1]))


def email_message(
    to: str, subject: str, body: str, settings: MailSettings, sender_name: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender_of(settings, sender_name)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    domain = settings.sender.rpartition("@")[2].strip(" >") or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # asks for no out-of-office replies
    message.set_content(body)
    return message


def compose(
    kind: str, text: WaveText, party_id: int, link: str, language: str | None = None
) -> tuple[str, str]:
    """The subject and body of a ``kind`` ("invitation" or "reminder") email to someone of
    party ``party_id``, in `language` (bilingual where None), from the wave's texts (the
    defaults, or the version ``text`` holds). The one home of what an email says: the rounds,
    the batches and the admin preview all call it."""
    own, partner = text.parties[party_id]
    closes = text.closes_on is not None

    def parts(code: str) -> Parts:
        values: dict[str, str | None] = {
            "link": LINK_MARK,
            "survey": text.titles[code],
            "wave": text.label,
            "relationship": text.relationship,
            "party": own,
            "partner": partner,
            "minutes": str(text.minutes),
            "closing_date": day_words(text.closes_on) if text.closes_on else None,
            "minimum_group": str(text.min_cell),
            "team": text.texts.team(code),
            "team_contact": text.texts.team_contact,
            "sender": text.texts.sender_name or service_name(code),
        }
        wording = text.texts.wording(code, closes=closes)
        subject = fill(wording.subject(kind), values)
        if subject is None:  # it names a value the wave does not have: the default subject
            subject = fill(default_wording(code, closes=closes).subject(kind), values) or ""
        paragraphs = fill_body(wording.body(kind), values)
        at = next(i for i, p in enumerate(paragraphs) if LINK_MARK in p)
        head, _mark, tail = paragraphs[at].partition(LINK_MARK)
        before = paragraphs[:at]
        words = head.strip()
        if not words and before:  # the paragraph just before the link introduces it
            words = before.pop()
        after = [p for p in (tail.strip(), *paragraphs[at + 1 :]) if p]
        return Parts(subject=subject, before=before, link_words=words, after=after)

    return in_language(language, parts, link)


def invitation_text(
    text: WaveText, party_id: int, link: str, language: str | None = None
) -> tuple[str, str]:
    """The invitation's subject and body, in `language` (bilingual where None)."""
    return compose("invitation", text, party_id, link, language)


def reminder_text(
    text: WaveText, party_id: int, link: str, language: str | None = None
) -> tuple[str, str]:
    """The reminder's subject and body, in `language` (bilingual where None)."""
    return compose("reminder", text, party_id, link, language)


#: The token of the preview's sample link: no link has it (following it finds no invitation).
SAMPLE_LINK_ID = "example-only-not-a-real-link"


@dataclass(frozen=True, slots=True)
class EmailPreview:
    """An email as a person of ``party`` receives it (the admin pages' preview)."""

    sender: str
    party: str
    subject: str
    body: str
    version: int  # of the wave's texts; 0: the defaults


def preview_email(wave: Wave, kind: str, side: str, language: str | None) -> EmailPreview:
    """The ``kind`` email ("invitation" or "reminder") of ``wave`` as someone on ``side``
    receives it in ``language`` (bilingual where None), with a sample link: made by the code
    that sends (:func:`compose`, :func:`sender_of`)."""
    text = wave_text(wave)
    party = wave.relationship.party(side)
    link = survey_link(SAMPLE_LINK_ID, language)
    subject, body = compose(kind, text, party.id, link, language)
    settings = MailSettings.from_config()
    name = text.texts.sender_name
    sender = sender_of(settings, name) if settings.sender else (name or service_name("en"))
    return EmailPreview(sender, party.name, subject, body, text.texts.version)
