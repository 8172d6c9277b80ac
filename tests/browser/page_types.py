"""Every page type of the service, and how a browser gets to one.

``PAGE_TYPES`` is what the accessibility audit and the CSP checks walk: adding a page
type is one line there. A page type is a name, the steps that bring a fresh browser to
it, the HTTP status it answers with and the text of its ``<h1>`` (so a test knows it
reached the page it meant to, not a redirect elsewhere). Steps are small functions of
``(page, site)``; the ones below cover plain URLs, a respondent at any point of the
survey, pressing a button, and a signed-in manager, reviewer or admin.

The survey states are prepared in-process (``tests.conftest.Respondent`` through the
test client writes the draft to the shared database); the browser then opens the same
personal link and resumes where the draft says, as a returning respondent would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.conftest import Respondent

Step = Callable[[Any, "Site"], Any]  # (playwright Page, Site) -> Response | None

PASSWORD = "correct horse battery staple"  # noqa: S105 (a test account's password)


class Site:
    """Test data for the browser: one open wave, its respondents and staff accounts."""

    def __init__(self, factory, client) -> None:  # type: ignore[no-untyped-def]
        self.factory = factory
        self.client = client
        self._wave = None

    @property
    def wave(self):  # type: ignore[no-untyped-def]
        if self._wave is None:
            self._wave = self.factory.wave()
        return self._wave

    @property
    def n_sections(self) -> int:
        from survey_app.services.instruments import frozen_instrument
        from survey_app.services.respondents import build_sections

        return len(build_sections(frozen_instrument(self.wave.instrument_version)))

    def token(self, progress: str = "new", side: str = "client") -> str:
        """A personal link's token whose respondent has got as far as ``progress``:
        new, about (about-you answered), comments (every rated section answered),
        check (everything answered) or submitted."""
        (token,) = self.factory.tokens(self.wave, side=side)
        if progress == "new":
            return token
        person = Respondent(self.client, token)
        person.open()
        assert person.answer_about().status_code == 302
        last = {"about": 0, "comments": self.n_sections - 1}.get(progress, self.n_sections)
        for number in range(1, last + 1):
            assert person.answer_section(number).status_code == 302, number
        if progress == "submitted":
            assert person.post("/survey/check", {}).status_code == 302
        return token

    def other_wave(self, state: str):  # type: ignore[no-untyped-def]
        """A wave of a second relationship, in ``state``: draft (not yet open), open or
        closed (with one invitation issued while it was open, and never used)."""
        from survey_app.extensions import db
        from survey_app.services.waves import close_wave

        relationship = self.factory.relationship("Other Council — Other Supplier")
        wave = self.factory.wave(relationship, state="draft" if state == "draft" else "open")
        (self.other_token,) = self.factory.tokens(wave)
        if state == "closed":
            close_wave(wave)
            db.session.commit()
        return wave

    def demo_relationship_id(self) -> int:
        """The demo's relationship, with its years of closed waves and their results."""
        from survey_app.extensions import db
        from survey_app.models import Relationship
        from survey_app.services.demo import load_demo

        summary = load_demo(links=1)
        db.session.commit()
        return db.session.scalar(
            db.select(Relationship.id).where(Relationship.name == summary.relationship)
        )

    def user(self, role: str) -> str:
        from survey_app.extensions import db
        from survey_app.services.users import create_user

        email = f"{role}@example.org"
        create_user(email, name=f"A {role}", role=role, password=PASSWORD)
        db.session.commit()
        return email


# ----------------------------------------------------------------- steps


def visit(path: str) -> Step:
    def step(page, site: Site):  # type: ignore[no-untyped-def]
        return page.goto(path)

    return step


def respondent(progress: str = "new") -> Step:
    """Open a personal link whose respondent got as far as ``progress`` (see Site.token)."""

    def step(page, site: Site):  # type: ignore[no-untyped-def]
        return page.goto(f"/s/{site.token(progress)}")

    return step


def link_of_wave(state: str) -> Step:
    def step(page, site: Site):  # type: ignore[no-untyped-def]
        site.other_wave(state)
        return page.goto(f"/s/{site.other_token}")

    return step


def downloads_of_a_closed_wave(query: str = "") -> Step:
    def step(page, site: Site):  # type: ignore[no-untyped-def]
        wave = site.other_wave("closed")
        return page.goto(f"/downloads/{wave.relationship_id}/{query}")

    return step


def dashboard_of_a_closed_wave(query: str = "") -> Step:
    def step(page, site: Site):  # type: ignore[no-untyped-def]
        wave = site.other_wave("closed")
        return page.goto(f"/dashboard/{wave.relationship_id}/{query}")

    return step


def dashboard_of_the_demo(path: str = "") -> Step:
    def step(page, site: Site):  # type: ignore[no-untyped-def]
        return page.goto(f"/dashboard/{site.demo_relationship_id()}/{path}")

    return step


def press(button: str) -> Step:
    """Press a button (focus and Enter) and wait for the page it leads to."""

    def step(page, site: Site):  # type: ignore[no-untyped-def]
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name=button, exact=True).press("Enter")
        return navigation.value

    return step


