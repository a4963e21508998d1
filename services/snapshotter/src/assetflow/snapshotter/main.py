"""Composition root of the snapshotter: broker, clients, the command subscriber, HTTP probes."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import boto3
from botocore.config import Config
from faststream import ContextRepo
from faststream.asgi import AsgiFastStream

from assetflow.domain.annotating import Annotating
from assetflow.platform.consuming import (
    WORK_CONTEXT,
    ConsumerOptions,
    consumer_app,
    subscribe_batches,
)
from assetflow.platform.kafka import make_kafka_broker
from assetflow.platform.logs import configure_logging
from assetflow.platform.producer import BrokerProducer
from assetflow.platform.settings import S3Settings
from assetflow.readmodel.migrations import migrate
from assetflow.readmodel.mongo import make_mongo_client, make_sync_mongo_client
from assetflow.snapshotter.bridge import AssetPublisher, ShapesImport, SnapshotEvents
from assetflow.snapshotter.building import FETCH_THREADS, Builder
from assetflow.snapshotter.handling import SERVICE, SnapshotterContext, handle_batch
from assetflow.snapshotter.importing import Importer
from assetflow.snapshotter.originals import Originals
from assetflow.snapshotter.settings import SnapshotterSettings
from assetflow.snapshotter.store import MongoImportStore, MongoSnapshotStore
from assetflow.storage.clients import make_presigner, s3_client_kwargs
from assetflow.storage.timing import instrument_storage

# One command at a time: a job may take hours, and the next command of its partition waits.
COMMANDS = ConsumerOptions(batch_max_records=1)


def create_app(settings: SnapshotterSettings | None = None) -> AsgiFastStream:
    """Build the snapshotter; nothing connects until it starts."""
    settings = settings or SnapshotterSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker, settings.kafka.topics)

    @asynccontextmanager
    async def lifespan(context: ContextRepo) -> AsyncIterator[None]:
        async_client = make_mongo_client(settings.mongo)
        await migrate(async_client[settings.mongo.db])
        # Jobs run in a worker thread with blocking clients (zipfile writes synchronously).
        mongo = make_sync_mongo_client(settings.mongo)
        db = mongo[settings.mongo.db]
        s3 = _blocking_s3(settings.s3)
        # The fetch threads plus the build thread, which streams large originals itself.
        originals = Originals(
            make_presigner(settings.s3), settings.s3.bucket, connections=FETCH_THREADS + 1
        )
        loop = asyncio.get_running_loop()
        events = SnapshotEvents(producer, loop)
        annotating = Annotating(async_client[settings.mongo.db], AssetPublisher(producer))
        ctx = SnapshotterContext(
            builds=Builder(
                store=MongoSnapshotStore(db),
                storage=s3,
                originals=originals,
                bucket=settings.s3.bucket,
                options=settings.snapshotter,
                emit=events,
            ),
            imports=Importer(
                store=MongoImportStore(db),
                storage=s3,
                bucket=settings.s3.bucket,
                annotate=ShapesImport(annotating, settings.s3.bucket, loop),
                progress_interval_s=settings.snapshotter.progress_interval_s,
                announce=events,
            ),
            producer=producer,
        )
        broker.context.set_global(WORK_CONTEXT, ctx)
        try:
            yield
        finally:
            originals.close()
            mongo.close()
            await async_client.close()

    subscribe_batches(
        broker,
        service=SERVICE,
        topic=settings.kafka.topics.commands,
        group_id=settings.kafka.group_id(SERVICE),
        options=COMMANDS,
        work=handle_batch,
        producer=producer,
        # A build may take long: the command stays uncommitted (and assigned) meanwhile.
        max_poll_interval_ms=settings.snapshotter.max_build_s * 1000,
    )
    return consumer_app(broker, SERVICE, settings.kafka, lifespan)


def _blocking_s3(settings: S3Settings) -> Any:
    """boto3's S3 client (requests timed), for the jobs' worker threads."""
    kwargs = s3_client_kwargs(settings, 8)
    # Every byte already gets a SigV4 payload hash (plain HTTP), MinIO's MD5 and our
    # sha256; botocore's extra CRC32 on each part and GET cost CPU for nothing here.
    kwargs["config"] = kwargs["config"].merge(
        Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
    )
    s3 = boto3.client("s3", **kwargs)
    instrument_storage(s3.meta.events)
    return s3
