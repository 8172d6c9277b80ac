"""The one-button POST form of the templates (``_post_button.html``): what it posts, with the
CSRF token, and how its button looks."""

from __future__ import annotations

import re

from flask import render_template_string

CALL = '{% from "_post_button.html" import post_button %}{{ post_button(ARGS) }}'


def rendered(app, args: str) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context("/jobs/7"):
        return render_template_string(CALL.replace("ARGS", args))


def test_a_post_button_posts_to_its_action_with_the_csrf_token(app):
    html = rendered(app, "'Try again', '/jobs/7/retry'")
    assert re.search(r'<form method="post" action="/jobs/7/retry" novalidate>', html)
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', html)
    button = html[html.index("<button") : html.index("</button>")]
    assert 'type="submit"' in button and 'class="govuk-button"' in button
    assert 'data-prevent-double-click="true"' in button and "Try again" in button
    assert " id=" not in html


def test_without_an_action_it_posts_to_the_page_itself(app):
    html = rendered(app, "'Recompute the results'")
    assert '<form method="post" novalidate>' in html and "action=" not in html


def test_a_secondary_button_with_an_id(app):
    html = rendered(app, "'Download mail-merge file', '/w/1/merge', true, 'mail_merge'")
    assert 'class="govuk-button govuk-button--secondary"' in html
    assert 'id="mail_merge"' in html
