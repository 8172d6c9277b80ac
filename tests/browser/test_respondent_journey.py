"""A respondent completes the survey with the keyboard alone, in a real browser.

No mouse and no ``click``: focus moves with Tab, radios are chosen with the arrow keys
and Space, buttons are pressed with Enter. What the keyboard chose is read back from
the page and then found, exactly, in the database.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Comment, Invitation, Response, ServiceArea
from tests.browser.keyboard import enter, focused, tab_to_button, tab_until
from tests.browser.site import Site

pytestmark = pytest.mark.browser

COMMENT = "Plan the next year's projects together, before the contract review."


def options(page, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(
        f'input[type=radio][name="{name}"]', "radios => radios.map(r => r.value)"
    )


def checked(page, name: str) -> str | None:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(
        f'input[type=radio][name="{name}"]',
        "radios => (radios.find(r => r.checked) || {}).value ?? null",
    )


def choose(page, name: str, position: int) -> str:  # type: ignore[no-untyped-def]
    """Choose the ``position``-th (from 1) option of the radio group that has focus,
    as a keyboard user does: Space for the first, the down arrow for the others."""
    element = focused(page)
    assert element["type"] == "radio" and element["name"] == name, element
    assert checked(page, name) is None, f"{name} was already answered"
    if position == 1:
        page.keyboard.press("Space")
    for _ in range(position - 1):
        page.keyboard.press("ArrowDown")
    value = options(page, name)[position - 1]
    assert checked(page, name) == value, (name, position)
    assert focused(page)["value"] == value
    return value


def radio_groups(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The names of the page's radio groups, in page order (what a sighted user reads)."""
    return page.eval_on_selector_all(
        "input[type=radio]", "radios => [...new Set(radios.map(r => r.name))]"
    )


def answer_by_keyboard(page, answers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Answer every radio group on the page: Tab into the first, choose, and Tab moves
    straight on to the next group (one tab stop per group, as radios should be)."""
    for index, name in enumerate(radio_groups(page)):
        if index == 0:
            tab_until(page, f"the question {name}", lambda e, name=name: e["name"] == name)
        else:
            page.keyboard.press("Tab")
            assert focused(page)["name"] == name, f"one Tab should lead from one question to {name}"
        values = options(page, name)
        # Every scale point in turn, and "Don't know" at the first question that offers it.
        first_dont_know = "dk" in values and "dk" not in answers.values()
        position = len(values) if first_dont_know else len(answers) % 5 + 1
        answers[name] = choose(page, name, position)


def test_a_respondent_completes_the_survey_with_the_keyboard_alone(page, console, factory, client):  # type: ignore[no-untyped-def]
    site = Site(factory, client)
    token = site.token("new", side="supplier")
    n_sections = site.n_sections
    answers: dict[str, str] = {}

    page.goto(f"/s/{token}")
    assert page.locator("h1").inner_text() == "Partnership health survey"
    tab_until(page, "the ‘Start now’ button", lambda e: e["text"] == "Start now")
    enter(page)

    assert page.url.endswith("/survey/about")
    answer_by_keyboard(page, answers)
    tab_to_button(page, "Continue")
    enter(page)

    for number in range(1, n_sections):
        assert page.url.endswith(f"/survey/section/{number}"), page.url
        assert page.locator(".app-progress").inner_text() == f"Section {number} of {n_sections}"
        answer_by_keyboard(page, answers)
        tab_to_button(page, "Save and continue")
        enter(page)

    assert page.url.endswith(f"/survey/section/{n_sections}")
    assert page.locator("h1").inner_text() == "Your comments"
    tab_until(page, "the first comment box", lambda e: e["tag"] == "textarea")
    page.keyboard.type(COMMENT)
    tab_to_button(page, "Save and continue")
    enter(page)

    assert page.url.endswith("/survey/check")
    assert page.locator("h1").inner_text() == "Check your answers before submitting"
    assert COMMENT in page.locator("main").inner_text()
    tab_to_button(page, "Submit your answers")
    done = enter(page)

    assert done.status == 200
    assert page.locator("h1").inner_text() == "Survey submitted"
    assert not console.errors(), console.errors()

    about = {"service_area": answers.pop("service_area"), "role_level": answers.pop("role_level")}
    expected = {
        position: None if answers[f"q_{item.key}"] == "dk" else int(answers[f"q_{item.key}"])
        for position, item in enumerate(site_instrument(site).items)
    }
    assert None in expected.values() and set(expected.values()) - {None} == {1, 2, 3, 4, 5}

    db.session.remove()  # read what the server committed, not this session's cache
    (response,) = db.session.scalars(select(Response)).all()
    assert response.side == "supplier"
    area = db.session.get(ServiceArea, response.service_area_id)
    assert area.key == about["service_area"]
    assert response.role_level == about["role_level"]
    stored = {a.item_no: a.value for a in db.session.scalars(select(Answer)).all()}
    assert stored == expected
    assert [(c.question_key, c.text) for c in db.session.scalars(select(Comment))] == [
        ("comment_improve", COMMENT)
    ]
    assert db.session.scalar(select(Invitation.used_on)) is not None


def site_instrument(site: Site):  # type: ignore[no-untyped-def]
    from survey_app.services.instruments import frozen_instrument

    return frozen_instrument(site.wave.instrument_version)


def test_after_an_invalid_submit_the_error_summary_has_focus_and_its_links_lead_to_the_questions(
    page, console, factory, client
):  # type: ignore[no-untyped-def]
    site = Site(factory, client)
    page.goto(f"/s/{site.token('about')}")
    questions = radio_groups(page)
    tab_to_button(page, "Save and continue")
    response = enter(page)

    assert response.status == 400
    assert page.title().startswith("Error: ")
    summary = focused(page)
    assert "govuk-error-summary" in summary["classes"], summary
    assert page.locator(".govuk-error-summary").inner_text().startswith("There is a problem")
    links = page.eval_on_selector_all(
        ".govuk-error-summary__list a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert links == [f"#{name}" for name in questions]

    page.keyboard.press("Tab")
    first_link = focused(page)
    assert first_link["tag"] == "a" and first_link["href"] == f"#{questions[0]}"
    page.keyboard.press("Enter")
    question = focused(page)
    assert question["type"] == "radio" and question["name"] == questions[0], question
    legend = page.locator("legend").first
    assert legend.is_visible() and legend.bounding_box()["y"] >= 0, (
        "the question's legend is in view"
    )

    # From there the question is answered without a mouse.
    page.keyboard.press("Space")
    assert checked(page, questions[0]) == options(page, questions[0])[0]
    assert re.search(r"There is a problem", page.locator("main").inner_text())
    assert not console.errors(), console.errors()
