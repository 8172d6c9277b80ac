"""gunicorn settings. Access logs go through a filter that removes survey tokens."""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
accesslog = "-"
# No client address and no user agent in access logs: respondents are anonymous. For the
# respondent's routes the app's filter (survey_app/logging_redaction.py) also blanks the
# size and duration and sets the time back to the hour.
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
# Long downloads stream for minutes (a whole-history XLSX); the default 30 s would kill them.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "600"))
