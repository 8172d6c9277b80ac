"""Starting a job from a page: POST → redirect → GET, so that reloading never repeats it."""

from __future__ import annotations

from typing import Any

from flask import redirect, url_for
from werkzeug.wrappers import Response

from survey_app.database import write_transaction
from survey_app.models import Relationship
from survey_app.services.jobs import idempotency_key, submit_job
from survey_app.texts import Wording
from survey_app.web.submissions import acting_user


def start_job(
    kind: str,
    parameters: dict[str, Any] | None = None,
    *,
    title: Wording | str | None = None,
    relationship: Relationship | None = None,
    key: str | None = None,
) -> Response:
    """Start a job — or find the unfinished one with the same key — and redirect (303) to its
    progress page. The last step of a POST view: it begins a transaction of its own (anything
    the view left uncommitted is rolled back) and commits it, which wakes a worker.

    ``key`` says which submissions are "the same job"; by default the kind, the parameters,
    the relationship and the signed-in user, so that two clicks of one button start one job.
    Pass a wider key (e.g. ``idempotency_key("wave.close", {"wave_id": 7})``) when one job
    at a time should serve everybody.
    """
    parameters = dict(parameters or {})
    user = acting_user()
    if key is None:
        scope = relationship.id if relationship is not None else None
        key = idempotency_key(kind, parameters, f"user:{user.id}", f"relationship:{scope}")
    with write_transaction():  # serialises two clicks on SQLite; the second finds the first
        job = submit_job(
            kind,
            parameters,
            requested_by=user,
            relationship=relationship,
            key=key,
            title=title,
        )
        job_id = job.id
    return redirect(url_for("jobs.show", job_id=job_id), 303)
