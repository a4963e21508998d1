"""Opaque keyset cursors: the last item's (uploaded_at, id), HMAC-signed and bound to a listing."""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from assetflow.contracts.errors import InvalidCursorError

_SIG_BYTES = 16
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the sort key of its last item."""

    uploaded_at: datetime
    id: str

    def to_payload(self) -> list[Any]:
        """``[epoch millis, id]``: what a cursor (or a stored command) carries."""
        millis = (self.uploaded_at - EPOCH) // timedelta(milliseconds=1)
        return [millis, self.id]

    @classmethod
    def from_payload(cls, millis: int, doc_id: str, *_legacy: Any) -> "Position":
        """The inverse of ``to_payload``; raises OverflowError for a time out of range.

        Cursors and stored tag commands from before 2026-12 carry a third item (a window
        width the listing no longer uses): it is ignored, so they keep working.
        """
        return cls(EPOCH + timedelta(milliseconds=millis), doc_id)


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Encodes and verifies cursors; a cursor only works for the listing that issued it."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, scope: str, body: str) -> str:
        mac = hmac.new(self._secret, f"{scope}\n{body}".encode(), hashlib.sha256)
        return _b64e(mac.digest()[:_SIG_BYTES])

    def encode(self, position: Position, scope: str) -> str:
        """Cursor for the page after ``position`` in the listing named by ``scope``."""
        millis, doc_id = position.to_payload()
        return self.encode_key(millis, doc_id, scope)

    def decode(self, cursor: str, scope: str) -> Position:
        """Verify and decode; raises InvalidCursorError for anything not issued here."""
        millis, doc_id = self.decode_key(cursor, scope)
        try:
            return Position.from_payload(millis, doc_id)
        except OverflowError:
            raise InvalidCursorError("cursor time is out of range") from None

    def encode_key(self, number: int, key_id: str, scope: str) -> str:
        """Cursor after the keyset key ``(number, key_id)`` of the listing named ``scope``."""
        body = _b64e(json.dumps([number, key_id], separators=(",", ":")).encode())
        return f"{body}.{self._sign(scope, body)}"

    def decode_key(self, cursor: str, scope: str) -> tuple[int, str]:
        """Verify a cursor and return its ``(number, id)`` key; InvalidCursorError otherwise."""
        body, dot, signature = cursor.partition(".")
        # Bytes, not str: compare_digest refuses a str with non-ASCII characters (a 500 before).
        expected = self._sign(scope, body).encode()
        if not dot or not body or not hmac.compare_digest(signature.encode(), expected):
            raise InvalidCursorError("cursor is malformed, tampered with or for another listing")
        try:
            payload = json.loads(_b64d(body))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise InvalidCursorError(f"cursor payload is unreadable: {exc}") from None
        # A third item: a listing cursor from before 2026-12 (see Position.from_payload).
        if not (isinstance(payload, list) and len(payload) in (2, 3)):
            raise InvalidCursorError("cursor payload has the wrong shape")
        number, key_id = payload[:2]
        if not (isinstance(number, int) and isinstance(key_id, str)):
            raise InvalidCursorError("cursor payload has the wrong shape")
        return number, key_id
