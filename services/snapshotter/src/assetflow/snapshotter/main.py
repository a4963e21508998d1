"""Composition root of the snapshotter: broker, clients, the command subscriber, HTTP probes."""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import boto3
from botocore.config import Config
from faststream import AckPolicy, ContextRepo
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaMessage
from pydantic import ValidationError
from pymongo import MongoClient

from assetflow.common import metrics
from assetflow.common.annotating import Annotating, ImportReport
from assetflow.common.clientmetrics import CommandMetrics, instrument_storage
from assetflow.common.clients import (
    make_kafka_broker,
    make_mongo_client,
    make_presigner,
    s3_client_kwargs,
)
from assetflow.common.coco import CocoFile
from assetflow.common.consuming import Backoff, consumer_app, is_transient, raw_decoder
from assetflow.common.deadletter import SourceRecord, send_dead_letter
from assetflow.common.events import AnnotationsChanged
from assetflow.common.logs import configure_logging
from assetflow.common.migrations import migrate
from assetflow.common.producer import BrokerProducer, publish_asset_events
from assetflow.common.snapshots import SnapshotEvent
from assetflow.common.tracing import extract, kafka_headers, tracer
from assetflow.common.zipimport import ImportZip, decode_command
from assetflow.snapshotter.building import FETCH_THREADS, Builder
from assetflow.snapshotter.importing import Importer
from assetflow.snapshotter.originals import Originals
from assetflow.snapshotter.settings import SnapshotterSettings

SERVICE = "snapshotter"
TRACER = tracer(__name__)
log = logging.getLogger(__name__)


class AssetPublisher:
    """Publishes facts on ``assets.objects`` under each object's key, waiting until durable."""

    def __init__(self, producer: BrokerProducer) -> None:
        self._producer = producer

    async def publish(self, messages: Sequence[AnnotationsChanged]) -> None:
        """Send every message; returns once Kafka has all of them."""
        await publish_asset_events(self._producer, SERVICE, messages)


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
        # A build runs in a worker thread with blocking clients (zipfile writes synchronously).
        mongo: MongoClient[dict[str, Any]] = MongoClient(
            settings.mongo.url,
            tz_aware=True,
            serverSelectionTimeoutMS=settings.mongo.timeout_ms,
            event_listeners=[CommandMetrics()],
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

        s3_kwargs = s3_client_kwargs(settings.s3, 8)
        # Every byte already gets a SigV4 payload hash (plain HTTP), MinIO's MD5 and our
        # sha256; botocore's extra CRC32 on each part and GET cost CPU for nothing here.
        s3_kwargs["config"] = s3_kwargs["config"].merge(
            Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
        )
        s3 = boto3.client("s3", **s3_kwargs)
        instrument_storage(s3.meta.events)
        # The fetch threads plus the build thread, which streams large originals itself.
        originals = Originals(
            make_presigner(settings.s3), settings.s3.bucket, connections=FETCH_THREADS + 1
        )
        state["builder"] = Builder(
            db=mongo[settings.mongo.db],
            s3=s3,
            originals=originals,
            bucket=settings.s3.bucket,
            options=settings.snapshotter,
            emit=emit,
        )
        annotating = Annotating(async_client[settings.mongo.db], AssetPublisher(producer))

        def annotate(dataset_id: str, coco: CocoFile) -> ImportReport:
            """The COCO import of the API, run on the event loop from the import thread."""
            work = annotating.import_coco(dataset_id, settings.s3.bucket, coco)
            return asyncio.run_coroutine_threadsafe(work, loop).result()

        state["importer"] = Importer(
            db=mongo[settings.mongo.db], s3=s3, bucket=settings.s3.bucket, annotate=annotate
        )
        try:
            yield
        finally:
            originals.close()
            mongo.close()
            await async_client.close()

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
            command = decode_command(body)
        except ValidationError as exc:
            record = SourceRecord(raw.topic, raw.partition, raw.offset, raw.key, raw.value)  # type: ignore[union-attr]
            reason = f"invalid command: {exc.errors()[0]['msg']}"
            await (await send_dead_letter(producer, record, SERVICE, reason))
            return
        if isinstance(command, ImportZip):
            run, job_id = state["importer"].run, command.import_id
        else:
            run, job_id = state["builder"].run, command.snapshot_id
        # A child of the API request that asked for it (the command carries its context).
        parent = extract(kafka_headers(raw.headers))  # type: ignore[union-attr]
        attributes = {"job.id": job_id, "dataset.id": command.dataset_id, "job.type": command.type}
        try:
            with TRACER.start_as_current_span(command.type, context=parent, attributes=attributes):
                status = await asyncio.to_thread(run, job_id)
        except Exception as exc:
            if not is_transient(exc):
                log.exception("command crashed", extra={"job_id": job_id, "type": command.type})
            metrics.BATCH_RETRIES.labels(SERVICE).inc()
            await backoff.failed()
            raise  # not committed: the command is redelivered and the build restarts
        backoff.succeeded()
        log.info("command done", extra={"job_id": job_id, "status": status})

    return consumer_app(broker, SERVICE, settings.kafka, lifespan)
