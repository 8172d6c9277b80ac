"""`N_`: marks a text for translation where it is defined, without translating it there.

The gettext convention (``gettext_noop``): a constant such as a role level's label is defined
once, in English, at import time; ``pybabel extract`` finds it by this keyword
(``pyproject.toml``/``babel.cfg``), and the page that shows it translates it with
``gettext(label)`` in the reader's language (survey_app/web/languages.py).
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the gettext convention's name
    return text
