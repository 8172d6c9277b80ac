"""Invitations and reminders by email (SMTP) or mail-merge file, from a wave's address list.

Each person on the address list (:mod:`survey_app.services.imports.staff_lists`) gets one personal
link. The token exists only in the message (or in the mail-merge file handed to the
administrator): the database keeps its hash on the invitation, and the address list keeps only
which invitation went to which address. A reminder goes to every address whose invitation is
unused (``used_on IS NULL``) — nothing records who answered what, since an invitation knows only
the day it was used and a response knows no invitation. As the token of the first message is
not kept, a reminder carries a **new** link that replaces it; answers saved so far move to the
new link.

Sending
-------
Settings come from the app config (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USERNAME``,
``SMTP_PASSWORD``, ``SMTP_SECURITY`` — or the older ``SMTP_STARTTLS`` —, ``SMTP_CA_FILE``,
``SMTP_TIMEOUT_SECONDS``, ``MAIL_FROM``; :func:`check_mail_config` validates them when the app
starts). The connection is secured with STARTTLS (``starttls``, the default), TLS from the first
byte (``tls``, "implicit TLS", usually port 465) or not at all (``none``); the server's
certificate is always verified, against the system's CAs or ``SMTP_CA_FILE``. One call sends at
most ``MAIL_BATCH_SIZE`` messages, at most ``MAIL_MAX_PER_MINUTE`` a minute, over one SMTP
connection (renewed every :data:`MESSAGES_PER_CONNECTION`); the pages offer the next batch. A
message the server refuses is reported against its address and the rest carry on; a server that
cannot be reached (or refuses the sender, or the sign-in) stops the batch, and says so.

Transactions: a link must work before it leaves, and an email cannot be unsent, so unlike other
services the send functions commit, one address at a time — an invitation is stored and
committed before its message is sent, and deleted again if the server refuses it; a reminder's
new link replaces the old one only after the server has accepted the message.

The address list is deleted when the wave closes (:func:`delete_address_list`, called by
``waves.close_wave``): data minimisation — it serves only to invite and remind.
"""

from __future__ import annotations

import csv
import io
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import Draft, Invitation, InvitationAddress, User, Wave
from survey_app.services import ServiceError, audit
from survey_app.services.formula_guard import neutralise
from survey_app.services.instruments import frozen_instrument
from survey_app.services.invitations import hash_token, new_token

#: Messages sent over one SMTP connection before it is renewed (servers often cap it at 100).
MESSAGES_PER_CONNECTION = 100
MAX_ERROR = 300
#: How the reason for an address the server refused begins (see :attr:`SendReport.refused`).
REFUSED = "refused by the mail server"


# ================================================================================ settings


#: ``SMTP_SECURITY`` values: STARTTLS after connecting, implicit TLS, or none.
SECURITY_CHOICES = ("starttls", "tls", "none")
#: The port used when ``SMTP_PORT`` is not set, by ``SMTP_SECURITY``.
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 587}


class MailConfigError(ServiceError):
    """An ``SMTP_*`` setting is not valid (found when the app starts)."""


def _security(config: Any) -> str:
    """``SMTP_SECURITY``, or what the older boolean ``SMTP_STARTTLS`` says when it is unset."""
    raw = str(config.get("SMTP_SECURITY") or "").strip().lower()
    starttls = bool(config.get("SMTP_STARTTLS", True))
    if not raw:
        return "starttls" if starttls else "none"
    if raw not in SECURITY_CHOICES:
        raise MailConfigError(
            f"SMTP_SECURITY must be one of {', '.join(SECURITY_CHOICES)}, not {raw!r} "
            "(starttls: STARTTLS on connecting, usually port 587; tls: implicit TLS, usually "
            "port 465; none: no encryption)"
        )
    if raw == "starttls" and not starttls:
        raise MailConfigError(
            "SMTP_SECURITY=starttls contradicts SMTP_STARTTLS=0: set only SMTP_SECURITY"
        )
    return raw


