"""Every page type, as a browser shows it under the app's own Content-Security-Policy:

- axe-core finds no violation at all of WCAG 2.2 A and AA (axe's tags wcag2a, wcag2aa,
  wcag21a, wcag21aa, wcag22aa);
- the browser refused nothing under the CSP, and GOV.UK Frontend's JavaScript started:
  the nonce'd inline script of the GOV.UK template marked the body
  ``govuk-frontend-supported``, and ``initAll`` (``/assets/app/init.js``) marked every
  ``data-module`` element initialised (``data-govuk-<module>-init``) and reported no
  component that failed to start (a ConfigError, say: ``init.js`` logs those as errors).

Each page type is visited once and checked both ways; the page types are listed in
``page_types.py``.
"""

from __future__ import annotations

import pytest

from tests.browser.axe_audit import axe_violations, describe
from tests.browser.page_types import PAGE_TYPES, PageType
from tests.browser.site import Site

pytestmark = pytest.mark.browser

UNINITIALISED_MODULES = """() => [...document.querySelectorAll('[data-module]')]
    .filter(e => !e.hasAttribute(`data-${e.dataset.module}-init`))
    .map(e => e.dataset.module)"""


def script_src(policy: str) -> str:
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )
    return directives.get("script-src", directives.get("default-src", ""))


def csp_problems(page, console, response) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []
    policy = response.headers.get("content-security-policy", "")
    if "'nonce-" not in script_src(policy) or "'unsafe-inline'" in script_src(policy):
        problems.append(f"script-src should allow the nonce and not 'unsafe-inline': {policy!r}")
    problems += [f"console: {error}" for error in console.errors()]
    problems += [
        f"CSP: {message}" for message in console.csp_violations() if message not in console.errors()
    ]
    if not page.evaluate("document.body.classList.contains('govuk-frontend-supported')"):
        problems.append("the GOV.UK template's inline script did not run")
    if page.locator("[data-module]").count() == 0:
        problems.append("no GOV.UK Frontend component on the page")
    if uninitialised := page.evaluate(UNINITIALISED_MODULES):
        problems.append(f"GOV.UK Frontend did not initialise {uninitialised}")
    return problems


def _params(page_types: list[PageType]) -> list:  # type: ignore[type-arg]
    """The page types, those on the demo's pages last and marked ``reads_demo``: one after
    another they share one copy of the demo (tests/conftest.py ``app``)."""
    return [
        pytest.param(p, id=p.name, marks=[pytest.mark.reads_demo] if p.needs_demo else [])
        for p in sorted(page_types, key=lambda p: p.needs_demo)
    ]


@pytest.mark.parametrize("page_type", _params(PAGE_TYPES))
def test_the_page_meets_wcag_22_aa_and_works_under_the_csp(
    page_type: PageType, audit_page, console, factory, client, request
):  # type: ignore[no-untyped-def]
    response = page_type.reach(audit_page, Site(factory, client, request))
    assert response is not None and response.status == page_type.status, audit_page.url
    assert page_type.heading in audit_page.locator("h1").first.inner_text()
    assert page_type.shows in audit_page.locator("main").inner_text(), page_type.shows

    found = axe_violations(audit_page)
    assert {v["id"] for v in found} >= set(page_type.accepts), "an accepted finding is gone"
    problems = describe([v for v in found if v["id"] not in page_type.accepts])
    problems += csp_problems(audit_page, console, response)

    assert not problems, f"{page_type.name} ({audit_page.url}):\n" + "\n".join(problems)


def test_the_audit_reports_a_violation_when_there_is_one(audit_page):  # type: ignore[no-untyped-def]
    """The audit above would pass vacuously if axe never ran or never looked."""
    audit_page.goto("/")
    audit_page.evaluate(
        """() => { const img = document.createElement('img');
                   img.src = '/assets/images/favicon.svg';
                   document.querySelector('main').append(img); }"""
    )
    assert "image-alt" in [v["id"] for v in axe_violations(audit_page)]
