"""A pseudo-translation to find texts a translator never saw (tests/test_languages.py,
tests/test_staff_languages.py,
tests/test_languages_staff.py): the Welsh catalogue with every text replaced by its English
wrapped in ‹…›, read by the app as its Welsh. Rendered in it, whatever visible text is left
outside the marks — once the page's own data (names, labels, the instrument's wording) is taken
away — is a text nobody marked for translation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "survey_app/translations/cy/LC_MESSAGES/messages.po"


def welsh_catalogue():  # type: ignore[no-untyped-def]
    with open(CATALOGUE, "rb") as handle:
        return read_po(handle, locale="cy")


class _VisibleText(HTMLParser):
    """The text a reader sees (and hears): text nodes outside script/style, and alt/labels."""

    SKIP = {"script", "style", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag in self.SKIP:
            self._skipping += 1

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in self.SKIP:
            self._skipping -= 1

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self._skipping:
            self.parts.append(data)


def _pseudo_catalogue(tmp_path: Path) -> Path:
    """A copy of the Welsh catalogue whose every text is its English wrapped in ‹…›."""
    catalogue = welsh_catalogue()
    for message in catalogue:
        if message.pluralizable:  # every Welsh form of a plural: its English plural
            message.string = tuple(f"‹{message.id[1]}›" for _ in message.string)
        elif message.id:
            message.string = f"‹{message.id}›"
    folder = tmp_path / "translations" / "cy" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "messages.mo", "wb") as handle:
        write_mo(handle, catalogue)
    return tmp_path / "translations"


@contextmanager
def pseudo_translation(app, tmp_path: Path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """``app`` reads the pseudo-translation as its Welsh (Flask-Babel's cache emptied before
    and after, so that no other test sees it); for an app of any scope (e.g. ``demo_site``'s)."""
    settings = app.extensions["babel"]
    cache = settings.instance.domain_instance.cache
    saved = settings.translation_directories
    settings.translation_directories = [str(_pseudo_catalogue(tmp_path))]
    cache.clear()
    try:
        yield
    finally:
        settings.translation_directories = saved
        cache.clear()


@pytest.fixture
def pseudo_welsh(app, tmp_path):
    """The app reading the pseudo-translation as its Welsh."""
    with pseudo_translation(app, tmp_path):
        yield app


def unmarked(html: str, allowed: set[str]) -> str:
    """The words of ``html`` that are neither marked nor among ``allowed`` (the page's data)."""
    parser = _VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    while re.search(r"‹[^‹›]*›", text):  # innermost first: a translated text inside another
        text = re.sub(r"‹[^‹›]*›", " ", text, flags=re.S)
    for data in sorted(allowed, key=len, reverse=True):
        text = text.replace(data, " ")
    return " ".join(re.findall(r"[A-Za-zÀ-ÿŵŷ’']{2,}", text))
