"""Composition root of the indexer: broker, database, subscriber, HTTP probes."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from faststream import ContextRepo
from faststream.asgi import AsgiFastStream

from assetflow.common import topics
from assetflow.common.clients import make_kafka_broker, make_mongo_client
from assetflow.common.consuming import consumer_app, subscribe_batches
from assetflow.common.dbcompat import detect_profile
from assetflow.common.deadletter import SourceRecord, send_dead_letter
from assetflow.common.decoding import decode_batch
from assetflow.common.layout import IMAGES_COLLECTION
from assetflow.common.logs import configure_logging
from assetflow.common.producer import BrokerProducer
from assetflow.indexer.indexes import ensure_indexes
from assetflow.indexer.observability import (
    BULK_WRITE_SECONDS,
    EVENTS_APPLIED,
    RESULTS_APPLIED,
    STALE_EVENTS,
)
from assetflow.indexer.settings import IndexerSettings
from assetflow.indexer.writes import apply_events, apply_results

SERVICE = "indexer"
log = logging.getLogger(__name__)


def create_app(settings: IndexerSettings | None = None) -> AsgiFastStream:
    """Build the indexer application; nothing connects until it starts."""
    settings = settings or IndexerSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(context: ContextRepo) -> AsyncIterator[None]:
        client = make_mongo_client(settings.mongo)
        collection = client[settings.mongo.db][IMAGES_COLLECTION]
        await ensure_indexes(collection)
        state["images"] = collection
        state["profile"] = await detect_profile(client[settings.mongo.db])
        log.info("database profile", extra={"profile": state["profile"].name})
        try:
            yield
        finally:
            await client.close()

    async def index(records: list[SourceRecord]) -> None:
        batch = decode_batch(records)
        events, results = batch.object_events, batch.results
        for record, reason in batch.rejects:
            await (await send_dead_letter(producer, record, SERVICE, reason))
        with BULK_WRITE_SECONDS.time():
            # Object events first: a result in this batch may answer a create in it.
            outcome = await apply_events(state["images"], events, state["profile"])
            applied, ignored = await apply_results(state["images"], results, state["profile"])
        STALE_EVENTS.inc(outcome.stale)
        EVENTS_APPLIED.inc(len(events))
        RESULTS_APPLIED.labels("applied").inc(applied)
        RESULTS_APPLIED.labels("ignored").inc(ignored)

    subscribe_batches(
        broker,
        service=SERVICE,
        topic=topics.ASSET_OBJECTS,
        group_id=settings.kafka.group_id(SERVICE),
        options=settings.indexer,
        work=index,
    )
    return consumer_app(broker, SERVICE, lifespan)
