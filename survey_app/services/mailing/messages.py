"""What invitation and reminder emails say, worked out once per wave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

from survey_app.models import Wave
from survey_app.services.instruments import frozen_instrument
from survey_app.services.mailing.smtp import MailSettings


@dataclass(frozen=True, slots=True)
class WaveText:
    """What every message of a wave says, worked out once."""

    relationship: str
    title: str
    minutes: int
    label: str
    closes: str | None
    parties: dict[int, tuple[str, str]]  # party id -> (own party, partner)
    service: str
    min_cell: int


def wave_text(wave: Wave) -> WaveText:
    instrument = frozen_instrument(wave.instrument_version)
    rel = wave.relationship
    parties = {p.id: (p.name, rel.other_party(p.side).name) for p in rel.parties}
    return WaveText(
        relationship=rel.name,
        title=instrument.title,
        minutes=instrument.minutes,
        label=wave.label,
        closes=day_words(wave.closes_on) if wave.closes_on else None,
        parties=parties,
        service=current_app.config["SERVICE_NAME"],
        min_cell=int(current_app.config.get("MIN_CELL_SIZE", 5)),
    )


def day_words(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


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


def invitation_text(text: WaveText, party_id: int, link: str) -> tuple[str, str]:
    own, partner = text.parties[party_id]
    closes = f"The survey closes on {text.closes}.\n\n" if text.closes else ""
    body = (
        "Dear colleague,\n\n"
        f"You are invited to answer the {text.title} ({text.label}) as a member of staff of "
        f"{own}. The questions ask how you see the partnership with {partner}. It takes "
        f"about {text.minutes} minutes.\n\n"
        "Your personal link:\n\n"
        f"{link}\n\n"
        "The link is yours alone and works once, so please do not forward this email. You can "
        "save your answers and come back to them with the same link.\n\n"
        "Your answers are anonymous: they are stored without your name, your email address or "
        "your link, and results are shown only for groups of at least "
        f"{text.min_cell} people.\n\n"
        f"{closes}"
        f"{text.service}\n"
    )
    return f"Please take part: {text.title} ({text.label})", body


def reminder_text(text: WaveText, party_id: int, link: str) -> tuple[str, str]:
    own, partner = text.parties[party_id]
    closes = f" before it closes on {text.closes}" if text.closes else ""
    body = (
        "Dear colleague,\n\n"
        f"There is still time to answer the {text.title} ({text.label}){closes}. It asks how "
        f"you, as a member of staff of {own}, see the partnership with {partner}, and takes "
        f"about {text.minutes} minutes.\n\n"
        "Your new personal link:\n\n"
        f"{link}\n\n"
        "If you have already saved some answers, open this link in the same browser to carry "
        "on with them, or use the link in our earlier email: either link works until you "
        "submit. The link is yours alone and works once, so please do not forward this "
        "email.\n\n"
        "Your answers are anonymous: they are stored without your name, your email address or "
        "your link. If you have answered since we sent this reminder, thank you, and please "
        "ignore it.\n\n"
        f"{text.service}\n"
    )
    subject = f"Reminder: {text.title} ({text.label})"
    if text.closes:
        subject += f" closes on {text.closes}"
    return subject, body
