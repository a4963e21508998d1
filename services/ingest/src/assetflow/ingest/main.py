"""Composition root of ingest: broker, subscriber, HTTP probes."""

from faststream.asgi import AsgiFastStream

from assetflow.common import topics
from assetflow.common.clients import make_kafka_broker
from assetflow.common.consuming import consumer_app, subscribe_batches
from assetflow.common.deadletter import SourceRecord
from assetflow.common.logs import configure_logging
from assetflow.common.producer import BrokerProducer
from assetflow.ingest.pipeline import SERVICE, ingest_batch
from assetflow.ingest.settings import IngestSettings


def create_app(settings: IngestSettings | None = None) -> AsgiFastStream:
    """Build the ingest application; nothing connects until it starts."""
    settings = settings or IngestSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker)

    async def normalise(records: list[SourceRecord]) -> None:
        await ingest_batch(records, producer)

    subscribe_batches(
        broker,
        service=SERVICE,
        topic=topics.MINIO_EVENTS,
        group_id=settings.kafka.group_id(SERVICE),
        options=settings.ingest,
        work=normalise,
    )
    return consumer_app(broker, SERVICE)
