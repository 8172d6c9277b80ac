"""The browser enforces the app's Content-Security-Policy, and the tests would notice a breach.

Every page type is checked under the CSP in ``test_accessibility.py`` (nothing refused,
GOV.UK Frontend initialised); the keyboard journey fails on any console error.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_an_inline_script_without_the_nonce_is_refused_and_reported(page, console):  # type: ignore[no-untyped-def]
    page.goto("/")
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = 'window.injected = true'; document.body.append(s); }"""
        )
    assert page.evaluate("window.injected") is None
    assert console.csp_violations()
