"""Configuration read from the environment (no secrets in code).

``DATABASE_URL`` selects the database: the default is an SQLite file under the
Flask instance folder; PostgreSQL URLs (``postgresql+psycopg://...``) are the
production choice. ``SECRET_KEY`` signs sessions; without it a random key is
generated per process, which is fine for one laptop process and wrong for
several workers, so ``create_app`` refuses to run without it outside debug.
"""

from __future__ import annotations

import os
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings for a running service; every value can come from the environment."""

    def __init__(self, instance_path: str | Path) -> None:
        default_db = f"sqlite:///{Path(instance_path) / 'relhealth.sqlite3'}"
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("DATABASE_URL", default_db)
        )
        self.SECRET_KEY = os.environ.get("SECRET_KEY")
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        # SQLite waits this long for a lock before giving up (milliseconds).
        self.SQLITE_BUSY_TIMEOUT_MS = _int("SQLITE_BUSY_TIMEOUT_MS", 15000)
        # Where respondents' links point (invitation CSVs, `make run`'s links): where gunicorn
        # serves (GUNICORN_BIND) unless told otherwise.
        bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", f"http://{bind}")
        # The organisation's time zone: wave schedules are entered and shown in it (stored UTC).
        self.TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
        self.SERVICE_NAME = os.environ.get("SERVICE_NAME", "Relationship Health")
        # The name in Welsh, where the organisation gives one (survey_app/web/languages.py).
        self.SERVICE_NAME_CY = os.environ.get("SERVICE_NAME_CY", "")
        # An email to someone whose language is not known is in both: Welsh first when on
        # (services/mailing/messages.py).
        self.WELSH_FIRST = _bool("WELSH_FIRST", False)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        # Signed-in staff: no remember-me cookie is issued; if one ever is, same flags.
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        # A sign-in lasts at most this long, whatever the browser does with the cookie.
        self.SIGN_IN_SESSION_HOURS = _int("SIGN_IN_SESSION_HOURS", 12)
        # Local-password admins must confirm each sign-in with a TOTP code (off only in tests).
        self.ADMIN_SECOND_FACTOR = _bool("ADMIN_SECOND_FACTOR", True)
        # Clock difference tolerated with an organisation's OpenID Provider (exp, iat).
        self.OIDC_CLOCK_LEEWAY_SECONDS = _int("OIDC_CLOCK_LEEWAY_SECONDS", 60)
        # Failed sign-ins counted in the database over a sliding window (several workers):
        # once this many fail for one email address, or from one client address, → 429.
        # A limit of 0 switches that count off (e.g. behind a proxy not in TRUSTED_PROXIES,
        # where every client shares one address).
        self.SIGN_IN_WINDOW_MINUTES = _int("SIGN_IN_WINDOW_MINUTES", 15)
        # How many reverse proxies (load balancer, nginx ...) stand in front of the service and
        # set X-Forwarded-For / X-Forwarded-Proto: their values are then trusted, so that the
        # client address (sign-in limits) and HTTPS (HSTS) are the client's, not the proxy's.
        # 0 (the default): the headers are ignored, as anyone could send them.
        self.TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
        self.SIGN_IN_MAX_FAILURES_PER_EMAIL = _int("SIGN_IN_MAX_FAILURES_PER_EMAIL", 5)
        self.SIGN_IN_MAX_FAILURES_PER_CLIENT = _int("SIGN_IN_MAX_FAILURES_PER_CLIENT", 20)
        self.WTF_CSRF_TIME_LIMIT = None  # a survey page may stay open for hours
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)
        # Confidentiality thresholds (DESIGN §4.14).
        self.MIN_CELL_SIZE = _int("MIN_CELL_SIZE", 5)
        self.MIN_COMMENT_CELL_SIZE = _int("MIN_COMMENT_CELL_SIZE", 10)
        self.INSTRUMENTS_DIR = os.environ.get("INSTRUMENTS_DIR")
        # Invitation email (survey_app.services.mailing). Without SMTP_HOST nothing is sent by
        # email: the admin pages offer the mail-merge CSV instead.
        self.SMTP_HOST = os.environ.get("SMTP_HOST", "")
        self.SMTP_PORT = os.environ.get("SMTP_PORT", "")  # "": 587, or 465 for implicit TLS
        self.SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
        self.SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
        # starttls | tls (implicit TLS) | none; unset: SMTP_STARTTLS (the older on/off setting).
        # Checked when the app starts (survey_app.services.mailing.check_mail_config).
        self.SMTP_SECURITY = os.environ.get("SMTP_SECURITY", "")
        self.SMTP_STARTTLS = _bool("SMTP_STARTTLS", True)
        self.SMTP_CA_FILE = os.environ.get("SMTP_CA_FILE", "")  # PEM CAs to verify the server
        self.SMTP_TIMEOUT_SECONDS = _int("SMTP_TIMEOUT_SECONDS", 30)
        self.MAIL_FROM = os.environ.get("MAIL_FROM", "")
        # A round sends at most this many messages a minute (0: no limit).
        self.MAIL_MAX_PER_MINUTE = _int("MAIL_MAX_PER_MINUTE", 600)
        # Background jobs (survey_app.services.jobs). The queue only wakes workers: an SQLite
        # file in the instance folder, or Redis when REDIS_URL is set (several hosts). Jobs and
        # their state live in the database: a worker holds a job's lease for this long and
        # renews it while it runs; a lease that runs out is taken back and the job resumed.
        self.REDIS_URL = os.environ.get("REDIS_URL", "")
        self.JOB_QUEUE_NAME = os.environ.get("JOB_QUEUE_NAME", "relhealth")
        self.JOB_LEASE_SECONDS = _int("JOB_LEASE_SECONDS", 60)
        # A job whose worker stopped this many times (killed, out of memory ...) fails.
        self.JOB_MAX_ATTEMPTS = _int("JOB_MAX_ATTEMPTS", 3)
        # Run each job in the process that starts it, at once (tests only: no worker needed).
        self.JOB_QUEUE_IMMEDIATE = _bool("JOB_QUEUE_IMMEDIATE", False)
        # Where the import page keeps an upload for its job (services/imports/uploads.py):
        # "" is the instance folder's uploads/; a folder every worker host shares otherwise.
        self.IMPORT_UPLOADS_DIR = os.environ.get("IMPORT_UPLOADS_DIR", "")
        # Large downloads (services/exports/prepared.py): from this many rows a download is
        # prepared by a job (0: never), kept this many hours for its requester, in this folder.
        self.DOWNLOAD_JOB_MIN_ROWS = _int("DOWNLOAD_JOB_MIN_ROWS", 10_000)
        self.PREPARED_DOWNLOAD_HOURS = _int("PREPARED_DOWNLOAD_HOURS", 24)
        self.PREPARED_DOWNLOADS_DIR = os.environ.get("PREPARED_DOWNLOADS_DIR", "")
