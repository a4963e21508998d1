"""Composition root of the indexer: broker, database, subscriber, HTTP probes."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from faststream import AckPolicy, ContextRepo
from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from assetflow.common import metrics, topics
from assetflow.common.clients import make_kafka_broker, make_mongo_client
from assetflow.common.consuming import Backoff, raw_batch_decoder, source_records
from assetflow.common.dbcompat import detect_profile
from assetflow.common.deadletter import SourceRecord, dead_letter_headers
from assetflow.common.events import ObjectCreated, ObjectRemoved, decode_object_event
from assetflow.common.logs import configure_logging
from assetflow.common.producer import BrokerProducer
from assetflow.indexer.documents import COLLECTION
from assetflow.indexer.indexes import ensure_indexes
from assetflow.indexer.observability import BULK_WRITE_SECONDS, EVENTS_APPLIED, STALE_EVENTS
from assetflow.indexer.settings import IndexerSettings
from assetflow.indexer.writes import apply_events

SERVICE = "indexer"
log = logging.getLogger(__name__)


def create_app(settings: IndexerSettings | None = None) -> AsgiFastStream:
    """Build the indexer application; nothing connects until it starts."""
    settings = settings or IndexerSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker)
    backoff = Backoff()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(context: ContextRepo) -> AsyncIterator[None]:
        client = make_mongo_client(settings.mongo)
        collection = client[settings.mongo.db][COLLECTION]
        await ensure_indexes(collection)
        state["images"] = collection
        state["profile"] = await detect_profile(client[settings.mongo.db])
        log.info("database profile", extra={"profile": state["profile"].name})
        try:
            yield
        finally:
            await client.close()

    @broker.subscriber(
        topics.ASSET_OBJECTS,
        group_id=settings.kafka.group_id(SERVICE),
        batch=True,
        max_records=settings.indexer.batch_max_records,
        batch_timeout_ms=settings.indexer.batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_batch_decoder,
    )
    async def on_object_events(bodies: list[bytes], msg: KafkaMessage) -> None:
        """Index a batch; offsets are committed only after the bulk write succeeded."""
        records = source_records(msg)
        metrics.CONSUMED.labels(SERVICE, topics.ASSET_OBJECTS).inc(len(records))
        metrics.BATCH_SIZE.labels(SERVICE).observe(len(records))
        events, rejects = parse_events(records)
        try:
            for record, reason in rejects:
                await dead_letter(producer, record, reason)
            with BULK_WRITE_SECONDS.time():
                result = await apply_events(state["images"], events, state["profile"])
        except Exception:
            log.exception("batch failed; it will be redelivered", extra={"size": len(records)})
            metrics.BATCH_RETRIES.labels(SERVICE).inc()
            await backoff.failed()
            raise
        backoff.succeeded()
        STALE_EVENTS.inc(result.stale)
        EVENTS_APPLIED.inc(len(events))

    return AsgiFastStream(
        broker,
        lifespan=lifespan,
        asgi_routes=[
            ("/metrics", metrics.metrics_asgi_app()),  # type: ignore[list-item]
            ("/healthz", make_ping_asgi(broker, timeout=5.0)),
        ],
    )


def parse_events(
    records: list[SourceRecord],
) -> tuple[list[ObjectCreated | ObjectRemoved], list[tuple[SourceRecord, str]]]:
    """Split a batch into valid events and (record, reason) rejects."""
    events: list[ObjectCreated | ObjectRemoved] = []
    rejects: list[tuple[SourceRecord, str]] = []
    for record in records:
        try:
            events.append(decode_object_event(record.value))
        except ValidationError as exc:
            rejects.append((record, f"invalid object event: {exc.errors()[0]['msg']}"))
    return events, rejects


async def dead_letter(producer: BrokerProducer, record: SourceRecord, reason: str) -> None:
    """Send one message to the dead-letter topic and wait until Kafka has it."""
    headers = dead_letter_headers(record, SERVICE, reason)
    await (await producer.send(topics.DLQ, record.value, key=record.key, headers=headers))
    metrics.DEAD_LETTERED.labels(SERVICE).inc()
