"""Invitations and reminders by email (SMTP) or mail merge, from a wave's address list.

``smtp``          the mail server's settings (checked at start) and one connection
``texts``         the editable texts of a wave's emails: defaults, placeholders, versions
``messages``      what invitation and reminder emails say, and their preview
``address_list``  who is on a wave's list, and the invitation rows written for it
``sending``       one message to the mail server: the settings it needs, the pace, its answer
``rounds``        a whole round sent by a background job, crash-safe through the outbox
``mail_merge``    the same links as a CSV for the council's own email system
"""

from survey_app.services.mailing.address_list import (
    AddressListSummary,
    address_list_summary,
    delete_address_list,
    failed_addresses,
)
from survey_app.services.mailing.mail_merge import (
    MAIL_MERGE_COLUMNS,
    mail_merge_invitations,
    mail_merge_reminders,
)
from survey_app.services.mailing.messages import (
    EmailPreview,
    invitation_text,
    preview_email,
    reminder_text,
)
from survey_app.services.mailing.rounds import ROUND_KINDS, check_round, retry_kinds, send_round
from survey_app.services.mailing.sending import REFUSED
from survey_app.services.mailing.smtp import (
    DEFAULT_PORTS,
    SECURITY_CHOICES,
    MailConfigError,
    MailServerError,
    MailSettings,
    SMTPMailer,
    check_mail_config,
    mail_configured,
)

__all__ = [
    "DEFAULT_PORTS",
    "MAIL_MERGE_COLUMNS",
    "REFUSED",
    "ROUND_KINDS",
    "SECURITY_CHOICES",
    "AddressListSummary",
    "EmailPreview",
    "MailConfigError",
    "MailServerError",
    "MailSettings",
    "SMTPMailer",
    "address_list_summary",
    "check_round",
    "check_mail_config",
    "delete_address_list",
    "failed_addresses",
    "invitation_text",
    "mail_configured",
    "mail_merge_invitations",
    "mail_merge_reminders",
    "preview_email",
    "reminder_text",
    "retry_kinds",
    "send_round",
]
