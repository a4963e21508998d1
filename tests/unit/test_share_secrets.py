"""Share-link secrets: token hashing, expiry bounds, link passwords, unlocked sessions."""

import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest

from assetflow.api.schemas.shares import ShareCreate
from assetflow.api.sharing import (
    SessionSigner,
    expiry,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_tokens_are_long_random_and_stored_only_as_their_sha256() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(
        len(token) == 43 and token.replace("-", "").replace("_", "").isalnum() for token in tokens
    )
    token = next(iter(tokens))
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in token_hash(token)


@pytest.mark.parametrize(
    ("expires_in_s", "expires_at", "expected"),
    [
        (60, None, NOW + timedelta(minutes=1)),
        (90 * 86400, None, NOW + timedelta(days=90)),
        (None, NOW + timedelta(days=7), NOW + timedelta(days=7)),
        # Any time zone, stored as UTC.
        (None, datetime(2026, 12, 6, 13, 0, tzinfo=UTC).astimezone(), NOW + timedelta(hours=25)),
    ],
)
def test_expiry_within_bounds(
    expires_in_s: int | None, expires_at: datetime | None, expected: datetime
) -> None:
    at = expiry(NOW, expires_in_s, expires_at)
    assert at == expected and at.tzinfo == UTC


@pytest.mark.parametrize(
    ("expires_in_s", "expires_at"),
    [
        (59, None),
        (90 * 86400 + 1, None),
        (None, NOW - timedelta(seconds=1)),
        (None, NOW + timedelta(days=91)),
        (None, datetime(2026, 12, 6)),  # no time zone
        (None, None),  # required
        (3600, NOW + timedelta(hours=1)),  # not both
    ],
)
def test_expiry_out_of_bounds_or_ambiguous_is_refused(
    expires_in_s: int | None, expires_at: datetime | None
) -> None:
    with pytest.raises(ValueError):
        expiry(NOW, expires_in_s, expires_at)


def test_the_request_model_bounds_expiry_and_password() -> None:
    assert ShareCreate.model_validate({"expires_in_s": 3600}).expires_in_s == 3600
    for body in (
        {"expires_in_s": 59},
        {"expires_in_s": 90 * 86400 + 1},
        {"expires_at": "2026-12-06T00:00:00"},  # no time zone
        {"expires_in_s": 3600, "password": "short"},
    ):
        with pytest.raises(ValueError):
            ShareCreate.model_validate(body)
    # Exactly one of the two is the service's rule (400 there; expiry() above).
    assert ShareCreate.model_validate({}).expires_in_s is None


def test_passwords_are_salted_scrypt_and_verify_only_themselves() -> None:
    stored = hash_password("correct horse")
    again = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$") and stored != again  # salted
    assert "correct horse" not in stored
    assert verify_password("correct horse", stored) and verify_password("correct horse", again)
    for wrong in ("correct hors", "Correct horse", "", "correct horse "):
        assert not verify_password(wrong, stored)


@pytest.mark.parametrize("stored", ["", "plain", "bcrypt$1$2$3$4$5", "scrypt$x$8$1$AA$AA"])
def test_a_malformed_stored_hash_verifies_nothing(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_sessions_are_bound_to_their_link_expire_and_resist_tampering() -> None:
    signer = SessionSigner(b"k" * 32)
    until = datetime.fromtimestamp(time.time() + 60, UTC)
    session = signer.issue("share-a", until)
    assert signer.valid(session, "share-a")
    assert not signer.valid(session, "share-b")  # another link's
    assert not signer.valid(None, "share-a") and not signer.valid("", "share-a")
    assert not signer.valid(session, "share-a", now=until.timestamp() + 1)  # expired
    assert not SessionSigner(b"x" * 32).valid(session, "share-a")  # another key
    share_id, expires, mac = session.split(".")
    later = f"{share_id}.{int(expires) + 3600}.{mac}"  # extended by hand
    assert not signer.valid(later, "share-a")
    for broken in (session + "A", session.replace(".", "", 1), f"{share_id}..{mac}"):
        assert not signer.valid(broken, "share-a")
