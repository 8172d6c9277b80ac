"""Typed SQLAlchemy models of DESIGN §2."""

from survey_app.models.base import Base, IllegalTransition
from survey_app.models.instrument import InstrumentVersion
from survey_app.models.relationship import SIDES, Party, Relationship, ServiceArea
from survey_app.models.response import Answer, Comment, Response
from survey_app.models.user import ROLES, AuditEvent, User
from survey_app.models.wave import ROLE_LEVELS, WAVE_STATES, Draft, Invitation, Wave

__all__ = [
    "ROLES",
    "ROLE_LEVELS",
    "SIDES",
    "WAVE_STATES",
    "Answer",
    "AuditEvent",
    "Base",
    "Comment",
    "Draft",
    "IllegalTransition",
    "InstrumentVersion",
    "Invitation",
    "Party",
    "Relationship",
    "Response",
    "ServiceArea",
    "User",
    "Wave",
]
