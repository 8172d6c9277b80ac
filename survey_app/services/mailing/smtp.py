"""The mail server: settings from the app config, checked at start, and one SMTP connection.

Settings come from the app config (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USERNAME``,
``SMTP_PASSWORD``, ``SMTP_SECURITY`` — or the older ``SMTP_STARTTLS`` —, ``SMTP_CA_FILE``,
``SMTP_TIMEOUT_SECONDS``, ``MAIL_FROM``; :func:`check_mail_config` validates them when the app
starts). The connection is secured with STARTTLS (``starttls``, the default), TLS from the first
byte (``tls``, "implicit TLS", usually port 465) or not at all (``none``); the server's
certificate is always verified, against the system's CAs or ``SMTP_CA_FILE``.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from flask import current_app

from survey_app.services import ServiceError

#: Messages sent over one SMTP connection before it is renewed (servers often cap it at 100).
MESSAGES_PER_CONNECTION = 100


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
                f"in PEM format ({reason(exc)})"
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
                f"could not connect to the mail server {s.host}:{s.port} ({reason(exc)})"
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
                f"({reason(exc)}): check SMTP_SECURITY"
            ) from exc
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            smtp.close()
            raise MailServerError(
                f"the mail server could not be used ({reason(exc)}){_tls_hint(exc)}"
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
                    f"({reason(exc)}): check MAIL_FROM"
                ) from exc
            except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
                self._smtp = None  # dropped: reconnect once
                if attempt == 2:
                    raise MailServerError(
                        f"the mail server closed the connection ({reason(exc)})"
                    ) from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def reason(exc: BaseException) -> str:
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
