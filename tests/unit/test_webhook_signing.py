"""Delivery signatures: HMAC-SHA256 over '<timestamp>.<body>', as a receiver checks them."""

import hashlib
import hmac

from assetflow.notifier.signing import signature, signed_headers, verify

SECRET = "whsec_test-secret-0123456789"
BODY = b'{"id":"d1","type":"image.ready","dataset_id":"ds","data":{}}'


def test_the_signature_is_the_reference_hmac_of_timestamp_dot_body() -> None:
    reference = hmac.new(SECRET.encode(), b"1767225600." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1767225600, BODY) == f"sha256={reference}"
    # A fixed vector, so a change of the scheme cannot pass by changing both sides.
    assert signature("key", 1, b"{}") == (
        "sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
    )


def test_headers_carry_delivery_event_timestamp_and_signature() -> None:
    headers = signed_headers(SECRET, 1767225600, BODY, "d1", "image.ready")
    assert headers["X-Assetflow-Delivery"] == "d1"
    assert headers["X-Assetflow-Event"] == "image.ready"
    assert headers["X-Assetflow-Timestamp"] == "1767225600"
    assert headers["Content-Type"] == "application/json"
    assert verify(SECRET, headers, BODY)


def test_a_receiver_refuses_another_body_timestamp_or_secret() -> None:
    headers = signed_headers(SECRET, 1767225600, BODY, "d1", "image.ready")
    assert not verify(SECRET, headers, BODY + b" ")
    assert not verify("another-secret-0123456789", headers, BODY)
    # A captured request replayed with a fresh timestamp no longer matches its signature.
    replayed = headers | {"X-Assetflow-Timestamp": "1767229200"}
    assert not verify(SECRET, replayed, BODY)
    assert not verify(SECRET, headers | {"X-Assetflow-Timestamp": "soon"}, BODY)
