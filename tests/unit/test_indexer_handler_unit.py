"""index_batch and the indexer's subscriber on an in-memory index: no broker, no database."""

import asyncio
import json
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from assetflow.contracts import topics
from assetflow.contracts.errors import DatabaseUnavailableError
from assetflow.contracts.events import AnnotationsChanged
from assetflow.contracts.sequencer import normalize_sequencer
from assetflow.contracts.topics import Topics
from assetflow.indexer.indexing import Indexer, index_batch
from assetflow.indexer.main import create_app
from assetflow.platform.consuming import WORK_CONTEXT, isolate_failures, raw_batch_decoder
from assetflow.platform.deadletter import SourceRecord
from assetflow.platform.producer import BrokerProducer
from tests.support.events import T0, created, removed, thumbnails_created
from tests.support.fakes import FakeImageIndex, FakeProducer


def records(*messages: Any) -> list[SourceRecord]:
    """Consumed records of ``messages`` (models, or raw bytes as they came), offsets from 0."""
    return [
        SourceRecord(
            topics.ASSET_OBJECTS,
            0,
            offset,
            None,
            m if isinstance(m, bytes) else m.model_dump_json().encode(),
        )
        for offset, m in enumerate(messages)
    ]


def published_changes(producer: FakeProducer) -> list[tuple[bytes | None, dict[str, Any]]]:
    """(key, ChangeBatch) of every message on the changes topic."""
    return [(sent.key, json.loads(sent.value)) for sent in producer.on(topics.CHANGES)]


@pytest.mark.asyncio
async def test_a_batch_is_applied_and_its_changes_published_before_it_returns() -> None:
    index, producer = FakeImageIndex(), FakeProducer(hold_acks=True)
    a = created("d/images/cats/a.jpg", 10, size=3, tags=["cat"])
    b = created("d/images/b.jpg", 11, size=4)

    task = asyncio.create_task(index_batch(records(a, b), Indexer(index, producer)))
    await asyncio.sleep(0.01)
    assert not task.done(), "must not return before Kafka acknowledged the changes"
    producer.ack_all()
    outcome = await task

    assert (outcome.written, outcome.stale, outcome.results_applied) == (2, 0, 0)
    docs = index.live()
    assert set(docs) == {a.key, b.key}
    doc = docs[a.key]
    assert doc["_id"] == a.image_id
    assert (doc["dataset_id"], doc["folder"], doc["file_name"], doc["path"]) == (
        "d",
        "cats",
        "a.jpg",
        "cats/a.jpg",
    )
    assert (doc["size"], doc["etag"], doc["tags"], doc["status"]) == (3, "e3", ["cat"], "pending")
    assert doc["sequencer"] == normalize_sequencer("A")
    [(key, message)] = published_changes(producer)
    assert key == b"d"
    assert (message["type"], message["dataset_id"]) == ("ChangeBatch", "d")
    assert [(c["image_id"], c["change"], c["before"]) for c in message["changes"]] == [
        (a.image_id, "indexed", None),
        (b.image_id, "indexed", None),
    ]
    assert message["changes"][0]["after"] == {
        "folder": "cats",
        "status": "pending",
        "tags": ["cat"],
        "split": None,
    }
    assert producer.dead_letters() == []


@pytest.mark.asyncio
async def test_an_older_or_replayed_event_is_stale_and_changes_nothing() -> None:
    index, producer = FakeImageIndex(), FakeProducer()
    ctx = Indexer(index, producer)
    key = "d/images/a.jpg"
    await index_batch(records(created(key, 10, size=3)), ctx)
    before = {image_id: dict(doc) for image_id, doc in index.images.items()}
    producer.sent.clear()

    late = records(created(key, 9, size=99), removed(key, 10), created(key, 10, size=3))
    outcome = await index_batch(late, ctx)

    assert (outcome.written, outcome.stale) == (0, 3)
    assert index.images == before
    assert producer.sent == []  # nothing changed, so nothing to tell live views


@pytest.mark.asyncio
async def test_a_newer_remove_deletes_and_a_result_for_its_version_is_ignored() -> None:
    index, producer = FakeImageIndex(), FakeProducer()
    ctx = Indexer(index, producer)
    a = created("d/images/a.jpg", 10)
    b = created("d/images/b.jpg", 11, size=7)

    outcome = await index_batch(
        records(a, b, thumbnails_created(b, 400, 300), removed(a.key, 12), thumbnails_created(a)),
        ctx,
    )

    assert (outcome.written, outcome.results_applied, outcome.results_ignored) == (2, 1, 1)
    assert set(index.live()) == {b.key}
    assert index.images[a.image_id]["deleted"] is True
    ready = index.live()[b.key]
    assert (ready["status"], ready["width"], ready["height"]) == ("ready", 400, 300)
    assert ready["renditions"]["thumb"]["key"] == f"d/{b.image_id}/e7/thumb.webp"
    [(_, message)] = published_changes(producer)
    # a was created and removed in one batch: never live, so no change a view could show.
    assert [(c["image_id"], c["change"]) for c in message["changes"]] == [(b.image_id, "indexed")]
    assert message["changes"][0]["after"]["status"] == "ready"


