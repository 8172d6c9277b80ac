"""Business operations. They flush; the request or CLI command commits once."""

from __future__ import annotations

from typing import Any

from survey_app.texts import say


class ServiceError(ValueError):
    """A problem a user caused, with a message fit to show them.

    The message is a text, or a :func:`~survey_app.texts.wording` when the problem may be
    stored and read later (a job's error): ``str(exc)`` says it in the reader's language,
    :attr:`stored` keeps it as it was given."""

    @property
    def stored(self) -> Any:
        """The message as given (a wording, or a text), to store and :func:`say` later."""
        return self.args[0] if self.args else ""

    def __str__(self) -> str:
        if self.args and isinstance(self.args[0], dict):
            return say(self.args[0])
        return super().__str__()


#: The largest id a primary key holds (INTEGER: 32 bits on PostgreSQL). A larger number typed
#: into a URL or a query string names nothing, and must not reach a query (SQLite overflows).
MAX_ID = 2**31 - 1


def parse_id(text: str | None) -> int | None:
    """The id written in ``text`` (ASCII digits, 1 to MAX_ID), else ``None``.

    ``str.isdigit`` alone is not enough: it accepts "²" and "٣", which ``int`` refuses or reads."""
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
