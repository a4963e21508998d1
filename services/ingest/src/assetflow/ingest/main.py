"""Composition root of ingest: broker, subscriber, HTTP probes."""

import logging

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka.annotations import KafkaMessage

from assetflow.common import metrics, topics
from assetflow.common.clients import make_kafka_broker
from assetflow.common.consuming import Backoff, raw_batch_decoder, source_records
from assetflow.common.logs import configure_logging
from assetflow.common.producer import BrokerProducer
from assetflow.ingest.pipeline import SERVICE, ingest_batch
from assetflow.ingest.settings import IngestSettings

log = logging.getLogger(__name__)


def create_app(settings: IngestSettings | None = None) -> AsgiFastStream:
    """Build the ingest application; nothing connects until it starts."""
    settings = settings or IngestSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker)
    backoff = Backoff()

    @broker.subscriber(
        topics.MINIO_EVENTS,
        group_id=settings.kafka.group_id(SERVICE),
        batch=True,
        max_records=settings.ingest.batch_max_records,
        batch_timeout_ms=settings.ingest.batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_batch_decoder,
    )
    async def on_minio_events(bodies: list[bytes], msg: KafkaMessage) -> None:
        """Normalise a batch; offsets are committed only after every output is in Kafka."""
        records = source_records(msg)
        metrics.CONSUMED.labels(SERVICE, topics.MINIO_EVENTS).inc(len(records))
        metrics.BATCH_SIZE.labels(SERVICE).observe(len(records))
        try:
            await ingest_batch(records, producer)
        except Exception:
            log.exception("batch failed; it will be redelivered", extra={"size": len(records)})
            metrics.BATCH_RETRIES.labels(SERVICE).inc()
            await backoff.failed()
            raise
        backoff.succeeded()

    return AsgiFastStream(
        broker,
        asgi_routes=[
            ("/metrics", metrics.metrics_asgi_app()),  # type: ignore[list-item]
            ("/healthz", make_ping_asgi(broker, timeout=5.0)),
        ],
    )
