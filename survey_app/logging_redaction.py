"""What logs may say about respondents: no survey token, no size, no time finer than the hour.

A survey token in a logged path would let whoever reads the logs open the respondent's
survey; the byte size of a respondent's page (``/survey/check`` lists their answers) and the
second it was served would let them match a logged request to a stored response. So every
log line about a respondent route (``/s/...`` and ``/survey...``) is rewritten by
:class:`RedactSurveyTokens`: tokens become ``[redacted]``, sizes and durations ``-``, and
times (the line's own and the record's) fall back to the start of their hour. The filter sits
on the werkzeug and gunicorn loggers and on Flask's handler, so the app's own messages
during a respondent's request are timed the same way.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import has_request_context, request

_TOKEN_PATH = re.compile(r"/s/[A-Za-z0-9_\-]+")
#: A request line or path of a respondent route.
_RESPONDENT = re.compile(r"(?:^|\s)/(?:s/|survey(?:[/?\s]|$))")
#: gunicorn's ``%(t)s`` ([03/Dec/2026:07:41:09 +0000]) and werkzeug's ([03/Dec/2026 07:41:09]).
_CLOCK = re.compile(r"(\[\d\d/\w{3}/\d{4}[: ]\d\d):\d\d:\d\d")
#: gunicorn atoms that measure the response: sizes and durations.
_MEASURES = ("b", "B", "D", "T", "M", "L", "{content-length}o")
HOUR = 3600


def redact(text: str) -> str:
    """Replace the token in every ``/s/<token>`` path with ``[redacted]``."""
    return _TOKEN_PATH.sub("/s/[redacted]", text)


def is_respondent_route(text: str) -> bool:
    """Whether a path or request line (``GET /survey/check HTTP/1.1``) is a respondent's."""
    return bool(_RESPONDENT.search(text))


def to_the_hour(text: str) -> str:
    """Every logged clock in ``text`` with its minutes and seconds set to zero."""
    return _CLOCK.sub(r"\1:00:00", text)


class RedactSurveyTokens(logging.Filter):
    """Tokens out of every record; sizes, durations and fine times out of respondents' ones."""

    def filter(self, record: logging.LogRecord) -> bool:
        respondent = has_request_context() and is_respondent_route(request.path)
        if isinstance(record.args, dict):  # gunicorn's access log passes a dict of atoms
            record.args = _access_atoms(record.args)
            respondent = respondent or is_respondent_route(str(record.args.get("r", "")))
        elif record.args:
            args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
            if len(args) == 3 and is_respondent_route(str(args[0])):  # werkzeug: line, code, size
                args, respondent = (args[0], args[1], "-"), True
            record.args = args
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
            if respondent:
                record.msg = to_the_hour(record.msg)
        if respondent:
            record.created -= record.created % HOUR
            record.msecs = 0.0
        return True


def _access_atoms(atoms: dict[str, Any]) -> dict[str, Any]:
    """gunicorn's atoms, changed in place (they are gunicorn's ``SafeAtoms``, made per line)."""
    atoms.update({k: redact(v) for k, v in atoms.items() if isinstance(v, str)})
    if is_respondent_route(str(atoms.get("r", ""))):
        atoms.update({k: "-" for k in _MEASURES if k in atoms})
        if isinstance(atoms.get("t"), str):
            atoms["t"] = to_the_hour(atoms["t"])
    return atoms
