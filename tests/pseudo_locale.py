"""A pseudo-translation to find texts a translator never saw (tests/test_languages.py,
tests/test_staff_languages.py): the Welsh catalogue with every text replaced by its English
wrapped in ‹…›, read by the app as its Welsh. Rendered in it, whatever visible text is left
outside the marks — once the page's own data (names, labels, the instrument's wording) is taken
away — is a text nobody marked for translation."""

from __future__ import annotations

import re
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
        if message.id:
            message.string = f"‹{message.id}›"
    folder = tmp_path / "translations" / "cy" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "messages.mo", "wb") as handle:
        write_mo(handle, catalogue)
    return tmp_path / "translations"


@pytest.fixture
def pseudo_welsh(app, tmp_path):
    """The app reading the pseudo-translation as its Welsh (Flask-Babel's cache emptied before
    and after, so that no other test sees it)."""
    settings = app.extensions["babel"]
    cache = settings.instance.domain_instance.cache
    saved = settings.translation_directories
    settings.translation_directories = [str(_pseudo_catalogue(tmp_path))]
    cache.clear()
    yield app
    settings.translation_directories = saved
    cache.clear()


def unmarked(html: str, allowed: set[str]) -> str:
    """The words of ``html`` that are neither marked nor among ``allowed`` (the page's data)."""
    parser = _VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    marked = re.compile(r"‹[^‹›]*›", flags=re.S)  # innermost first: texts nest in texts
    while marked.search(text):
        text = marked.sub(" ", text)
    for data in sorted(allowed, key=len, reverse=True):
        text = text.replace(data, " ")
    return " ".join(re.findall(r"[A-Za-zÀ-ÿŵŷ’']{2,}", text))