@dataclass(frozen=True, slots=True)
class MailSettings:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    security: str  # one of SECURITY_CHOICES
    ca_file: str  # CA certificates (PEM) to verify the server with; "" = the system's
    timeout: float
    sender: str
    batch_size: int
    max_per_minute: int

    @classmethod
    def from_config(cls, config: Any | None = None) -> MailSettings:
        """The settings; :class:`MailConfigError` if one is not valid."""
        config = config if config is not None else current_app.config
        security = _security(config)
        try:
            port = int(config.get("SMTP_PORT") or DEFAULT_PORTS[security])
        except (TypeError, ValueError):
            port = 0
        if not 0 < port < 65536:
            raise MailConfigError(
                f"SMTP_PORT must be a port number (1 to 65535), not {config.get('SMTP_PORT')!r}"
            )
        return cls(
            host=config.get("SMTP_HOST") or "",
            port=port,
            username=config.get("SMTP_USERNAME") or "",
            password=config.get("SMTP_PASSWORD") or "",
            security=security,
            ca_file=str(config.get("SMTP_CA_FILE") or ""),
            timeout=float(config.get("SMTP_TIMEOUT_SECONDS") or 30),
            sender=config.get("MAIL_FROM") or "",
            batch_size=max(1, int(config.get("MAIL_BATCH_SIZE") or 200)),
            max_per_minute=max(0, int(config.get("MAIL_MAX_PER_MINUTE") or 0)),
        )

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)

    @property
    def starttls(self) -> bool:
        return self.security == "starttls"

    @property
    def interval(self) -> float:
        """Seconds between two messages (0: no limit)."""
        return 60.0 / self.max_per_minute if self.max_per_minute else 0.0

    def tls_context(self) -> ssl.SSLContext:
        """Verifies the server's certificate and name, against ``ca_file`` when set."""
        return ssl.create_default_context(cafile=self.ca_file or None)


def check_mail_config(config: Any) -> MailSettings:
    """Validate the mail settings when the app starts: :class:`MailConfigError` with a message
    naming the variable if one is wrong (including an ``SMTP_CA_FILE`` that is missing or holds
    no PEM certificate)."""
    settings = MailSettings.from_config(config)
    if settings.ca_file:
        try:
            settings.tls_context()
        except FileNotFoundError as exc:
            raise MailConfigError(f"SMTP_CA_FILE {settings.ca_file}: no such file") from exc
        except (OSError, ssl.SSLError) as exc:
            raise MailConfigError(
                f"SMTP_CA_FILE {settings.ca_file} cannot be used: it must hold CA certificates "
                f"in PEM format ({_reason(exc)})"
            ) from exc
    return settings


def mail_configured() -> bool:
    return MailSettings.from_config().configured


class MailServerError(Exception):
    """The mail server cannot be used at all (unreachable, refuses the sign-in or the sender)."""


