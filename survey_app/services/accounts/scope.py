"""Which relationships a user reaches: the one rule behind every page, download, API answer,
chart, job and report.

A page accepts some roles (its declaration in ``survey_app.web.access``). A user reaches a
relationship with that page when they hold, on that relationship or service-wide, a role that
includes one of them (roles nest: an admin does what a manager or a reviewer does). A manager of
relationship A and reviewer of B thus reaches A on the dashboard and B on the downloads. An API
token made for one relationship narrows its owner's reach to that relationship.

Loading a thing by id outside the reach is answered exactly as an id that does not exist (404),
so nobody learns what else the service holds; lists are filtered by :meth:`AccessScope.filter`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, Select

from survey_app.models import ROLE_INCLUDES, Relationship, User

Query = TypeVar("Query", bound=Select)  # type: ignore[type-arg]


@dataclass(frozen=True)
class AccessScope:
    """Every relationship (``relationship_ids is None``) or only these."""

    relationship_ids: frozenset[int] | None

    @property
    def everything(self) -> bool:
        return self.relationship_ids is None

    def allows(self, relationship_id: int | None) -> bool:
        """Whether the relationship with this id is within reach (``None``: a thing of no
        relationship, which only an unrestricted scope reaches)."""
        if self.relationship_ids is None:
            return True
        return relationship_id is not None and relationship_id in self.relationship_ids

    def filter(self, query: Query, column: ColumnElement[int] | None = None) -> Query:
        """``query`` restricted to rows whose ``column`` (default ``Relationship.id``) is in
        reach."""
        if self.relationship_ids is None:
            return query
        column = Relationship.id if column is None else column
        return query.where(column.in_(sorted(self.relationship_ids)))


EVERYTHING = AccessScope(None)
NOTHING = AccessScope(frozenset())


def _reaches(role: str | None, accepted: frozenset[str]) -> bool:
    return role is not None and bool(ROLE_INCLUDES.get(role, frozenset()) & accepted)


def scope_of(
    user: User, accepted: Iterable[str], *, only_relationship: int | None = None
) -> AccessScope:
    """The relationships ``user`` reaches with a page that accepts the roles ``accepted``;
    ``only_relationship`` narrows it to one (an API token made for one relationship)."""
    accepted = frozenset(accepted)
    if _reaches(user.role, accepted):
        scope = EVERYTHING
    else:
        scope = AccessScope(
            frozenset(m.relationship_id for m in user.memberships if _reaches(m.role, accepted))
        )
    if only_relationship is not None:
        kept = frozenset({only_relationship})
        scope = AccessScope(kept if scope.everything else kept & scope.relationship_ids)  # type: ignore[operator]
    return scope


def may_use(user: User, accepted: Iterable[str]) -> bool:
    """Whether ``user`` holds, anywhere, a role that reaches a page accepting ``accepted``."""
    accepted = frozenset(accepted)
    return any(_reaches(role, accepted) for role in user.roles_held())


__all__ = ["EVERYTHING", "NOTHING", "AccessScope", "may_use", "scope_of"]
