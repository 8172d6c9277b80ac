"""A file answered as a download: named, and kept by no cache (it may hold results, links or
comments)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response


def attachment(body: bytes | Iterable[bytes], *, content_type: str, filename: str) -> Response:
    """``body`` (bytes, or chunks streamed as they come) as the download ``filename``.

    ``content_type`` is sent as given (a text type names its charset itself: Flask would add
    a second one to a ``text/*`` mimetype).
    """
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