class SMTPMailer:
    """One SMTP connection, opened on first use, renewed when dropped or after
    :data:`MESSAGES_PER_CONNECTION` messages. :meth:`send` raises :class:`MailServerError`
    for a server problem, or smtplib's recipient/data errors for a refused message."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._count = 0

    def __enter__(self) -> SMTPMailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=s.tls_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailServerError(
                f"could not connect to the mail server {s.host}:{s.port} ({_reason(exc)})"
                f"{_tls_hint(exc)}"
            ) from exc
        try:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=s.tls_context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise MailServerError(
                "the mail server refused the sign-in: check SMTP_USERNAME and SMTP_PASSWORD"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            smtp.close()
            raise MailServerError(
                f"the mail server does not offer {'STARTTLS' if s.starttls else 'sign-in'} "
                f"({_reason(exc)}): check SMTP_SECURITY"
            ) from exc
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            smtp.close()
            raise MailServerError(
                f"the mail server could not be used ({_reason(exc)}){_tls_hint(exc)}"
            ) from exc
        return smtp

    def send(self, message: EmailMessage) -> None:
        for attempt in (1, 2):
            if self._smtp is None or self._count >= MESSAGES_PER_CONNECTION:
                self.close()
                self._smtp = self._connect()
                self._count = 0
            try:
                self._smtp.send_message(message)
                self._count += 1
                return
            except smtplib.SMTPSenderRefused as exc:
                raise MailServerError(
                    f"the mail server refused the sender {self.settings.sender} "
                    f"({_reason(exc)}): check MAIL_FROM"
                ) from exc
            except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
                self._smtp = None  # dropped: reconnect once
                if attempt == 2:
                    raise MailServerError(
                        f"the mail server closed the connection ({_reason(exc)})"
                    ) from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [f"{code} {_text(msg)}" for code, msg in exc.recipients.values()]
        return "; ".join(codes) or "refused"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


def _tls_hint(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ": the server's certificate could not be verified; check SMTP_HOST and SMTP_CA_FILE"
    if isinstance(exc, ssl.SSLError):
        return ": check SMTP_SECURITY and SMTP_PORT"
    return ""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# ================================================================================= messages


def survey_link(token: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/s/{token}"


@dataclass(frozen=True, slots=True)
class _WaveText:
    """What every message of a wave says, worked out once."""

    relationship: str
    title: str
    minutes: int
    label: str
    closes: str | None
    parties: dict[int, tuple[str, str]]  # party id -> (own party, partner)
    service: str
    min_cell: int


def _wave_text(wave: Wave) -> _WaveText:
    instrument = frozen_instrument(wave.instrument_version)
    rel = wave.relationship
    parties = {p.id: (p.name, rel.other_party(p.side).name) for p in rel.parties}
    return _WaveText(
        relationship=rel.name,
        title=instrument.title,
        minutes=instrument.minutes,
        label=wave.label,
        closes=_day(wave.closes_on) if wave.closes_on else None,
        parties=parties,
        service=current_app.config["SERVICE_NAME"],
        min_cell=int(current_app.config.get("MIN_CELL_SIZE", 5)),
    )


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _message(to: str, subject: str, body: str, settings: MailSettings) -> EmailMessage:
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


def invitation_text(text: _WaveText, party_id: int, link: str) -> tuple[str, str]:
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


def reminder_text(text: _WaveText, party_id: int, link: str) -> tuple[str, str]:
    own, partner = text.parties[party_id]
    closes = f" before it closes on {text.closes}" if text.closes else ""
    body = (
        "Dear colleague,\n\n"
        f"There is still time to answer the {text.title} ({text.label}){closes}. It asks how "
        f"you, as a member of staff of {own}, see the partnership with {partner}, and takes "
        f"about {text.minutes} minutes.\n\n"
        "Your new personal link:\n\n"
        f"{link}\n\n"
        "This link replaces the one in our earlier email, which no longer works. Any answers "
        "you have already saved are kept. The link is yours alone and works once, so please "
        "do not forward this email.\n\n"
        "Your answers are anonymous: they are stored without your name, your email address or "
        "your link. If you have answered since we sent this reminder, thank you, and please "
        "ignore it.\n\n"
        f"{text.service}\n"
    )
    subject = f"Reminder: {text.title} ({text.label})"
    if text.closes:
        subject += f" closes on {text.closes}"
    return subject, body


# ============================================================================ address list


@dataclass(frozen=True, slots=True)
class AddressListSummary:
    """Counts of a wave's address list (never who answered)."""

    total: int
    not_invited: int  # on the list, no invitation yet (and no failure)
    failed: int  # the last message to the address failed
    invited: int
    unused: int  # invited, invitation not used yet
    reminder_round: int  # reminders sent so far to the most-reminded unused address
    behind: int  # unused addresses not yet reminded in the current round
    last_reminded_on: date | None

    @property
    def answered(self) -> int:
        return self.invited - self.unused


def address_list_summary(wave: Wave) -> AddressListSummary:
    a, inv = InvitationAddress, Invitation
    unused = and_(a.invitation_id.is_not(None), inv.used_on.is_(None))
    row = db.session.execute(
        select(
            func.count(a.id),
            func.count(a.id).filter(a.invitation_id.is_(None), a.last_error.is_(None)),
            func.count(a.id).filter(a.last_error.is_not(None)),
            func.count(a.invitation_id),
            func.count(a.id).filter(unused),
            func.coalesce(func.max(a.reminders_sent).filter(unused), 0),
            func.max(a.last_sent_on).filter(a.reminders_sent > 0),
        )
        .select_from(a)
        .outerjoin(inv, inv.id == a.invitation_id)
        .where(a.wave_id == wave.id)
    ).one()
    total, not_invited, failed, invited, n_unused, round_, last = row
    behind = 0
    if round_:
        behind = (
            db.session.scalar(
                select(func.count(a.id))
                .select_from(a)
                .join(inv, inv.id == a.invitation_id)
                .where(
                    a.wave_id == wave.id, unused, a.reminders_sent < round_, a.last_error.is_(None)
                )
            )
            or 0
        )
    return AddressListSummary(
        total, not_invited, failed, invited, n_unused, int(round_), behind, last
    )


