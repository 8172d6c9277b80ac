"""Invitations and reminders by email (SMTP) or mail-merge file, from a wave's address list.

Each person on the address list (:mod:`survey_app.services.imports.staff_lists`) gets one personal
link. The token exists only in the message (or in the mail-merge file handed to the
administrator): the database keeps its hash on the invitation, and the address list keeps only
which invitation went to which address. A reminder goes to every address whose invitation is
unused (``used_on IS NULL``) — nothing records who answered what, since an invitation knows only
the day it was used and a response knows no invitation. As the token of the first message is
not kept, a reminder carries a **new** link; the earlier links keep working until the invitation
is used through any of them, and answers saved so far move to the new link.

What a round (:mod:`~survey_app.services.mailing.rounds`) uses to send one message: the
mail settings it needs, the pace (at most ``MAIL_MAX_PER_MINUTE`` a minute over one SMTP
connection, :class:`~survey_app.services.mailing.smtp.SMTPMailer`), and the server's answer —
a message the server refuses is reported against its address (beginning with
:data:`REFUSED`) and the rest carry on; a server that cannot be used at all stops the round.
"""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage

from flask_babel import gettext as _

from survey_app.services import ServiceError
from survey_app.services.mailing.smtp import MailSettings, SMTPMailer, reason

#: How much of a failure's reason an address keeps.
MAX_ERROR = 300


#: How the reason for an address the server refused begins (:func:`deliver`).
REFUSED = "refused by the mail server"


def settings_or_error() -> MailSettings:
    settings = MailSettings.from_config()
    if not settings.configured:
        raise ServiceError(
            _(
                "Email is not set up for this service (SMTP_HOST and MAIL_FROM): download the "
                "mail-merge file instead"
            )
        )
    return settings


def deliver(smtp: SMTPMailer, message: EmailMessage) -> str | None:
    """Hand one message to the mail server: None when it accepted it, else why not (an address
    or message the server refused begins with :data:`REFUSED`). :class:`MailServerError` when
    the server cannot be used at all."""
    try:
        smtp.send(message)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
        return f"{REFUSED}: {reason(exc)}"
    except (smtplib.SMTPException, OSError) as exc:
        return f"not sent: {reason(exc)}"
    return None


class Pacer:
    """At most ``MAIL_MAX_PER_MINUTE`` messages a minute: :meth:`wait` before each."""

    def __init__(self, settings: MailSettings) -> None:
        self.interval = settings.interval
        self._next_at = time.monotonic()

    def wait(self) -> None:
        pause = self._next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._next_at = time.monotonic() + self.interval
