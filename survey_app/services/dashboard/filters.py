"""What a manager narrowed the dashboard to: a side, a service area, a role level.

Filters only ever select among published (suppressed) rows; checking them is here, and so are
the words a page uses for the area chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext

from survey_app.models import ROLE_LEVELS, Relationship
from survey_app.services import ServiceError
from survey_app.services.results import AREA_ALL, AREA_NONE, SIDES


@dataclass(frozen=True)
class Filters:
    """What a manager narrowed the view to: a side, a service area (key), a role level."""

    side: str | None = None
    area: str | None = None
    role: str | None = None

    @property
    def area_key(self) -> str:
        return self.area or AREA_ALL

    @property
    def sides(self) -> tuple[str, ...]:
        """The sides whose series are drawn: the chosen one, else client and supplier."""
        return (self.side,) if self.side else SIDES

    @property
    def headline_sides(self) -> tuple[str, ...]:
        """The sides a page heads with: the chosen one, else each side and both together."""
        return self.sides if self.side else (*SIDES, "all")

    @property
    def heat_side(self) -> str:
        return self.side or "all"

    @property
    def role_words(self) -> str:
        """The role level in a chart's title (``", manager level"``), or nothing."""
        if not self.role:
            return ""
        return ", " + gettext("%(level)s level", level=gettext(ROLE_LEVELS[self.role]).lower())

    def query(self) -> dict[str, str]:
        """As GET parameters (for links that keep the filters)."""
        out = {"side": self.side, "area": self.area, "role_level": self.role}
        return {k: v for k, v in out.items() if v}

    def params(self) -> dict[str, str | None]:
        return {"side": self.side, "area": self.area, "role": self.role}


def area_choices(relationship: Relationship) -> list[tuple[str, str]]:
    """Service areas a filter may choose (key, name), "not stated" last."""
    return [(a.key, a.name) for a in relationship.service_areas] + [
        (AREA_NONE, gettext("Service area not stated"))
    ]


def area_name(relationship: Relationship, area: str) -> str:
    """A service area (key) as a page names it: "all service areas" for the margin."""
    if area == AREA_ALL:
        return gettext("all service areas")
    return dict(area_choices(relationship)).get(area, area)


def area_slug(area: str) -> str:
    """A service area (key) fit for a chart's id: ``_all`` → ``all``, ``_none`` → ``none``."""
    return area.strip("_").replace("_", "-") or "all"


def parse_filters(
    relationship: Relationship,
    *,
    side: str | None = None,
    area: str | None = None,
    role: str | None = None,
) -> Filters:
    """Check filter values; raises ServiceError naming the first bad one."""
    if side and side not in SIDES:
        raise ServiceError(f"side must be client or supplier, not {side!r}")
    if area and area not in dict(area_choices(relationship)):
        known = ", ".join(k for k, _ in area_choices(relationship))
        raise ServiceError(f"there is no service area {area!r} (known: {known})")
    if role and role not in ROLE_LEVELS:
        raise ServiceError(f"role level must be one of {', '.join(ROLE_LEVELS)}, not {role!r}")
    return Filters(side or None, area or None, role or None)
