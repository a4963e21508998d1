"""Composition root of the indexer: broker, database, subscriber, HTTP probes."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from faststream import ContextRepo
from faststream.asgi import AsgiFastStream

from assetflow.indexer.backfill import sweep_bucket_forever
from assetflow.indexer.indexing import SERVICE, Indexer, index_batch
from assetflow.indexer.quotas import QuotaReport
from assetflow.indexer.reconcile import check_drift_forever
from assetflow.indexer.settings import IndexerSettings
from assetflow.indexer.store import MongoImageIndex
from assetflow.platform.consuming import WORK_CONTEXT, consumer_app, subscribe_batches
from assetflow.platform.kafka import make_kafka_broker
from assetflow.platform.logs import configure_logging
from assetflow.platform.producer import BrokerProducer, publish_asset_events
from assetflow.readmodel.migrations import migrate
from assetflow.readmodel.mongo import make_mongo_client
from assetflow.storage.clients import make_s3_session, s3_client_kwargs


def create_app(settings: IndexerSettings | None = None) -> AsgiFastStream:
    """Build the indexer application; nothing connects until it starts."""
    settings = settings or IndexerSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker, settings.kafka.topics)

    @asynccontextmanager
    async def lifespan(context: ContextRepo) -> AsyncIterator[None]:
        client = make_mongo_client(settings.mongo)
        tasks: list[asyncio.Task[None]] = []
        try:
            db = client[settings.mongo.db]
            await migrate(db)
            ctx = Indexer(index=MongoImageIndex(db), producer=producer)
            broker.context.set_global(WORK_CONTEXT, ctx)
            interval = settings.indexer.drift_check_interval_s
            tasks.append(asyncio.create_task(check_drift_forever(db, interval)))
            report = QuotaReport().refresh_forever(db, settings.indexer.quota_report_interval_s)
            tasks.append(asyncio.create_task(report))
            if (sweep := settings.indexer.sweep_interval_s) > 0:
                session = make_s3_session()

                def open_s3() -> Any:
                    return session.client("s3", **s3_client_kwargs(settings.s3))

                async def publish(events: list[Any]) -> None:
                    await publish_asset_events(producer, SERVICE, events)

                bucket = settings.s3.bucket
                tasks.append(
                    asyncio.create_task(sweep_bucket_forever(db, open_s3, bucket, publish, sweep))
                )
            yield
        finally:
            for task in tasks:
                task.cancel()
            await client.close()

    subscribe_batches(
        broker,
        service=SERVICE,
        topic=settings.kafka.topics.asset_objects,
        group_id=settings.kafka.group_id(SERVICE),
        options=settings.indexer,
        work=index_batch,
        producer=producer,
    )
    return consumer_app(broker, SERVICE, settings.kafka, lifespan)
