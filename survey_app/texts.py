"""Texts written now and read later, in the reader's language.

`N_` marks a text for translation where it is defined, without translating it there (the
gettext convention, ``gettext_noop``): a constant such as a role level's label is defined once,
in English, at import time; ``pybabel extract`` finds it by this keyword
(``pyproject.toml``/``babel.cfg``), and the page that shows it translates it with
``gettext(label)`` in the reader's language (survey_app/web/languages.py). It is defined in
``analysis._common``, so that the analysis package can mark its fixed words the same way.

A sentence that is *stored* and shown later — a job's progress message, its summary, its
error, a refused file's problems — is stored as a :func:`wording`: the English text, marked
with `N_`, and the values of its placeholders, never the sentence in the language of whoever
happened to start the work (a worker has no reader at all). :func:`say` turns it into the
reader's language when a page (or a command, in English) shows it, so that a job started by an
English user and watched by a Welsh one reads Welsh. A value may itself be a wording (a
phrase translated in its turn).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from analysis._common import N_

__all__ = ["N_", "Wording", "lines", "say", "stored_text", "wording"]

#: A stored sentence: ``{"text": English msgid, "values": {placeholder: value}}`` (JSON), or
#: a message of several lines, ``{"lines": [sentence or text, ...]}`` (see :func:`lines`).
Wording = dict[str, Any]


def wording(text: str, **values: Any) -> Wording:
    """``text`` (an English text marked with `N_`, ``%(name)s`` placeholders) and its values,
    to be stored and shown later with :func:`say`."""
    return {"text": text, "values": values}


def lines(*sentences: Wording | str) -> Wording:
    """A message of several lines (a refused file's outcome, then its problems), each a
    wording or a text, stored as one and said line by line, joined by newlines."""
    return {"lines": list(sentences)}


def say(text: Wording | str | None) -> str:
    """A stored text in the reader's language: a :func:`wording` (or its JSON, as
    :func:`stored_text` writes it in a text column) is translated and filled in; a plain text
    is translated when the catalogue has it (a fixed message marked with `N_`), else shown as
    it is (e.g. an English sentence stored before wordings were); :func:`lines` are said one
    by one."""
    if text is None or text == "":
        return ""
    if isinstance(text, str):
        if text.startswith(('{"text"', '{"lines"')):
            try:
                return say(json.loads(text))
            except ValueError:
                return text
        return gettext(text)  # type: ignore[no-any-return]
    if isinstance(text, Mapping) and isinstance(text.get("lines"), list):
        return "\n".join(say(line) for line in text["lines"])
    if not isinstance(text, Mapping) or not isinstance(text.get("text"), str):
        return str(text)
    values = {
        name: say(value) if isinstance(value, Mapping) else value
        for name, value in dict(text.get("values") or {}).items()
    }
    if not values:
        return gettext(text["text"])  # type: ignore[no-any-return]
    return gettext(text["text"], **values)  # type: ignore[no-any-return]


def stored_text(text: Wording | str | None, limit: int | None = None) -> str | None:
    """``text`` as a text column of ``limit`` characters (None: any length) keeps it: a
    wording as JSON (its longest values shortened until it fits), a plain text cut with "…"."""
    if text is None:
        return None
    if limit is None:
        return text if isinstance(text, str) else json.dumps(text, ensure_ascii=False, default=str)
    if isinstance(text, str):
        return text if len(text) <= limit else text[: limit - 1] + "…"
    encoded = json.dumps(text, ensure_ascii=False, default=str)
    cut = limit
    while len(encoded) > limit and cut > 8:
        cut //= 2
        values = {
            name: value[: cut - 1] + "…" if isinstance(value, str) and len(value) > cut else value
            for name, value in dict(text.get("values") or {}).items()
        }
        encoded = json.dumps({**text, "values": values}, ensure_ascii=False, default=str)
    if len(encoded) > limit:  # too many values to fit: the English sentence, cut
        return stored_text(say(text), limit)
    return encoded
