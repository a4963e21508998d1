"""Delivery signatures: HMAC-SHA256 over the timestamp and the body, as receivers verify them.

``X-Signature-256: sha256=<hex HMAC(secret, "<timestamp>.<body>")>``. The timestamp is signed
with the body (as Stripe and Standard Webhooks do) so a receiver that refuses old timestamps
also refuses a captured request replayed later; ``X-Assetflow-Delivery`` stays the same on
every retry of one delivery, so a receiver can drop the duplicates at-least-once brings.
"""

import hashlib
import hmac
from typing import Final

SIGNATURE: Final = "X-Signature-256"
TIMESTAMP: Final = "X-Assetflow-Timestamp"
DELIVERY: Final = "X-Assetflow-Delivery"
EVENT: Final = "X-Assetflow-Event"
USER_AGENT: Final = "assetflow-webhooks/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Signature-256`` value of a body sent at ``timestamp`` (Unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, timestamp: int, body: bytes, delivery_id: str, event: str
) -> dict[str, str]:
    """Every header a delivery attempt carries."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        DELIVERY: delivery_id,
        EVENT: event,
        TIMESTAMP: str(timestamp),
        SIGNATURE: signature(secret, timestamp, body),
    }


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (constant-time compare); the tests use it as one."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get(TIMESTAMP.lower(), "")
    if not timestamp.isdigit():
        return False
    expected = signature(secret, int(timestamp), body)
    return hmac.compare_digest(expected, lowered.get(SIGNATURE.lower(), ""))
