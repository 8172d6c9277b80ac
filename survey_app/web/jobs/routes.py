"""``/jobs``: a job's progress page (and its JSON for polling), "Try again", and the page that
starts a recompute of a relationship's results.

A job is shown only to the person who asked for it and to admins; to anyone else it does not
exist (404). GET pages never change anything: reloading a progress page starts nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from survey_app.database import write_transaction
from survey_app.dates import gov_uk_date
from survey_app.models import Job
from survey_app.services.jobs import (
    progress_text,
    recompute_key,
    recompute_title,
    retry_job,
    unfinished_job,
    visible_job,
)
from survey_app.texts import N_, say
from survey_app.web.access import requires, signed_in
from survey_app.web.jobs.starting import start_job
from survey_app.web.loading import relationship_or_404
from survey_app.web.submissions import acting_user

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
signed_in(bp)  # and then: only the job's requester, or an admin (visible_job)

#: How often an unfinished job's page asks for its status while updating is on (job.js).
REFRESH_SECONDS = 5


def job_or_404(job_id: int) -> Job:
    job = visible_job(job_id, acting_user())
    if job is None:
        abort(404)
    return job


def when(moment: datetime | None) -> str | None:
    """``3 December 2026 at 14:05:09 UTC`` (the jobs table keeps UTC), in the page's language."""
    if moment is None:
        return None
    return _("%(day)s at %(time)s UTC", day=gov_uk_date(moment), time=moment.strftime("%H:%M:%S"))


def result_link(job: Job) -> dict[str, str] | None:
    """The outcome's link (``href``, ``text``), when the job's result names a page — and,
    for a link only its requester may use (``requester_only``: a prepared download), only
    when they are the one looking."""
    link = (job.result or {}).get("link")
    if not isinstance(link, dict):
        return None
    if link.get("requester_only") and job.requested_by_id != acting_user().id:
        return None
    try:
        href = url_for(str(link.get("endpoint")), **dict(link.get("values") or {}))
    except (BuildError, TypeError, ValueError):
        return None
    return {"href": href, "text": say(link.get("text") or N_("See the outcome"))}


def progress(job: Job) -> str | None:
    return progress_text(job.kind, job.progress_done, job.progress_total)


@bp.get("/<int:job_id>")
def show(job_id: int) -> str:
    job = job_or_404(job_id)
    return render_template(
        "jobs/show.html",
        job=job,
        refresh_seconds=REFRESH_SECONDS,
        progress=progress(job),
        link=result_link(job),
        when=when,
    )


@bp.get("/<int:job_id>.json")
def status(job_id: int) -> dict[str, Any]:
    """The job's state for a script that polls it (and the progress page's job.js)."""
    job = job_or_404(job_id)
    link = result_link(job)
    return {
        "id": job.id,
        "kind": job.kind,
        "title": job.title_text,
        "state": job.state,
        "state_text": _(job.state_text),
        "progress": {
            "done": job.progress_done,
            "total": job.progress_total,
            "message": job.message_text or None,
            "text": progress(job),
        },
        "summary": job.summary_text or None,
        "link": link["href"] if link else None,
        "error": job.error_text or None,
        "attempts": job.attempts,
        "updated_at": (job.updated_at or job.created_at).isoformat() + "Z",
    }


@bp.post("/<int:job_id>/retry")
def retry(job_id: int) -> Response:
    """Queue a failed job again (it resumes from its last checkpoint); for any other job,
    e.g. a second click, only go to its page."""
    job = job_or_404(job_id)
    with write_transaction():
        target = retry_job(job, actor=acting_user()).id
    return redirect(url_for("jobs.show", job_id=target), 303)


@bp.route("/recompute/<int:relationship_id>", methods=["GET", "POST"])
@requires("admin")
def recompute(relationship_id: int) -> Response | str:
    """Rebuild a relationship's stored results in the background (``relhealth recompute``)."""
    relationship = relationship_or_404(relationship_id)
    parameters = {"relationship_id": relationship.id}
    key = recompute_key(relationship.id)  # one at a time, whoever asks
    if request.method == "POST":
        return start_job(
            "results.recompute",
            parameters,
            title=recompute_title(relationship.name),
            relationship=relationship,
            key=key,
        )
    return render_template(
        "jobs/recompute.html", relationship=relationship, running=unfinished_job(key)
    )
