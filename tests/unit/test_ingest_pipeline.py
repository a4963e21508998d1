"""ingest_batch routes events, skips and dead letters, and waits for every send."""

import asyncio
from typing import Any

import pytest

from assetflow.contracts import topics
from assetflow.contracts.events import decode_object_event
from assetflow.contracts.topics import Topics
from assetflow.ingest.pipeline import Ingest, ingest_batch
from assetflow.ingest.recent import RecentEvents
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
    task = asyncio.create_task(ingest_batch(batch, Ingest(producer, RecentEvents(100))))
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
    batch = [record(0, minio_message(minio_record("d/images/a.jpg")))]
    task = asyncio.create_task(ingest_batch(batch, Ingest(producer, RecentEvents(100))))
    await asyncio.sleep(0.01)
    producer.futures[0].set_exception(ConnectionError("broker gone"))
    with pytest.raises(ConnectionError):
        await task


async def acknowledged(batch: list[SourceRecord], ctx: Ingest) -> Any:
    """Run ``ingest_batch`` with every send acknowledged at once."""
    task = asyncio.create_task(ingest_batch(batch, ctx))
    while not task.done():
        for future in ctx.producer.futures:  # type: ignore[attr-defined]
            if not future.done():
                future.set_result(None)
        await asyncio.sleep(0)
    return task.result()


@pytest.mark.asyncio
async def test_a_notifications_second_copy_is_dropped() -> None:
    """MinIO's two targets deliver each notification twice: in one batch or the next, the
    second copy publishes nothing; another event of the same object still does."""
    producer = RecordingProducer()
    ctx = Ingest(producer, RecentEvents(100))
    put = minio_message(minio_record("d/images/a.jpg", sequencer="17F0A1B2C3D4E5F6"))
    overwrite = minio_message(
        minio_record("d/images/a.jpg", sequencer="17F0A1B2C3D4E5F7", etag="f" * 32)
    )
    delete = minio_message(
        minio_record(
            "d/images/a.jpg", sequencer="17F0A1B2C3D4E5F7", event_name="s3:ObjectRemoved:Delete"
        )
    )

    first = await acknowledged([record(0, put), record(1, put)], ctx)
    second = await acknowledged([record(2, put), record(3, overwrite), record(4, delete)], ctx)

    assert first == {"ObjectCreated": 1, "skipped_duplicate": 1}
    assert second == {"skipped_duplicate": 1, "ObjectCreated": 1, "ObjectRemoved": 1}
    sent = [decode_object_event(value) for _, value, _, _ in producer.sent]
    assert [(e.type, e.sequencer[-2:]) for e in sent] == [
        ("ObjectCreated", "F6"),
        ("ObjectCreated", "F7"),
        ("ObjectRemoved", "F7"),
    ]


@pytest.mark.asyncio
async def test_a_failed_batch_is_published_again_when_redelivered() -> None:
    """Events are remembered only once Kafka has them: a redelivered batch is not a copy."""
    producer = RecordingProducer()
    ctx = Ingest(producer, RecentEvents(100))
    batch = [record(0, minio_message(minio_record("d/images/a.jpg")))]
    task = asyncio.create_task(ingest_batch(batch, ctx))
    await asyncio.sleep(0.01)
    producer.futures[0].set_exception(ConnectionError("broker gone"))
    with pytest.raises(ConnectionError):
        await task

    assert await acknowledged(batch, ctx) == {"ObjectCreated": 1}
    assert len(producer.sent) == 2


def test_recent_events_forget_the_oldest_beyond_capacity() -> None:
    recent = RecentEvents(2)
    recent.remember([b"a", b"b", b"c"])
    assert (b"a" in recent, b"b" in recent, b"c" in recent, len(recent)) == (False, True, True, 2)
    off = RecentEvents(0)
    off.remember([b"a"])
    assert b"a" not in off
