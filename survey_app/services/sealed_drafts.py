"""Draft answers sealed so that nobody holding the database can read them, or tell their size.

A draft is encrypted with AES-256-GCM under a random **data key** of its own; the wave's id
and the token hash of the link it was saved through are the associated data, so a sealed
draft moved to another row or wave does not open. The plaintext (the draft's JSON) is padded
to a whole number of :data:`BUCKET` bytes first, so the sealed length says nothing about how
far the respondent got or what they wrote (only that comments, if long, filled more buckets).

The data key is stored only **wrapped**: encrypted with AES-256-GCM under a key derived from
the link's token with HKDF-SHA256 (RFC 5869). The server keeps only the token's SHA-256,
from which the wrapping key cannot be derived, so it cannot unwrap: only someone opening
the link can. The unwrapped key then lives in the respondent's signed session cookie alone.

Nonces are 96 random bits, new for each encryption (NIST SP 800-38D §8.2.2).
"""

from __future__ import annotations

import json
import secrets
import struct
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
#: Sealed plaintexts are a whole number of these (a full survey's answers fit in one).
BUCKET = 4096
_WRAP_INFO = b"relationship-health draft key wrap v1"
_LENGTH = struct.Struct(">I")


class SealBroken(Exception):
    """The key, the associated data or the sealed bytes do not match (or were altered)."""


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _associated(wave_id: int, token_hash: str, kind: bytes) -> bytes:
    return b"%s|%d|%s" % (kind, wave_id, token_hash.encode("ascii"))


def _encrypt(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated)


def _decrypt(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
    except (InvalidTag, ValueError) as exc:
        raise SealBroken("the sealed bytes do not open with this key") from exc


def _link_key(token: str) -> bytes:
    """HKDF-SHA256 of the link's token (192 random bits: no stretching needed)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_WRAP_INFO)
    return hkdf.derive(token.encode("utf-8"))


def wrap_key(data_key: bytes, *, token: str, wave_id: int, token_hash: str) -> bytes:
    """The data key encrypted for one link (its token); store it with that link."""
    return _encrypt(_link_key(token), data_key, _associated(wave_id, token_hash, b"wrap"))


def unwrap_key(wrapped: bytes, *, token: str, wave_id: int, token_hash: str) -> bytes:
    """The data key back from a link's wrap: only with the link's token."""
    return _decrypt(_link_key(token), wrapped, _associated(wave_id, token_hash, b"wrap"))


def pad(plaintext: bytes) -> bytes:
    """Length prefix, the bytes, zeros up to the next whole :data:`BUCKET`."""
    body = _LENGTH.pack(len(plaintext)) + plaintext
    return body + bytes(-len(body) % BUCKET)


def unpad(padded: bytes) -> bytes:
    (length,) = _LENGTH.unpack_from(padded)
    return padded[_LENGTH.size : _LENGTH.size + length]


def seal(data: dict[str, Any], *, key: bytes, wave_id: int, token_hash: str) -> bytes:
    """A draft's answers, padded and encrypted under its data key."""
    plaintext = json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return _encrypt(key, pad(plaintext), _associated(wave_id, token_hash, b"draft"))


def unseal(sealed: bytes, *, key: bytes, wave_id: int, token_hash: str) -> dict[str, Any]:
    """The draft's answers; :class:`SealBroken` with the wrong key, wave or link."""
    padded = _decrypt(key, sealed, _associated(wave_id, token_hash, b"draft"))
    return json.loads(unpad(padded))
