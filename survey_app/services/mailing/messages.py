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
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from instruments import LANGUAGES
from survey_app.models import Wave
from survey_app.services.instruments import wave_instrument
from survey_app.services.mailing.smtp import MailSettings


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


def wave_text(wave: Wave) -> WaveText:
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
    words = "\n".join(v.link_words for v in versions)
    return subject, "\n\n".join([*before, f"{words}\n\n{link}", *after]) + "\n"


def email_message(to: str, subject: str, body: str, settings: MailSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    domain = settings.sender.rpartition("@")[2].strip(" >") or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # asks for no out-of-office replies
    message.set_content(body)
    return message


def invitation_text(
    text: WaveText, party_id: int, link: str, language: str | None = None
) -> tuple[str, str]:
    """The invitation's subject and body, in `language` (bilingual where None)."""
    own, partner = text.parties[party_id]

    def parts(code: str) -> Parts:
        names = {"title": text.titles[code], "label": text.label}
        after = [
            _(
                "The link is yours alone and works once, so please do not forward this email. "
                "You can save your answers and come back to them with the same link."
            ),
            _(
                "Your answers are anonymous: they are stored without your name, your email "
                "address or your link, and results are shown only for groups of at least "
                "%(min_cell)s people.",
                min_cell=text.min_cell,
            ),
        ]
        if text.closes_on:
            after.append(_("The survey closes on %(day)s.", day=day_words(text.closes_on)))
        return Parts(
            subject=_("Please take part: %(title)s (%(label)s)", **names),
            before=[
                _("Dear colleague,"),
                _(
                    "You are invited to answer the %(title)s (%(label)s) as a member of staff of "
                    "%(own)s. The questions ask how you see the partnership with %(partner)s. "
                    "It takes about %(minutes)s minutes.",
                    own=own,
                    partner=partner,
                    minutes=text.minutes,
                    **names,
                ),
            ],
            link_words=_("Your personal link:"),
            after=[*after, service_name(code)],
        )

    return in_language(language, parts, link)


def reminder_text(
    text: WaveText, party_id: int, link: str, language: str | None = None
) -> tuple[str, str]:
    """The reminder's subject and body, in `language` (bilingual where None)."""
    own, partner = text.parties[party_id]

    def parts(code: str) -> Parts:
        names = {"title": text.titles[code], "label": text.label}
        about = {"own": own, "partner": partner, "minutes": text.minutes, **names}
        if text.closes_on:
            day = day_words(text.closes_on)
            subject = _("Reminder: %(title)s (%(label)s) closes on %(day)s", day=day, **names)
            opening = _(
                "There is still time to answer the %(title)s (%(label)s) before it closes on "
                "%(day)s. It asks how you, as a member of staff of %(own)s, see the partnership "
                "with %(partner)s, and takes about %(minutes)s minutes.",
                day=day,
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
        return Parts(
            subject=subject,
            before=[_("Dear colleague,"), opening],
            link_words=_("Your new personal link:"),
            after=[
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
                service_name(code),
            ],
        )

    return in_language(language, parts, link)
