"""Business operations. They flush; the request or CLI command commits once."""


class ServiceError(ValueError):
    """A problem a user caused, with a message fit to show them."""


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
