"""Secrets handed out once (survey links, API tokens, account links, recovery codes) are kept
only as their SHA-256, in hex: the database can match one given back, and never give one out.

Each issuer draws enough random bits from the OS (its ``TOKEN_BYTES``) that a fast unsalted
hash is as safe as a slow one: there is nothing to guess.
"""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """The SHA-256 (hex) of ``token``: the only form of it that is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