def failed_addresses(wave: Wave, limit: int = 500) -> list[tuple[str, str]]:
    """(email, why) of the addresses whose last message failed, for the administrator."""
    rows = db.session.execute(
        select(InvitationAddress.email, InvitationAddress.last_error)
        .where(InvitationAddress.wave_id == wave.id, InvitationAddress.last_error.is_not(None))
        .order_by(InvitationAddress.id)
        .limit(limit)
    )
    return [(email, error) for email, error in rows]


def delete_address_list(wave: Wave, *, actor: User | str = "cli") -> int:
    """Delete the wave's address list (when it closes: data minimisation). Returns how many."""
    deleted = db.session.execute(
        delete(InvitationAddress)
        .where(InvitationAddress.wave_id == wave.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if deleted:
        audit.record("address_list.delete", actor=actor, wave=wave.id, addresses=deleted)
    return int(deleted or 0)


# ================================================================================= sending


@dataclass
class SendReport:
    """What one batch did. ``failed`` lists (email, why) per refused address."""

    kind: str  # "invitations" or "reminders"
    sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    remaining: int = 0
    stopped: str | None = None

    @property
    def refused(self) -> list[tuple[str, str]]:
        """The failures the server refused (an unknown or blocked address, a rejected
        message); the others are faults on the way (``not sent: ...``)."""
        return [(email, why) for email, why in self.failed if why.startswith(REFUSED)]


@dataclass(frozen=True, slots=True)
class _Target:
    address_id: int
    email: str
    party_id: int
    service_area_id: int | None
    invitation_id: int | None
    reminders_sent: int
    last_error: str | None


def _targets(statement: Any) -> list[_Target]:
    return [_Target(*row) for row in db.session.execute(statement)]


def _base_select() -> Any:
    a = InvitationAddress
    return select(
        a.id,
        a.email,
        a.party_id,
        a.service_area_id,
        a.invitation_id,
        a.reminders_sent,
        a.last_error,
    )


def _count(statement: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def _check_wave(wave: Wave, what: str) -> None:
    if wave.state != "open":
        raise ServiceError(
            f"Wave {wave.label} is {wave.state}: {what} can be sent only while it is open"
        )


def _settings_or_error() -> MailSettings:
    settings = MailSettings.from_config()
    if not settings.configured:
        raise ServiceError(
            "Email is not set up for this service (SMTP_HOST and MAIL_FROM): download the "
            "mail-merge file instead"
        )
    return settings


def _not_invited(wave_id: int, *, failed: bool | None) -> Any:
    """Addresses without an invitation: all of them (``failed=None``), only those whose last
    message failed (True), or only those never tried (False)."""
    a = InvitationAddress
    query = _base_select().where(a.wave_id == wave_id, a.invitation_id.is_(None))
    if failed is not None:
        query = query.where(a.last_error.is_not(None) if failed else a.last_error.is_(None))
    return query.order_by(a.id)


def _unused(wave_id: int) -> Any:
    """Addresses whose invitation has not been used."""
    a, inv = InvitationAddress, Invitation
    return (
        _base_select()
        .join(inv, inv.id == a.invitation_id)
        .where(a.wave_id == wave_id, inv.used_on.is_(None))
        .order_by(a.id)
    )


Settle = Callable[[bool, str | None], None]


def send_invitations(
    wave: Wave,
    *,
    actor: User | str,
    retry_failed: bool = False,
    limit: int | None = None,
    mailer: SMTPMailer | None = None,
    today: date | None = None,
) -> SendReport:
    """Email a personal link to the next batch of addresses not yet invited (commits).

    ``retry_failed`` sends to the addresses whose invitation failed before instead. Each
    address is claimed (its invitation stored and committed) before its message is sent, so
    two batches running at once never invite one person twice.
    """
    _check_wave(wave, "invitations")
    settings = _settings_or_error()
    day = today or date.today()
    text = _wave_text(wave)
    wave_id = wave.id
    a = InvitationAddress
    pending = _not_invited(wave_id, failed=retry_failed)
    targets = _targets(pending.limit(limit or settings.batch_size))
    report = SendReport("invitations")

    def prepare(target: _Target) -> tuple[str, Settle] | None:
        token = new_token()
        with write_transaction():
            row = (target.party_id, target.service_area_id, hash_token(token))
            invitation_id = _insert_invitations(wave_id, [row], day)[0]
            claimed = db.session.execute(
                update(a)
                .where(a.id == target.address_id, a.invitation_id.is_(None))
                .values(invitation_id=invitation_id, invited_on=day)
            ).rowcount
            if claimed != 1:  # invited meanwhile by another batch
                db.session.execute(delete(Invitation).where(Invitation.id == invitation_id))
                return None

        def settle(ok: bool, error: str | None) -> None:
            with write_transaction():
                if ok:
                    values: dict[str, Any] = {"last_sent_on": day, "last_error": None}
                else:  # refused, or never sent: the link must not exist
                    values = {"invitation_id": None, "invited_on": None}
                    if error is not None:
                        values["last_error"] = error[:MAX_ERROR]
                db.session.execute(update(a).where(a.id == target.address_id).values(**values))
                if not ok:
                    db.session.execute(delete(Invitation).where(Invitation.id == invitation_id))

        return token, settle

    _run(report, targets, prepare, invitation_text, text, settings, mailer)
    with write_transaction():
        report.remaining = _count(pending)
        audit.record(
            "invitations.email",
            actor=actor,
            wave=wave_id,
            sent=report.sent,
            failed=len(report.failed),
            retry=retry_failed,
            stopped=report.stopped is not None,
        )
    return report


def send_reminders(
    wave: Wave,
    *,
    actor: User | str,
    retry_failed: bool = False,
    limit: int | None = None,
    mailer: SMTPMailer | None = None,
    today: date | None = None,
) -> SendReport:
    """Email a reminder with a new link to the next batch of unused invitations (commits).

    Reminders go in rounds: a round reaches every address whose invitation is unused once
    (batch by batch); the next call after a complete round starts a new one. An address whose
    last message failed is left out of rounds; ``retry_failed`` sends to those instead. Each
    address is claimed for the round before its message is sent (so that batches running at
    once do not both remind it), and its new link replaces the old one only once the server
    has accepted the message.
    """
    _check_wave(wave, "reminders")
    settings = _settings_or_error()
    day = today or date.today()
    text = _wave_text(wave)
    wave_id = wave.id
    summary = address_list_summary(wave)
    a = InvitationAddress
    if retry_failed:
        round_ = max(summary.reminder_round, 1)
        eligible = a.last_error.is_not(None)
    else:
        round_ = summary.reminder_round if summary.behind else summary.reminder_round + 1
        eligible = and_(a.last_error.is_(None), a.reminders_sent < round_)
    targets = _targets(_unused(wave_id).where(eligible).limit(limit or settings.batch_size))
    report = SendReport("reminders")

    def prepare(target: _Target) -> tuple[str, Settle] | None:
        with write_transaction():
            claimed = db.session.execute(
                update(a)
                .where(a.id == target.address_id, eligible)
                .values(reminders_sent=round_, last_error=None)
            ).rowcount
        if claimed != 1:  # reminded meanwhile by another batch
            return None
        token = new_token()

        def settle(ok: bool, error: str | None) -> None:
            with write_transaction():
                if ok:
                    assert target.invitation_id is not None
                    _replace_tokens([(target.invitation_id, hash_token(token))])
                    values: dict[str, Any] = {"last_sent_on": day}
                else:  # not sent: the claim is undone, the old link still works
                    values = {
                        "reminders_sent": target.reminders_sent,
                        "last_error": error[:MAX_ERROR] if error else target.last_error,
                    }
                db.session.execute(update(a).where(a.id == target.address_id).values(**values))

        return token, settle

    _run(report, targets, prepare, reminder_text, text, settings, mailer)
    with write_transaction():
        report.remaining = address_list_summary(wave).behind
        audit.record(
            "reminders.email",
            actor=actor,
            wave=wave_id,
            round=round_,
            sent=report.sent,
            failed=len(report.failed),
            retry=retry_failed,
            stopped=report.stopped is not None,
        )
    return report


def retry_failed(wave: Wave, *, actor: User | str) -> SendReport:
    """Try again the addresses whose last message failed: an invitation to those never
    invited, a reminder (a new link) to those whose invitation is unused (commits)."""
    report = send_invitations(wave, actor=actor, retry_failed=True)
    if report.stopped is None:
        reminders = send_reminders(wave, actor=actor, retry_failed=True)
        report.sent += reminders.sent
        report.failed += reminders.failed
        report.stopped = reminders.stopped
    report.kind = "messages"
    report.remaining = 0
    return report


def _run(
    report: SendReport,
    targets: Sequence[_Target],
    prepare: Callable[[_Target], tuple[str, Settle] | None],
    compose: Callable[[_WaveText, int, str], tuple[str, str]],
    text: _WaveText,
    settings: MailSettings,
    mailer: SMTPMailer | None,
) -> None:
    """Send one message per target, paced, each settled (committed) as soon as it is known."""
    own = mailer is None
    smtp = mailer or SMTPMailer(settings)
    next_at = time.monotonic()
    try:
        for target in targets:
            prepared = prepare(target)
            if prepared is None:
                continue
            token, settle = prepared
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            next_at = time.monotonic() + settings.interval
            subject, body = compose(text, target.party_id, survey_link(token))
            try:
                smtp.send(_message(target.email, subject, body, settings))
            except MailServerError as exc:
                settle(False, None)  # not this address's fault: no failure recorded
                report.stopped = str(exc)
                current_app.logger.warning("mail sending stopped: %s", exc)
                break
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                why = f"{REFUSED}: {_reason(exc)}"
                settle(False, why)
                report.failed.append((target.email, why))
                continue
            except (smtplib.SMTPException, OSError) as exc:
                why = f"not sent: {_reason(exc)}"
                settle(False, why)
                report.failed.append((target.email, why))
                continue
            settle(True, None)
            report.sent += 1
    finally:
        if own:
            smtp.close()


# ============================================================================== mail merge


def _insert_invitations(
    wave_id: int, rows: Sequence[tuple[int, int | None, str]], day: date
) -> list[int]:
    """Insert invitations (party id, area id, token hash); their ids, in the order given."""
    db.session.execute(
        insert(Invitation.__table__),
        [
            {
                "wave_id": wave_id,
                "party_id": party_id,
                "service_area_id": area_id,
                "role_level": None,
                "token_hash": token_hash,
                "issued_on": day,
            }
            for party_id, area_id, token_hash in rows
        ],
    )
    ids: dict[str, int] = {}
    hashes = [h for _, _, h in rows]
    for start in range(0, len(hashes), 1000):
        chunk = hashes[start : start + 1000]
        ids.update(
            db.session.execute(
                select(Invitation.token_hash, Invitation.id).where(Invitation.token_hash.in_(chunk))
            ).all()
        )
    return [ids[h] for h in hashes]


def _replace_tokens(pairs: Sequence[tuple[int, str]]) -> set[int]:
    """Give unused invitations new token hashes, moving their drafts along. Returns the ids
    of the invitations changed (one used meanwhile keeps its hash)."""
    if not pairs:
        return set()
    ids = [i for i, _ in pairs]
    old = dict(
        db.session.execute(
            select(Invitation.id, Invitation.token_hash).where(
                Invitation.id.in_(ids), Invitation.used_on.is_(None)
            )
        ).all()
    )
    if not old:
        return set()
    drafts = {
        d.token_hash: (d.wave_id, d.data, d.updated_on)
        for d in db.session.execute(
            select(Draft.token_hash, Draft.wave_id, Draft.data, Draft.updated_on).where(
                Draft.token_hash.in_(list(old.values()))
            )
        )
    }
    if drafts:
        db.session.execute(delete(Draft).where(Draft.token_hash.in_(list(drafts))))
    new = {i: h for i, h in pairs if i in old}
    table = Invitation.__table__
    db.session.execute(  # Core executemany: one statement, a parameter set per invitation
        update(table)
        .where(table.c.id == bindparam("iid"), table.c.used_on.is_(None))
        .values(token_hash=bindparam("new_hash")),
        [{"iid": i, "new_hash": h} for i, h in new.items()],
    )
    moved = [
        {"token_hash": new[i], "wave_id": w, "data": data, "updated_on": updated}
        for i, h in old.items()
        if h in drafts and i in new
        for (w, data, updated) in [drafts[h]]
    ]
    if moved:
        db.session.execute(insert(Draft.__table__), moved)
    return set(new)


MAIL_MERGE_COLUMNS = ("email", "link", "party", "service_area")


def _csv(rows: Iterator[Sequence[str]]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 only with the byte order mark
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MAIL_MERGE_COLUMNS)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])  # CSV injection
    return out.getvalue()


def _names(wave: Wave) -> tuple[dict[int, str], dict[int, str]]:
    rel = wave.relationship
    return {p.id: p.name for p in rel.parties}, {a.id: a.name for a in rel.service_areas}


def mail_merge_invitations(
    wave: Wave, *, actor: User | str, today: date | None = None
) -> tuple[str, int]:
    """Issue a link to every address not yet invited; the mail-merge CSV and how many rows.

    The file holds the only copy of the links. Commits (in one transaction holding the rows it
    issues, so that two downloads at once never invite one person twice) before the file is
    handed over.
    """
    _check_wave(wave, "invitations")
    day = today or date.today()
    wave_id = wave.id
    parties, areas = _names(wave)
    a = InvitationAddress
    with write_transaction():
        targets = _targets(_not_invited(wave_id, failed=None).with_for_update(of=a))
        if not targets:
            raise ServiceError("Everybody on the address list has been invited already")
        tokens = [new_token() for _ in targets]
        rows = [
            (t.party_id, t.service_area_id, hash_token(k))
            for t, k in zip(targets, tokens, strict=True)
        ]
        ids = _insert_invitations(wave_id, rows, day)
        table = a.__table__
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("aid"))
            .values(invitation_id=bindparam("iid"), invited_on=day, last_error=None),
            [{"aid": t.address_id, "iid": i} for t, i in zip(targets, ids, strict=True)],
        )
        audit.record("invitations.mail_merge", actor=actor, wave=wave_id, count=len(targets))
    lines = (
        (t.email, survey_link(k), parties[t.party_id], areas.get(t.service_area_id or 0, ""))
        for t, k in zip(targets, tokens, strict=True)
    )
    return _csv(lines), len(targets)


