"""Who may use which page. Every view declares it; one check, before anything else, enforces it.

The vocabulary::

    @bp.get("/dashboard/")
    @requires("manager")          # managers, and admins (roles nest, see ROLE_INCLUDES)
    def index(): ...

    @requires("manager", "reviewer")   # either role (and admins)
    @signed_in                         # any signed-in account
    @public                            # anyone, signed in or not

Roles nest: an **admin** may use every page a manager or a reviewer may use, and the admin pages;
a **manager** uses the dashboards (and reads the API); a **reviewer** uses the downloads (and reads
the API). Declare what a page needs in terms of the least role that should see it — ``requires
("manager")``, not ``requires("admin", "manager")`` — and the nesting does the rest.

Applied to a :class:`~flask.Blueprint` rather than a view, a declaration becomes the default of every
view in that blueprint (``public(survey.bp)`` for the anonymous respondent journey); a view's own
declaration wins over its blueprint's. ``static`` endpoints are public.

:func:`init_app` registers one ``before_request`` hook that runs before the CSRF check and before
any blueprint's own hooks:

* an endpoint with no declaration raises :class:`UndeclaredAccess`: the request ends in a 500
  with the exception logged, and ``tests/test_access_table.py`` fails — a forgotten declaration
  never means "open";
* an anonymous visitor on a protected page gets the sign-in page (``302 /sign-in?next=...``), or
  401 under ``/api/``;
* a signed-in user whose role does not reach the page gets the 403 page.

Declarations only tag the function (no wrapper), so they work above or below the route decorator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, current_app, request
from flask_login import current_user

from survey_app.models import ROLES

ATTRIBUTE = "__access__"

#: What each role may do, as the set of roles whose pages it may use.
ROLE_INCLUDES: dict[str, frozenset[str]] = {
    "admin": frozenset({"admin", "manager", "reviewer"}),
    "manager": frozenset({"manager"}),
    "reviewer": frozenset({"reviewer"}),
}

FORBIDDEN_MESSAGE = (
    "Your account cannot use this page. If you need it for your work, "
    "ask your survey administrator."
)

Target = TypeVar("Target", bound=Callable[..., Any] | Blueprint)


class UndeclaredAccess(RuntimeError):
    """A view was reached that declares neither ``@public`` nor ``@requires(...)``."""


@dataclass(frozen=True)
class Access:
    """A declaration: public, or the roles (any one of them) a signed-in user needs."""

    public: bool
    roles: frozenset[str] = frozenset()

    def allows(self, role: str | None) -> bool:
        """Whether a signed-in user with ``role`` may use the page (``None``: anonymous)."""
        if self.public:
            return True
        return role is not None and bool(self.roles & ROLE_INCLUDES.get(role, frozenset()))

    def describe(self) -> str:
        return "public" if self.public else "requires " + " or ".join(sorted(self.roles))


PUBLIC = Access(public=True)
SIGNED_IN = Access(public=False, roles=frozenset(ROLES))


def _declare(target: Target, access: Access) -> Target:
    existing = getattr(target, ATTRIBUTE, None)
    if existing is not None and existing != access:
        name = getattr(target, "__qualname__", None) or getattr(target, "name", repr(target))
        raise ValueError(f"{name} already declares {existing.describe()}")
    setattr(target, ATTRIBUTE, access)
    return target


def public(target: Target) -> Target:
    """Anyone may use this view (or every view of this blueprint), signed in or not."""
    return _declare(target, PUBLIC)


def signed_in(target: Target) -> Target:
    """Any signed-in account may use this view (or every view of this blueprint)."""
    return _declare(target, SIGNED_IN)


def requires(*roles: str) -> Callable[[Target], Target]:
    """Only signed-in users with one of ``roles`` — or a role that includes it — may use this."""
    if not roles:
        raise TypeError("requires() needs at least one role; use @signed_in for any account")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    access = Access(public=False, roles=frozenset(roles))

    def declare(target: Target) -> Target:
        return _declare(target, access)

    return declare


def access_for(app: Flask, endpoint: str) -> Access | None:
    """The declaration in force for ``endpoint``: the view's own, else its blueprint's."""
    if endpoint == "static" or endpoint.endswith(".static"):
        return PUBLIC
    view = app.view_functions.get(endpoint)
    for holder in (view, getattr(view, "view_class", None)):
        declared = getattr(holder, ATTRIBUTE, None)
        if declared is not None:
            return declared
    blueprint = endpoint.rpartition(".")[0]
    while blueprint:
        declared = getattr(app.blueprints.get(blueprint), ATTRIBUTE, None)
        if declared is not None:
            return declared
        blueprint = blueprint.rpartition(".")[0]
    return None


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints that declare no access rule (the access table test asserts there are none)."""
    return sorted(e for e in app.view_functions if access_for(app, e) is None)


def user_role() -> str | None:
    """The current user's role, or ``None`` when nobody is signed in."""
    return current_user.role if current_user.is_authenticated else None


def can_access(endpoint: str, role: str | None = None, *, app: Flask | None = None) -> bool:
    """Whether a user with ``role`` (default: the current user's) may use ``endpoint``."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    access = access_for(app, endpoint)
    if access is None:
        return False
    return access.allows(role if role is not None else user_role())


def accessible(endpoints: Iterable[str]) -> list[str]:
    """The endpoints of ``endpoints`` that exist and that the current user may use."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    role = user_role()
    return [e for e in endpoints if e in app.view_functions and can_access(e, role, app=app)]


def init_app(app: Flask) -> None:
    """Enforce the declarations on every request (register before ``csrf.init_app``)."""

    @app.before_request
    def enforce_access():  # type: ignore[no-untyped-def]
        if request.url_rule is None or request.endpoint is None:
            return None  # no route matched: Flask answers 404 or 405 itself
        access = access_for(app, request.endpoint)
        if access is None:
            raise UndeclaredAccess(
                f"the view {request.endpoint!r} declares no access rule: mark it @public, "
                "@signed_in or @requires(role, ...) from survey_app.web.access"
            )
        if access.public:
            return None
        if not current_user.is_authenticated:
            return app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if not access.allows(current_user.role):
            abort(403, description=FORBIDDEN_MESSAGE)
        return None
