"""Background jobs' pages: ``/jobs/<id>`` shows a job's progress and outcome to whoever asked
for it (and to admins), with "Try again" for a failed job; :func:`start_job` is the POST →
redirect → GET step of every page that starts one."""

from survey_app.web.jobs.routes import bp
from survey_app.web.jobs.starting import start_job

__all__ = ["bp", "start_job"]