@pytest.mark.asyncio
async def test_an_annotation_notice_becomes_a_change_of_the_live_image_only() -> None:
    index, producer = FakeImageIndex(), FakeProducer()
    ctx = Indexer(index, producer)
    a = created("d/images/a.jpg", 10, tags=["cat"])
    await index_batch(records(a), ctx)
    producer.sent.clear()

    def notice(key: str) -> AnnotationsChanged:
        return AnnotationsChanged(
            bucket="datasets", key=key, dataset_id="d", revision=2, shapes=3, changed_at=T0
        )

    await index_batch(records(notice(a.key), notice("d/images/unknown.jpg")), ctx)

    [(key, message)] = published_changes(producer)
    assert key == b"d"
    [change] = message["changes"]
    seen = {"folder": "", "status": "pending", "tags": ["cat"], "split": None}
    assert change == {
        "version": 1,
        "type": "ImageChanged",
        "image_id": a.image_id,
        "dataset_id": "d",
        "change": "updated",
        "fields": ["annotations"],
        "before": seen,
        "after": seen,
        "applied_at": "2026-11-22T01:00:00.123000Z",
    }


@pytest.mark.asyncio
async def test_a_record_that_is_not_an_asset_message_is_dead_lettered_and_the_rest_applied() -> (
    None
):
    index, producer = FakeImageIndex(), FakeProducer()
    good = created("d/images/a.jpg", 10)

    await index_batch(records(b"{not json", good), Indexer(index, producer))

    assert set(index.live()) == {good.key}
    [(value, headers)] = producer.dead_letters()
    assert value == b"{not json"
    assert headers[topics.DLQ_REASON_HEADER].startswith("invalid asset event: ")
    assert headers[topics.DLQ_SERVICE_HEADER] == "indexer"
    assert headers[topics.DLQ_SOURCE_OFFSET_HEADER] == "0"


@pytest.mark.asyncio
async def test_a_database_outage_propagates_dead_letters_nothing_and_a_redelivery_applies() -> None:
    index, producer = FakeImageIndex(), FakeProducer()
    ctx = Indexer(index, producer)
    batch = records(created("d/images/a.jpg", 10), created("d/images/b.jpg", 11))
    index.fail_with = DatabaseUnavailableError("index write failed: no primary")
    dead: list[tuple[int, str]] = []

    async def dead_letter(record: SourceRecord, reason: str) -> None:
        dead.append((record.offset, reason))

    async def run(part: list[SourceRecord]) -> object:
        return await index_batch(part, ctx)

    with pytest.raises(DatabaseUnavailableError, match="no primary"):
        await isolate_failures(batch, run, dead_letter, "indexer")
    assert (dead, index.images, producer.sent) == ([], {}, [])

    assert await isolate_failures(batch, run, dead_letter, "indexer") == 0  # redelivered
    assert sorted(index.live()) == ["d/images/a.jpg", "d/images/b.jpg"]


@pytest.mark.asyncio
async def test_the_subscriber_dead_letters_a_poison_record_and_indexes_the_rest() -> None:
    """The handler wired as in production, on FastStream's in-memory test broker."""
    app = create_app()
    broker = app.broker
    assert isinstance(broker, KafkaBroker)
    index = FakeImageIndex()
    broker.context.set_global(WORK_CONTEXT, Indexer(index, BrokerProducer(broker, Topics())))
    dead: list[tuple[bytes, dict[str, str]]] = []

    @broker.subscriber(topics.DLQ, decoder=raw_batch_decoder)
    async def dlq(body: bytes, msg: KafkaMessage) -> None:
        dead.append((body, dict(msg.headers)))

    good = [created(f"d/images/{i}.jpg", 10 + i, size=i) for i in range(6)]
    # A valid event whose key is outside the layout: the index refuses it, a permanent error.
    poison = created("d/not-images/x.jpg", 3).model_dump_json().encode()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(
            *(e.model_dump_json().encode() for e in good[:3]),
            poison,
            b"{not json",
            *(e.model_dump_json().encode() for e in good[3:]),
            removed("d/images/0.jpg", 99).model_dump_json().encode(),
            topic=topics.ASSET_OBJECTS,
        )

    assert {key: doc["size"] for key, doc in index.live().items()} == {
        f"d/images/{i}.jpg": i for i in range(1, 6)
    }
    reasons = {body: headers[topics.DLQ_REASON_HEADER] for body, headers in dead}
    # At-least-once: halving may send a dead letter twice, never none and never a good one.
    assert set(reasons) == {poison, b"{not json"}
    assert reasons[poison] == "key outside the dataset layout: 'd/not-images/x.jpg'"
    assert reasons[b"{not json"].startswith("invalid asset event: ")
