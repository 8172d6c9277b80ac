"""A file prepared by a background job (``services/exports/prepared.py``), answered to the
person who asked for it while they still reach its relationship in the job kind's role — a
large download (``/downloads/prepared/<job>``) or a board pack
(``/dashboard/board-packs/<job>``); to anyone else, a 404 as for a file that does not exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from flask import Response, abort, render_template

from survey_app.database import write_transaction
from survey_app.services import exports
from survey_app.web.access import current_scope
from survey_app.web.attachments import attachment
from survey_app.web.submissions import acting_user


def prepared_attachment(job_id: int, *, from_dashboard: bool = False) -> Response | tuple[str, int]:
    """Job ``job_id``'s file as a download, audited (``download`` with the job's id); the
    "cannot be downloaded" page while it is not ready (409) or once it has expired (410),
    leading back to the downloads or (``from_dashboard``, managers') the dashboard."""
    user = acting_user()
    try:
        found = exports.prepared_file(job_id, user)
    except exports.FileUnavailable as exc:
        page = render_template(
            "downloads/prepared_gone.html",
            job_id=job_id,
            status=exc.status,
            from_dashboard=from_dashboard,
        )
        return page, exc.status
    if found is None or not current_scope().allows(found.scope.relationship_id):
        abort(404)
    handle = found.path.open("rb")  # open now: a sweep deleting it meanwhile cannot cut it
    try:
        with write_transaction():  # the reads above saw a snapshot a worker may have passed
            exports.record_download(found, actor=user, job=job_id)
    except BaseException:
        handle.close()
        raise
    return attachment(_read(handle), content_type=found.media_type, filename=found.filename)


def _read(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(1 << 16):
            yield chunk