def expire_form(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """As if the form had been left open past its session: its CSRF token no longer checks."""
    page.locator("input[name=csrf_token]").first.evaluate("input => { input.value = 'expired'; }")


def signed_in(role: str) -> Step:
    """Sign in through the sign-in page as a new ``role`` account."""

    def step(page, site: Site):  # type: ignore[no-untyped-def]
        email = site.user(role)
        page.goto("/sign-in")
        page.get_by_label("Email address", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        return press("Sign in")(page, site)

    return step


def too_many_failed_sign_ins(page, site: Site):  # type: ignore[no-untyped-def]
    """Sign in with the wrong password until the service makes the user wait."""
    email = site.user("reviewer")
    page.goto("/sign-in")
    for _ in range(10):
        page.get_by_label("Email address", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill("not the password")
        response = press("Sign in")(page, site)
        if response.status == 429:
            return response
    raise AssertionError("ten failed sign-ins in a row were all let through")


@dataclass(frozen=True)
class PageType:
    name: str
    steps: tuple[Step, ...]
    status: int
    heading: str

    def reach(self, page, site: Site):  # type: ignore[no-untyped-def]
        """Run the steps; return the response of the last navigation."""
        response = None
        for step in self.steps:
            response = step(page, site) or response
        return response


def page_type(name: str, *steps: Step, status: int = 200, heading: str) -> PageType:
    return PageType(name, steps, status, heading)


# One row per page type (a table: the formatter would fold the long rows).
# fmt: off
PAGE_TYPES: list[PageType] = [
    # service pages
    page_type("home", visit("/"), heading="Relationship Health"),
    page_type("accessibility statement", visit("/accessibility"), heading="Accessibility statement"),
    page_type("cookies", visit("/cookies"), heading="Cookies"),
    page_type("privacy notice", visit("/privacy"), heading="Privacy notice"),
    page_type("page not found", visit("/no-such-page"), status=404, heading="Page not found"),
    # the respondent's journey
    page_type("survey start", respondent(), heading="Partnership health survey"),
    page_type("about you", respondent(), visit("/survey/about"), heading="About you"),
    page_type("about you with errors", respondent(), visit("/survey/about"), press("Continue"), status=400, heading="About you"),
    page_type("section", respondent("about"), heading="Shared purpose"),
    page_type("section with errors", respondent("about"), press("Save and continue"), status=400, heading="Shared purpose"),
    page_type("comments section", respondent("comments"), heading="Your comments"),
    page_type("check answers", respondent("check"), heading="Check your answers before submitting"),
    page_type("survey submitted", respondent("check"), press("Submit your answers"), heading="Survey submitted"),
    page_type("answers saved", respondent("about"), press("Save and come back later"), heading="Your answers have been saved"),
    page_type("form expired", respondent("about"), expire_form, press("Save and continue"), status=400, heading="There is a problem with your request"),
    # a link that cannot be used
    page_type("link not recognised", visit("/s/not-a-real-token"), status=404, heading="Survey link not recognised"),
    page_type("survey already completed", respondent("submitted"), status=409, heading="You have already completed this survey"),
    page_type("survey not open yet", link_of_wave("draft"), status=403, heading="This survey is not open"),
    page_type("survey closed", link_of_wave("closed"), status=410, heading="This survey has closed"),
    page_type("survey session ended", visit("/survey/"), status=403, heading="Open your survey link to continue"),
    # staff
    page_type("sign in", visit("/sign-in"), heading="Sign in to Relationship Health"),
    page_type("sign in with errors", visit("/sign-in"), press("Sign in"), status=400, heading="Sign in to Relationship Health"),
    page_type("too many sign-in attempts", too_many_failed_sign_ins, status=429, heading="Too many"),
    page_type("home, signed in", signed_in("manager"), visit("/"), heading="Relationship Health"),
    page_type("signed out", signed_in("manager"), press("Sign out"), heading="Sign in to Relationship Health"),
    page_type("not allowed", signed_in("manager"), visit("/downloads/"), status=403, heading="You do not have permission to see this page"),
    page_type("dashboard", link_of_wave("closed"), signed_in("manager"), heading="Dashboard"),
    page_type("dashboard of a relationship", signed_in("manager"), dashboard_of_the_demo(), heading="Birmingham City Council — Service Birmingham"),
    page_type("dashboard of a dimension", signed_in("manager"), dashboard_of_the_demo("dimension/trust"), heading="Trust"),
    page_type("dashboard with errors", signed_in("manager"), dashboard_of_a_closed_wave("?side=neither"), status=400, heading="Other Council — Other Supplier"),
    page_type("downloads", signed_in("reviewer"), heading="Downloads"),
    page_type("downloads of a relationship", signed_in("reviewer"), downloads_of_a_closed_wave(), heading="Other Council — Other Supplier"),
    page_type("downloads with errors", signed_in("reviewer"), downloads_of_a_closed_wave("?wave=no-such-wave"), status=400, heading="Other Council — Other Supplier"),
    page_type("import responses", signed_in("admin"), visit("/admin/import/"), heading="Import historical responses"),
    page_type("administration", signed_in("admin"), visit("/admin/"), heading="Administration"),
    page_type("create a relationship", signed_in("admin"), visit("/admin/relationships/new"), heading="Create a relationship"),
    page_type("instrument previews", signed_in("admin"), visit("/admin/instruments/"), heading="Questionnaires"),
    page_type("create a relationship with errors", signed_in("admin"), visit("/admin/relationships/new"), press("Create relationship"), status=400, heading="Create a relationship"),
    page_type("actions", signed_in("manager"), visit("/actions/"), heading="Actions"),
    page_type("API tokens", signed_in("reviewer"), visit("/account/api-tokens/"), heading="API tokens"),
    page_type("import responses with errors", signed_in("admin"), visit("/admin/import/"), press("Import responses"), status=400, heading="Import historical responses"),
]
# fmt: on
