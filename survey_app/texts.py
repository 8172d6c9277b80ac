"""`N_`: marks a text for translation where it is defined, without translating it there.

The gettext convention (``gettext_noop``): a constant such as a role level's label is defined
once, in English, at import time; ``pybabel extract`` finds it by this keyword
(``pyproject.toml``/``babel.cfg``), and the page that shows it translates it with
``gettext(label)`` in the reader's language (survey_app/web/languages.py). It is defined in
``analysis._common``, so that the analysis package can mark its fixed words the same way.
"""

from __future__ import annotations

from analysis._common import N_

__all__ = ["N_"]