def mail_merge_reminders(
    wave: Wave, *, actor: User | str, today: date | None = None
) -> tuple[str, int]:
    """New links for every unused invitation on the list, as a mail-merge CSV (one reminder
    round); the CSV and how many rows. Commits, in one transaction holding its rows, before
    the file is handed over: the earlier links stop working then."""
    _check_wave(wave, "reminders")
    day = today or date.today()
    wave_id = wave.id
    parties, areas = _names(wave)
    a = InvitationAddress
    with write_transaction():
        targets = _targets(_unused(wave_id).with_for_update(of=a))
        if not targets:
            raise ServiceError("Nobody on the address list is waiting for a reminder")
        round_ = max(t.reminders_sent for t in targets) + 1
        tokens = {t.invitation_id: new_token() for t in targets}
        changed = _replace_tokens([(i, hash_token(k)) for i, k in tokens.items() if i])
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
    lines = (
        (
            t.email,
            survey_link(tokens[t.invitation_id]),
            parties[t.party_id],
            areas.get(t.service_area_id or 0, ""),
        )
        for t in targets
    )
    return _csv(lines), len(targets)


__all__ = [
    "AddressListSummary",
    "MailConfigError",
    "MailServerError",
    "MailSettings",
    "SMTPMailer",
    "SendReport",
    "address_list_summary",
    "check_mail_config",
    "delete_address_list",
    "failed_addresses",
    "mail_configured",
    "mail_merge_invitations",
    "mail_merge_reminders",
    "retry_failed",
    "send_invitations",
    "send_reminders",
    "survey_link",
]
