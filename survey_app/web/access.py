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

**Scope.** Roles are held per relationship (or service-wide): the gate above lets a user in when
they hold a fitting role *somewhere*; what the page then shows is limited by :func:`current_scope`
— the relationships where they hold a role the page accepts (``services/accounts/scope.py``). The
loaders of ``web/loading.py`` answer 404 for anything outside it, and lists are filtered by it.
``requires("admin", service_wide=True)`` marks the few pages that are about the whole service
(creating relationships, instruments, imports): only a service-wide admin may use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, current_app, g, request
from flask_login import current_user

from survey_app.models import ROLE_INCLUDES, ROLES, User
from survey_app.services.accounts.scope import EVERYTHING, AccessScope, may_use, scope_of

ATTRIBUTE = "__access__"

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
    #: Only a service-wide role (``User.role``) counts, not a role on some relationship.
    service_wide: bool = False

    def allows(self, role: str | None) -> bool:
        """Whether a signed-in user with ``role`` may use the page (``None``: anonymous)."""
        if self.public:
            return True
        return role is not None and bool(self.roles & ROLE_INCLUDES.get(role, frozenset()))

    def admits(self, user: User) -> bool:
        """Whether ``user`` may use the page: a fitting role service-wide, or (unless the page is
        ``service_wide``) on at least one relationship."""
        if self.public or self.allows(user.role):
            return True
        return not self.service_wide and may_use(user, self.roles)

    def describe(self) -> str:
        if self.public:
            return "public"
        wide = " service-wide" if self.service_wide else ""
        return "requires " + " or ".join(sorted(self.roles)) + wide


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


def requires(*roles: str, service_wide: bool = False) -> Callable[[Target], Target]:
    """Only signed-in users with one of ``roles`` — or a role that includes it — may use this
    (with ``service_wide``, only when they hold it service-wide)."""
    if not roles:
        raise TypeError("requires() needs at least one role; use @signed_in for any account")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    access = Access(public=False, roles=frozenset(roles), service_wide=service_wide)

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


def can_access(endpoint: str, *, app: Flask | None = None) -> bool:
    """Whether the current user may use ``endpoint``."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    access = access_for(app, endpoint)
    if access is None:
        return False
    if access.public:
        return True
    return current_user.is_authenticated and access.admits(current_user)


def accessible(endpoints: Iterable[str]) -> list[str]:
    """The endpoints of ``endpoints`` that exist and that the current user may use."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return [e for e in endpoints if e in app.view_functions and can_access(e, app=app)]


#: Where the request keeps the one relationship its API token was made for, if any.
TOKEN_RELATIONSHIP = "api_token_relationship"  # noqa: S105 (a g attribute name)


def current_scope() -> AccessScope:
    """The relationships the current user reaches with the current page (see the module's
    *Scope*); everything on a public page."""
    if "access_scope" not in g:
        access = access_for(current_app, request.endpoint or "")
        if access is None or access.public or access.service_wide:
            g.access_scope = EVERYTHING
        elif not current_user.is_authenticated:
            g.access_scope = AccessScope(frozenset())
        else:
            only = g.get(TOKEN_RELATIONSHIP)
            g.access_scope = scope_of(current_user, access.roles, only_relationship=only)
    return g.access_scope


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
        if not access.admits(current_user):
            abort(403, description=FORBIDDEN_MESSAGE)
        return None
