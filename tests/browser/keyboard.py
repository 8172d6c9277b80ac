"""Moving through a page with the keyboard alone, as the keyboard journeys do: focus moves
with Tab, fields are typed into, options of a select are chosen with the arrow keys, links and
buttons are followed with Enter. No ``click`` and no ``fill``: if Tab cannot reach it, the test
fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def focused(page) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            return {tag: e.tagName.toLowerCase(), type: e.type || null, name: e.name || null,
                    id: e.id, value: e.value ?? null, checked: !!e.checked,
                    href: e.getAttribute('href'), classes: e.className,
                    text: (e.innerText || '').trim()};
        }"""
    )


def tab_until(page, what: str, found: Callable[[dict], bool], limit: int = 80) -> dict:  # type: ignore[no-untyped-def]
    """Press Tab until the focused element is ``found``; fail if it never is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if found(element):
            return element
    raise AssertionError(f"Tab never reached {what} ({limit} presses)")


def tab_to_button(page, text: str) -> None:  # type: ignore[no-untyped-def]
    tab_until(
        page,
        f"the ‘{text}’ button",
        lambda e: e["tag"] in ("button", "input", "a") and text in (e["text"], e["value"]),
    )


def tab_to_link(page, text: str) -> None:  # type: ignore[no-untyped-def]
    tab_until(page, f"the link ‘{text}’", lambda e: e["tag"] == "a" and e["text"] == text)


def tab_to_field(page, label: str) -> None:  # type: ignore[no-untyped-def]
    """Tab to the form control labelled ``label``."""
    target = page.get_by_label(label, exact=True).get_attribute("id")
    tab_until(page, f"the field ‘{label}’", lambda e: e["id"] == target)


def type_into(page, label: str, text: str) -> None:  # type: ignore[no-untyped-def]
    tab_to_field(page, label)
    page.keyboard.type(text)


def select_option(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Tab to the select labelled ``label`` and move down its options to ``option``."""
    tab_to_field(page, label)
    shown = "() => document.activeElement.selectedOptions[0].textContent.trim()"
    for _ in range(30):
        if page.evaluate(shown) == option:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never chose ‘{option}’ in ‘{label}’")


def enter(page):  # type: ignore[no-untyped-def]
    """Press Enter on what has focus and wait for the page it leads to."""
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value
