"""Composition root of the snapshotter: broker, clients, the command subscriber, HTTP probes."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import boto3
from faststream import AckPolicy, ContextRepo
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaMessage
from pydantic import ValidationError
from pymongo import MongoClient

from assetflow.common import metrics
from assetflow.common.clients import make_kafka_broker, make_mongo_client, s3_client_kwargs
from assetflow.common.consuming import Backoff, consumer_app, is_transient, raw_decoder
from assetflow.common.deadletter import SourceRecord, send_dead_letter
from assetflow.common.logs import configure_logging
from assetflow.common.migrations import migrate
from assetflow.common.producer import BrokerProducer
from assetflow.common.snapshots import CreateSnapshot, SnapshotEvent
from assetflow.snapshotter.building import Builder
from assetflow.snapshotter.settings import SnapshotterSettings

SERVICE = "snapshotter"
log = logging.getLogger(__name__)


def create_app(settings: SnapshotterSettings | None = None) -> AsgiFastStream:
    """Build the snapshotter; nothing connects until it starts."""
    settings = settings or SnapshotterSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker, settings.kafka.topics)
    topics = settings.kafka.topics
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(context: ContextRepo) -> AsyncIterator[None]:
        async_client = make_mongo_client(settings.mongo)
        await migrate(async_client[settings.mongo.db])
        await async_client.close()
        # A build runs in a worker thread with blocking clients (zipfile writes synchronously).
        mongo: MongoClient[dict[str, Any]] = MongoClient(
            settings.mongo.url, tz_aware=True, serverSelectionTimeoutMS=settings.mongo.timeout_ms
        )
        loop = asyncio.get_running_loop()

        def emit(event: SnapshotEvent) -> None:
            """Publish from the build thread; returns once Kafka has the event durably."""

            async def send() -> None:
                future = await producer.send(
                    topics.snapshots,
                    event.model_dump_json().encode(),
                    key=event.dataset_id.encode(),
                    headers={"type": event.type},
                )
                await future

            asyncio.run_coroutine_threadsafe(send(), loop).result(timeout=60)

        state["builder"] = Builder(
            db=mongo[settings.mongo.db],
            s3=boto3.client("s3", **s3_client_kwargs(settings.s3, 8)),
            bucket=settings.s3.bucket,
            options=settings.snapshotter,
            emit=emit,
        )
        try:
            yield
        finally:
            mongo.close()

    backoff = Backoff()

    @broker.subscriber(
        topics.commands,
        group_id=settings.kafka.group_id(SERVICE),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_records=1,
        decoder=raw_decoder,
        # A build may take long: the command stays uncommitted (and assigned) meanwhile.
        max_poll_interval_ms=settings.snapshotter.max_build_s * 1000,
    )
    async def on_command(body: bytes, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        metrics.CONSUMED.labels(SERVICE, topics.commands).inc()
        try:
            command = CreateSnapshot.model_validate_json(body)
        except ValidationError as exc:
            record = SourceRecord(raw.topic, raw.partition, raw.offset, raw.key, raw.value)  # type: ignore[union-attr]
            reason = f"invalid snapshot command: {exc.errors()[0]['msg']}"
            await (await send_dead_letter(producer, record, SERVICE, reason))
            return
        try:
            status = await asyncio.to_thread(state["builder"].run, command.snapshot_id)
        except Exception as exc:
            if not is_transient(exc):
                log.exception("snapshot build crashed", extra={"snapshot_id": command.snapshot_id})
            metrics.BATCH_RETRIES.labels(SERVICE).inc()
            await backoff.failed()
            raise  # not committed: the command is redelivered and the build restarts
        backoff.succeeded()
        log.info(
            "snapshot command done", extra={"snapshot_id": command.snapshot_id, "status": status}
        )

    return consumer_app(broker, SERVICE, lifespan)
