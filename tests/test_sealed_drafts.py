"""Sealed drafts (survey_app/services/sealed_drafts.py): what opens them and what does not."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_app.services import sealed_drafts as sd
from survey_app.services.invitations import hash_token, new_token

TOKEN = new_token()
HASH = hash_token(TOKEN)


def hkdf_sha256(secret: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 with the standard library's HMAC (an implementation independent of the one used)."""
    prk = hmac.new(b"\0" * 32, secret, hashlib.sha256).digest()
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
    return okm[:length]


def test_the_wrap_is_aes_gcm_under_hkdf_sha256_of_the_token() -> None:
    key = sd.new_data_key()
    wrapped = sd.wrap_key(key, token=TOKEN, wave_id=7, token_hash=HASH)
    link_key = hkdf_sha256(TOKEN.encode(), b"relationship-health draft key wrap v1")
    opened = AESGCM(link_key).decrypt(wrapped[:12], wrapped[12:], f"wrap|7|{HASH}".encode())
    assert opened == key
    assert sd.unwrap_key(wrapped, token=TOKEN, wave_id=7, token_hash=HASH) == key


@pytest.mark.parametrize(
    "token, wave_id, token_hash",
    [
        (HASH, 7, HASH),  # the stored hash is not the token: it cannot unwrap
        (new_token(), 7, HASH),  # another link's token
        (TOKEN, 8, HASH),  # another wave
        (TOKEN, 7, hash_token(new_token())),  # moved to another link's row
    ],
)
def test_a_wrap_opens_only_with_its_own_token_wave_and_link(
    token: str, wave_id: int, token_hash: str
) -> None:
    wrapped = sd.wrap_key(sd.new_data_key(), token=TOKEN, wave_id=7, token_hash=HASH)
    with pytest.raises(sd.SealBroken):
        sd.unwrap_key(wrapped, token=token, wave_id=wave_id, token_hash=token_hash)


def test_a_draft_opens_only_with_its_key_wave_and_link() -> None:
    key = sd.new_data_key()
    draft = {"about": {"service_area": "core-ict"}, "answers": {"trust_1": 4}, "seen": []}
    sealed = sd.seal(draft, key=key, wave_id=3, token_hash=HASH)
    assert sd.unseal(sealed, key=key, wave_id=3, token_hash=HASH) == draft
    for kwargs in (
        {"key": sd.new_data_key(), "wave_id": 3, "token_hash": HASH},
        {"key": key, "wave_id": 4, "token_hash": HASH},
        {"key": key, "wave_id": 3, "token_hash": hash_token(new_token())},
    ):
        with pytest.raises(sd.SealBroken):
            sd.unseal(sealed, **kwargs)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(sd.SealBroken):
        sd.unseal(tampered, key=key, wave_id=3, token_hash=HASH)
    assert b"core-ict" not in sealed and b"trust" not in sealed


@settings(max_examples=50, deadline=None)
@given(
    answers=st.dictionaries(
        st.from_regex(r"[a-z_]{3,20}[0-9]", fullmatch=True), st.integers(1, 5), max_size=37
    ),
    comment=st.text(max_size=2000),
)
def test_the_sealed_length_is_a_whole_bucket_whatever_was_answered(
    answers: dict[str, int], comment: str
) -> None:
    key = sd.new_data_key()
    draft = {"about": None, "answers": answers, "comments": {"c": comment}, "seen": [1]}
    sealed = sd.seal(draft, key=key, wave_id=1, token_hash=HASH)
    overhead = sd.NONCE_BYTES + 16  # the nonce and GCM's tag
    assert (len(sealed) - overhead) % sd.BUCKET == 0
    assert sd.unseal(sealed, key=key, wave_id=1, token_hash=HASH) == draft


def test_an_empty_draft_and_a_full_survey_seal_to_the_same_length() -> None:
    key = sd.new_data_key()
    empty = {"about": None, "answers": {}, "comments": {}, "seen": []}
    full = {
        "about": {"service_area": "contact-centre", "role_level": "executive"},
        "answers": {f"dimension_item_{n:02d}": 5 for n in range(37)},
        "comments": {"strengths": "x" * 300, "improvements": "y" * 300},
        "seen": [10],
    }
    lengths = {len(sd.seal(d, key=key, wave_id=1, token_hash=HASH)) for d in (empty, full)}
    assert len(lengths) == 1
