"""The API builds item JSON without pydantic; it must be exactly what ImagePublic documents."""

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic_core import to_json

from assetflow.api.schemas.images import ImagePublic, ImagesPage, rfc3339_ms
from assetflow.api.services.items import camera_name, to_public
from assetflow.storage.presign import Presigner

NOW = datetime(2026, 11, 22, 13, 0, 0, tzinfo=UTC)
PRESIGNER = Presigner(endpoint_url="http://s3:9000", access_key="ak", secret_key="sk")


def doc(**fields: Any) -> dict[str, Any]:
    """An image document as the listing query returns it (projection applied)."""
    base: dict[str, Any] = {
        "_id": "3f" * 16,
        "bucket": "datasets",
        "key": "ds/images/sub/IMG 1 (copy).jpg",
        "dataset_id": "ds",
        "path": "sub/IMG 1 (copy).jpg",
        "folder": "sub",
        "file_name": "IMG 1 (copy).jpg",
        "deleted": False,
        "size": 12345,
        "etag": "e1",
        "content_type": "image/jpeg",
        "uploaded_at": datetime(2026, 1, 1, 1, 0, 0, 123999, tzinfo=UTC),
        "status": "pending",
    }
    return base | fields


READY = doc(
    status="ready",
    width=4000,
    height=3000,
    thumbhash="1QcSHQRnh493V4dIh4eXh1h4kJUI",
    source_format="jpeg",
    renditions={
        "bucket": "thumbnails",
        "thumb": {"key": "ds/x/e1/thumb.webp", "width": 256, "height": 192, "size": 9},
        "preview": {"key": "ds/x/e1/preview.jpg", "width": 1280, "height": 960, "size": 99},
    },
    exif={"captured_at": "2024-05-01T12:30:45", "make": "Canon", "model": "Canon EOS R5"},
)
REJECTED = doc(status="rejected", status_reason="not an image", renditions=None, exif=None)


def test_ready_item_has_exact_fields_and_presigned_urls() -> None:
    item = to_public(READY, PRESIGNER.signer(600))
    assert list(item) == list(ImagePublic.model_fields)  # same keys, same order
    assert item["id"] == "3f" * 16
    assert item["uploaded_at"] == "2026-01-01T01:00:00.123Z"
    assert (item["status"], item["status_reason"], item["width"], item["height"]) == (
        "ready",
        None,
        4000,
        3000,
    )
    assert (item["captured_at"], item["camera"]) == ("2024-05-01T12:30:45", "Canon EOS R5")
    assert urlsplit(item["url"]).path == "/datasets/ds/images/sub/IMG%201%20%28copy%29.jpg"
    assert urlsplit(item["thumb_url"]).path == "/thumbnails/ds/x/e1/thumb.webp"
    assert urlsplit(item["preview_url"]).path == "/thumbnails/ds/x/e1/preview.jpg"
    assert "X-Amz-Expires=600&" in item["url"]


def test_pending_and_rejected_items_have_no_renditions() -> None:
    pending = to_public(doc(), PRESIGNER.signer(60))
    assert pending["status"] == "pending"
    assert pending["thumb_url"] is pending["preview_url"] is pending["camera"] is None
    rejected = to_public(REJECTED, PRESIGNER.signer(60))
    assert (rejected["status"], rejected["status_reason"]) == ("rejected", "not an image")
    assert rejected["thumb_url"] is None and rejected["width"] is None
    # A document written before status existed reads as pending.
    assert to_public(doc(status=None), PRESIGNER.signer(60))["status"] == "pending"


@pytest.mark.parametrize("source", [doc(), READY, REJECTED])
def test_item_json_is_what_the_model_would_serialize(source: dict[str, Any]) -> None:
    item = to_public(source, PRESIGNER.signer(3600))
    model = ImagePublic.model_validate(item)  # the documented schema accepts it
    assert model.model_dump(mode="json") == item
    page = {"items": [item], "next_cursor": None}
    assert to_json(page) == ImagesPage.model_validate(page).model_dump_json().encode()


def test_rfc3339_ms_matches_the_strftime_format_it_replaced() -> None:
    rng = random.Random(7)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    for _ in range(2000):
        value = start + timedelta(microseconds=rng.randrange(0, 2**62 // 1000))
        old = value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
        assert rfc3339_ms(value) == old
    assert rfc3339_ms(datetime(2026, 1, 1, 0, 0, 0, 999999)) == "2026-01-01T00:00:00.999Z"
    # Like the code it replaced, the wall time is printed as stored (documents hold UTC).
    plus_one = datetime(2026, 1, 1, 2, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    assert rfc3339_ms(plus_one) == "2026-01-01T02:00:00.000Z"


@pytest.mark.parametrize(
    ("make", "model", "expected"),
    [
        ("Canon", "Canon EOS R5", "Canon EOS R5"),
        ("SONY", "ILCE-7M3", "SONY ILCE-7M3"),
        ("NIKON CORPORATION", "nikon corporation Z 6", "nikon corporation Z 6"),
        (None, "iPhone 15", "iPhone 15"),
        ("Apple", None, "Apple"),
        ("", "", None),
        (None, None, None),
    ],
)
def test_camera_name(make: str | None, model: str | None, expected: str | None) -> None:
    assert camera_name(make, model) == expected
