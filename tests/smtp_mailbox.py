"""A real SMTP server for the tests: aiosmtpd on a free port of 127.0.0.1, keeping every message
it receives (and refusing chosen recipients). Used by tests/test_mailing.py and tests/test_cli.py;
each test module makes its ``mailbox`` fixture with :func:`serving`.
"""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.factories import LINK
from tests.ports import free_port

SENDER = "relationship-health@council.example"


@dataclass
class Received:
    to: list[str]
    message: email.message.EmailMessage

    @property
    def body(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def token(self) -> str:
        match = LINK.search(self.body)
        assert match, self.body
        return match.group(1)


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives, and refuses chosen recipients."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if r.to == [address]]

    def clear(self) -> None:
        self.received.clear()


@contextmanager
def serving(
    app: Any,
    *,
    security: str = "none",
    certificate: tuple[Path, Path] | None = None,
    **controller_options: Any,
) -> Iterator[Mailbox]:
    """A real SMTP server on a free local port; the app configured to send through it.

    ``security`` "tls": TLS from the first byte (implicit, as on port 465); "starttls":
    STARTTLS offered and required; both present ``certificate`` (certificate, key files).
    ``controller_options`` go to aiosmtpd's ``Controller`` (an ``authenticator``, say).
    """
    box = Mailbox()
    port = free_port()
    options = dict(controller_options)
    if security != "none":
        assert certificate is not None, "a TLS mailbox needs its certificate"
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
        options.update(
            {"ssl_context": context}
            if security == "tls"
            else {"tls_context": context, "require_starttls": True}
        )
    controller = Controller(box, hostname="127.0.0.1", port=port, **options)
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_SECURITY=security,
        SMTP_USERNAME="",
        SMTP_PASSWORD="",
        SMTP_CA_FILE="",
        MAIL_FROM=SENDER,
        MAIL_MAX_PER_MINUTE=0,
    )
    try:
        yield box
    finally:
        controller.stop()
