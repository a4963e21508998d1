"""Share-link secrets: link tokens (stored as hashes), link passwords, unlocked sessions.

- A link token is 32 random bytes (``secrets.token_urlsafe``); only its sha256 is stored. A
  fast hash is enough for 256 bits of entropy (nothing to brute-force) and lets a request be
  looked up by it in one indexed read.
- A password is stored as scrypt (RFC 7914 via ``hashlib``: salted, memory-hard), never as is.
- An unlocked session is ``<share id>.<expiry>.<HMAC>``: bound to one link and short-lived;
  the link itself (revoked, expired) is still checked on every request.
"""

import base64
import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Final

from assetflow.contracts.errors import UnauthenticatedError

TOKEN_BYTES: Final = 32
MIN_EXPIRY: Final = timedelta(minutes=1)
MAX_EXPIRY: Final = timedelta(days=90)
# scrypt cost: n=2**14, r=8 takes 16 MiB and ~40 ms here; OWASP's minimum for scrypt.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_SESSION_LABEL = b"assetflow share session\n"


class ShareLockedError(UnauthenticatedError):
    """A link with a password, and no valid unlocked session (or a wrong password): 401."""

    challenge: Final = 'Share-Password realm="assetflow"'


def new_token() -> str:
    """A new link token (43 URL-safe characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored and looked up for a token: its sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def expiry(now: datetime, expires_in_s: int | None, expires_at: datetime | None) -> datetime:
    """When a new link expires: exactly one of the two, within [1 minute, 90 days] of now."""
    if expires_in_s is not None and expires_at is None:
        at = now + timedelta(seconds=expires_in_s)
    elif expires_at is not None and expires_in_s is None:
        at = expires_at
    else:
        raise ValueError("give expires_in_s or expires_at (one of them)")
    if at.tzinfo is None:
        raise ValueError("expires_at needs a time zone")
    if not MIN_EXPIRY <= at - now <= MAX_EXPIRY:
        raise ValueError("a share link expires between 1 minute and 90 days from now")
    return at.astimezone(UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``: what is stored for a link's password."""
    salt = secrets.token_bytes(16)
    derived = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(derived)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant-time compare)."""
    try:
        scheme, n, r, p, salt, derived = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(derived))


class SessionSigner:
    """Signs and checks unlocked-share sessions with the API's share secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, share_id: str, expires: int) -> str:
        message = _SESSION_LABEL + f"{share_id}\n{expires}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def issue(self, share_id: str, expires_at: datetime) -> str:
        """A session for ``share_id`` valid until ``expires_at`` (whole seconds)."""
        expires = int(expires_at.timestamp())
        return f"{share_id}.{expires}.{self._mac(share_id, expires)}"

    def valid(self, session: str | None, share_id: str, now: float | None = None) -> bool:
        """Whether ``session`` was issued here for ``share_id`` and has not expired."""
        if not session:
            return False
        parts = session.split(".")
        if len(parts) != 3 or parts[0] != share_id or not parts[1].isdigit():
            return False
        expires = int(parts[1])
        expected = self._mac(share_id, expires).encode()
        if not hmac.compare_digest(parts[2].encode(), expected):
            return False
        return (time.time() if now is None else now) < expires
