"""ingest_batch routes events, skips and dead letters, and waits for every send."""

import asyncio
from typing import Any

import pytest

from assetflow.contracts import topics
from assetflow.contracts.events import decode_object_event
from assetflow.contracts.topics import Topics
from assetflow.ingest.pipeline import Ingest, ingest_batch
from assetflow.platform.deadletter import SourceRecord
from tests.support.minio_events import minio_message, minio_record


class RecordingProducer:
    """Collects sends; acknowledgements resolve only when the test says so."""

    topics = Topics()

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, dict[str, str]]] = []
        self.futures: list[asyncio.Future[Any]] = []

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        self.sent.append((topic, value, key, headers))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        return future


def record(offset: int, value: bytes) -> SourceRecord:
    return SourceRecord(
        topic=topics.MINIO_EVENTS, partition=0, offset=offset, key=None, value=value
    )


@pytest.mark.asyncio
async def test_batch_routes_and_waits_for_acks() -> None:
    producer = RecordingProducer()
    batch = [
        record(0, minio_message(minio_record("d/images/a b.jpg"))),
        record(1, b"garbage"),
        record(2, minio_message(minio_record("d/notes.txt"))),
        record(
            3, minio_message(minio_record("d/images/a b.jpg", event_name="s3:ObjectRemoved:Delete"))
        ),
    ]
    task = asyncio.create_task(ingest_batch(batch, Ingest(producer)))
    await asyncio.sleep(0.01)
    assert not task.done(), "must not return before Kafka acknowledged every send"
    for future in producer.futures:
        future.set_result(None)
    outcomes = await task

    assert outcomes == {
        "ObjectCreated": 1,
        "ObjectRemoved": 1,
        "dead_lettered": 1,
        "skipped_outside_layout": 1,
    }
    assert [s[0] for s in producer.sent] == [topics.ASSET_OBJECTS, topics.DLQ, topics.ASSET_OBJECTS]
    created = decode_object_event(producer.sent[0][1])
    assert producer.sent[0][2] == b"datasets/d/images/a b.jpg" == producer.sent[2][2]
    assert created.key == "d/images/a b.jpg"
    _dlq_topic, dlq_value, _, dlq_headers = producer.sent[1]
    assert dlq_value == b"garbage"
    assert dlq_headers[topics.DLQ_REASON_HEADER].startswith("not JSON")
    assert dlq_headers[topics.DLQ_SOURCE_OFFSET_HEADER] == "1"


@pytest.mark.asyncio
async def test_failed_ack_propagates_so_the_batch_is_redelivered() -> None:
    producer = RecordingProducer()
    task = asyncio.create_task(
        ingest_batch([record(0, minio_message(minio_record("d/images/a.jpg")))], Ingest(producer))
    )
    await asyncio.sleep(0.01)
    producer.futures[0].set_exception(ConnectionError("broker gone"))
    with pytest.raises(ConnectionError):
        await task
