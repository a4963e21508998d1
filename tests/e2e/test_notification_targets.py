"""MinIO notifies two Kafka targets of every upload; the pipeline applies and renders it once."""

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from assetflow.contracts.layout import message_key
from tests.e2e.test_pipeline import stats
from tests.support import images
from tests.support.stack import (
    BUCKET,
    KAFKA,
    TEST_GROUP_PREFIX,
    TOPICS,
    ServiceProcess,
    put_object,
    wait_for,
)


def records_of(topic: str, key: bytes, since: float) -> list[Any]:
    """Every record of ``topic`` under ``key`` written since ``since`` (epoch s), in order."""

    async def run() -> list[Any]:
        consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = [TopicPartition(topic, p) for p in range(TOPICS.partitions()[topic])]
            consumer.assign(parts)
            starts = await consumer.offsets_for_times(dict.fromkeys(parts, int(since * 1000)))
            ends = await consumer.end_offsets(parts)
            found = []
            for part in parts:
                if (start := starts[part]) is None:
                    continue
                consumer.seek(part, start.offset)
                while await consumer.position(part) < ends[part]:
                    batch = await consumer.getmany(part, timeout_ms=1000)
                    found += [r for r in batch.get(part, []) if r.key == key]
            return found
        finally:
            await consumer.stop()

    return asyncio.run(run())


def committed(group: str, topic: str, partition: int) -> int:
    """The offset ``group`` has committed on one partition (-1: none)."""

    async def run() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(group)
        finally:
            await admin.close()
        found = offsets.get(TopicPartition(topic, partition))
        return found.offset if found is not None else -1

    return asyncio.run(run())


def test_a_notification_from_both_targets_is_indexed_and_rendered_once(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    """The immediate target's copy and the queued target's (MinIO's next replay, 0-3 s later)
    are the same event: one ObjectCreated, exact counters, one thumbnail."""
    api, ingest = services["api"], services["ingest"]
    key = f"{dataset_id}/images/twice.jpg"
    body = images.scene_jpeg(7, 320, 240)
    kafka_key = message_key(BUCKET, key)
    dropped_before = ingest.metric("assetflow_messages_skipped_total", reason="duplicate")
    since = time.time() - 1
    put_object(s3, key, body)

    def both_copies() -> list[Any] | None:
        found = records_of(TOPICS.minio_events, kafka_key, since)
        return found if len(found) >= 2 else None

    copies = wait_for("both targets' copies of the notification", both_copies, timeout=30)
    assert len(copies) == 2 and copies[0].value == copies[1].value
    assert copies[0].partition == copies[1].partition  # same key: one partition, one consumer
    # Ingest commits only once what it published from both copies is durable.
    wait_for(
        "ingest to commit past both copies",
        lambda: (
            committed(f"{TEST_GROUP_PREFIX}.ingest", TOPICS.minio_events, copies[1].partition)
            > copies[1].offset
        ),
        timeout=30,
        interval=0.5,
    )
    assert ingest.metric("assetflow_messages_skipped_total", reason="duplicate") > dropped_before
    [created] = [
        r
        for r in records_of(TOPICS.asset_objects, kafka_key, since)
        if dict(r.headers)["event-type"] == b"ObjectCreated"
    ]

    wait_for("the image ready", lambda: stats(api, dataset_id)["statuses"]["ready"] == 1)
    wait_for(
        "the thumbnailer to commit past the ObjectCreated",
        lambda: (
            committed(f"{TEST_GROUP_PREFIX}.thumbnailer", TOPICS.asset_objects, created.partition)
            > created.offset
        ),
        timeout=30,
        interval=0.5,
    )
    results = [
        dict(r.headers)["event-type"]
        for r in records_of(TOPICS.asset_objects, kafka_key, since)
        if dict(r.headers)["event-type"].startswith(b"Thumbnails")
    ]
    assert results == [b"ThumbnailsCreated"]  # rendered once
    totals = stats(api, dataset_id)
    assert (totals["image_count"], totals["total_bytes"]) == (1, len(body))
    assert totals["statuses"] == {"pending": 0, "ready": 1, "rejected": 0, "failed": 0}
