"""Composition root of ingest: broker, subscriber, HTTP probes."""

from faststream.asgi import AsgiFastStream

from assetflow.ingest.pipeline import SERVICE, Ingest, ingest_batch
from assetflow.ingest.recent import RecentEvents
from assetflow.ingest.settings import IngestSettings
from assetflow.platform.consuming import WORK_CONTEXT, consumer_app, subscribe_batches
from assetflow.platform.kafka import make_kafka_broker
from assetflow.platform.logs import configure_logging
from assetflow.platform.producer import BrokerProducer


def create_app(settings: IngestSettings | None = None) -> AsgiFastStream:
    """Build the ingest application; nothing connects until it starts."""
    settings = settings or IngestSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker, settings.kafka.topics)
    # Ingest holds no clients of its own: its context is complete before anything connects.
    recent = RecentEvents(settings.ingest.duplicate_window)
    broker.context.set_global(WORK_CONTEXT, Ingest(producer=producer, recent=recent))
    subscribe_batches(
        broker,
        service=SERVICE,
        topic=settings.kafka.topics.minio_events,
        group_id=settings.kafka.group_id(SERVICE),
        options=settings.ingest,
        work=ingest_batch,
        producer=producer,
    )
    return consumer_app(broker, SERVICE, settings.kafka)
