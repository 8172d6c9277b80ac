"""Secrets the service must read back (an organisation's OpenID client secret, a TOTP secret),
stored encrypted: Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key
derived from the app's ``SECRET_KEY`` with HKDF-SHA256 (RFC 5869) and a purpose label, so each
kind of secret has its own key. A database copy without the secret key reveals none of them.
Changing ``SECRET_KEY`` makes them unreadable: set them again (README, *Signing in and access*).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class SecretUnreadable(Exception):
    """The stored secret was not encrypted under this ``SECRET_KEY`` (or was altered)."""


def _fernet(purpose: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"relhealth:{purpose}".encode()
    ).derive(str(current_app.config["SECRET_KEY"]).encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(purpose: str, secret: str) -> str:
    """``secret`` encrypted for storage (a different text each time)."""
    return _fernet(purpose).encrypt(secret.encode()).decode("ascii")


def unseal(purpose: str, sealed: str) -> str:
    """The secret :func:`seal` stored."""
    try:
        return _fernet(purpose).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable(f"the stored {purpose} cannot be read with this SECRET_KEY") from exc
