"""WSGI entry point: ``gunicorn wsgi:app``."""

from survey_app import create_app
from survey_app.services.accounts.sign_in import dummy_password_hash

app = create_app()
# The sign-in's dummy hash is made now, not during someone's first sign-in. Only here, where
# pages are served: scrypt's 32 MB would raise the peak memory of every command and job
# worker (a large download is prepared by a job; benchmarks/README.md, *Export*).
dummy_password_hash()
