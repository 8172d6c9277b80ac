"""Removing survey tokens from anything that gets logged."""

from __future__ import annotations

import re

_TOKEN_PATH = re.compile(r"/s/[A-Za-z0-9_\-]+")


def redact(text: str) -> str:
    """Replace the token in every ``/s/<token>`` path with ``[redacted]``."""
    return _TOKEN_PATH.sub("/s/[redacted]", text)
