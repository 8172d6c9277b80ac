"""Typed SQLAlchemy models of DESIGN §2."""

from survey_app.models.admin import (
    ACTION_STATUSES,
    ALERT_SIDES,
    OUTBOX_STATES,
    Action,
    InvitationAddress,
)
from survey_app.models.api_token import ApiToken
from survey_app.models.auth import SignInAttempt
from survey_app.models.base import Base, IllegalTransition
from survey_app.models.email_texts import WaveEmailTexts
from survey_app.models.instrument import InstrumentVersion
from survey_app.models.job import JOB_STATES, UNFINISHED_STATES, Job
from survey_app.models.organisation import MEMBERSHIP_ROLES, Membership, Organisation
from survey_app.models.relationship import SIDES, Party, Relationship, ServiceArea
from survey_app.models.response import Answer, Comment, Response
from survey_app.models.results import RESULT_SCOPES, CommentTheme, ReleasedGroup, ResultTable
from survey_app.models.target import AgreedTarget
from survey_app.models.user import (
    LINK_PURPOSES,
    ROLE_INCLUDES,
    ROLE_NAMES,
    ROLES,
    AccountLink,
    AuditEvent,
    RecoveryCode,
    User,
)
from survey_app.models.wave import (
    ROLE_LEVELS,
    WAVE_STATES,
    Draft,
    Invitation,
    InvitationLink,
    Wave,
    WaveReminder,
)

__all__ = [
    "ACTION_STATUSES",
    "ALERT_SIDES",
    "JOB_STATES",
    "LINK_PURPOSES",
    "MEMBERSHIP_ROLES",
    "OUTBOX_STATES",
    "ROLE_NAMES",
    "ROLES",
    "ROLE_INCLUDES",
    "RESULT_SCOPES",
    "ROLE_LEVELS",
    "SIDES",
    "UNFINISHED_STATES",
    "WAVE_STATES",
    "AccountLink",
    "Action",
    "AgreedTarget",
    "Answer",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Comment",
    "CommentTheme",
    "Draft",
    "IllegalTransition",
    "InstrumentVersion",
    "Invitation",
    "InvitationAddress",
    "InvitationLink",
    "Job",
    "Membership",
    "Organisation",
    "Party",
    "RecoveryCode",
    "Relationship",
    "ReleasedGroup",
    "Response",
    "ResultTable",
    "ServiceArea",
    "SignInAttempt",
    "User",
    "Wave",
    "WaveEmailTexts",
    "WaveReminder",
]
