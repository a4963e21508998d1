"""Raw MinIO notification -> ObjectCreated / ObjectRemoved, or a clear reason."""

import json
from datetime import UTC, datetime

import pytest

from assetflow.contracts.errors import InvalidEventError
from assetflow.contracts.events import ObjectCreated, ObjectRemoved, decode_object_event
from assetflow.ingest.notifications import Skipped, translate
from tests.support.minio_events import minio_message, minio_record

T = datetime(2026, 11, 22, 3, 4, 5, 678901, tzinfo=UTC)


def test_put_becomes_object_created_with_decoded_key() -> None:
    raw = minio_message(
        minio_record(
            "cats/images/2024/a b+c ü.jpg", size=42, etag="abc", sequencer="18", event_time=T
        )
    )
    [event] = translate(raw)
    assert isinstance(event, ObjectCreated)
    assert event.key == "cats/images/2024/a b+c ü.jpg"
    assert (event.dataset_id, event.path) == ("cats", "2024/a b+c ü.jpg")
    assert (event.size, event.etag, event.content_type) == (42, "abc", "image/jpeg")
    assert event.sequencer == "18".rjust(32, "0")
    assert event.event_time == datetime(2026, 11, 22, 3, 4, 5, 678000, tzinfo=UTC)


def test_delete_becomes_object_removed() -> None:
    raw = minio_message(minio_record("cats/images/x.png", event_name="s3:ObjectRemoved:Delete"))
    [event] = translate(raw)
    assert isinstance(event, ObjectRemoved) and event.key == "cats/images/x.png"


def test_event_round_trips_through_json() -> None:
    [event] = translate(minio_message(minio_record("cats/images/x.png")))
    assert isinstance(event, ObjectCreated)
    assert decode_object_event(event.model_dump_json()) == event


def test_multiple_records_keep_order() -> None:
    raw = minio_message(
        minio_record("d/images/1.jpg", sequencer="1"), minio_record("d/images/2.jpg", sequencer="2")
    )
    assert [e.key for e in translate(raw) if not isinstance(e, Skipped)] == [
        "d/images/1.jpg",
        "d/images/2.jpg",
    ]


@pytest.mark.parametrize("key", ["cats/labels/a.json", "cats/x.jpg", "readme.txt"])
def test_key_outside_layout_is_skipped(key: str) -> None:
    [result] = translate(minio_message(minio_record(key)))
    assert result == Skipped(reason="outside_layout", key=key)


def test_other_event_types_are_skipped() -> None:
    raw = minio_message(minio_record("d/images/a.jpg", event_name="s3:ObjectAccessed:Get"))
    [result] = translate(raw)
    assert isinstance(result, Skipped) and result.reason == "unhandled_event_type"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe garbage", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[]", "not an S3 notification"),
        (b'{"Records": []}', "Records"),
        (json.dumps({"Records": [{"eventName": "s3:ObjectCreated:Put"}]}).encode(), "eventTime"),
    ],
)
def test_unparseable_messages_raise_with_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidEventError) as info:
        translate(raw)
    assert reason in info.value.reason


def test_bad_sequencer_is_invalid() -> None:
    with pytest.raises(InvalidEventError, match="hexadecimal"):
        translate(minio_message(minio_record("d/images/a.jpg", sequencer="zz")))


def test_empty_object_without_size_is_created_with_size_zero() -> None:
    record = minio_record("d/images/empty.jpg")
    del record["s3"]["object"]["size"]  # MinIO omits a zero size (Go omitempty)
    [event] = translate(minio_message(record))
    assert isinstance(event, ObjectCreated) and event.size == 0


def test_created_without_etag_is_invalid() -> None:
    record = minio_record("d/images/a.jpg")
    del record["s3"]["object"]["eTag"]
    with pytest.raises(InvalidEventError, match="lacks an eTag"):
        translate(minio_message(record))
