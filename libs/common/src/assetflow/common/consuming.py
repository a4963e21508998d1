"""Batch consumers: at-least-once subscription, raw bodies, retry back-off, metrics."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import BaseModel, Field

from assetflow.common import metrics
from assetflow.common.deadletter import SourceRecord

log = logging.getLogger(__name__)

BatchWork = Callable[[list[SourceRecord]], Awaitable[None]]


class ConsumerOptions(BaseModel):
    """Batch sizing of a consuming service (env ``<SERVICE>_*``)."""

    batch_max_records: int = Field(default=500, ge=1, le=10_000)
    batch_timeout_ms: int = Field(default=100, ge=1)


async def raw_batch_decoder(msg: StreamMessage[Any]) -> Any:
    """Leave message bodies as bytes: parsing (and dead-lettering) is the handler's job."""
    return msg.body


def source_records(msg: KafkaMessage) -> list[SourceRecord]:
    """The consumed records of a batch message, in partition order."""
    raw = msg.raw_message
    records: list[Any] = []
    # aiokafka batches are a tuple of records; FastStream's test broker nests a list in it.
    for item in raw if isinstance(raw, tuple) else (raw,):
        records.extend(item if isinstance(item, list) else [item])
    return [
        SourceRecord(
            topic=r.topic, partition=r.partition, offset=r.offset, key=r.key, value=r.value or b""
        )
        for r in records
    ]


class Backoff:
    """Exponential back-off between redeliveries, so a dependency outage is not a hot loop."""

    def __init__(self, initial: float = 0.2, maximum: float = 10.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def delay(self) -> float:
        """Seconds to wait before the next attempt."""
        return min(self.maximum, self.initial * 2.0 ** max(0, self.failures - 1))

    async def failed(self) -> None:
        """Record a failure and wait before the batch is redelivered."""
        self.failures += 1
        await asyncio.sleep(self.delay())

    def succeeded(self) -> None:
        """Reset after a success."""
        self.failures = 0


def subscribe_batches(
    broker: KafkaBroker,
    *,
    service: str,
    topic: str,
    group_id: str,
    options: ConsumerOptions,
    work: BatchWork,
) -> None:
    """Run ``work`` on each batch; offsets are committed only after it returns.

    FastStream's Kafka default commits before the handler runs (ACK_FIRST); NACK_ON_ERROR
    commits after success and rewinds the batch on an exception, so nothing is lost.
    """
    backoff = Backoff()

    @broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=options.batch_max_records,
        batch_timeout_ms=options.batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_batch_decoder,
    )
    async def on_batch(bodies: list[bytes], msg: KafkaMessage) -> None:
        records = source_records(msg)
        metrics.CONSUMED.labels(service, topic).inc(len(records))
        metrics.BATCH_SIZE.labels(service).observe(len(records))
        try:
            await work(records)
        except Exception:
            log.exception("batch failed; it will be redelivered", extra={"size": len(records)})
            metrics.BATCH_RETRIES.labels(service).inc()
            await backoff.failed()
            raise
        backoff.succeeded()


def consumer_app(broker: KafkaBroker, service: str, lifespan: Any = None) -> AsgiFastStream:
    """The ASGI app of a consuming service: its broker plus ``/metrics`` and ``/healthz``."""
    return AsgiFastStream(
        broker,
        logger=logging.getLogger(f"assetflow.{service}"),
        lifespan=lifespan,
        asgi_routes=[
            ("/metrics", metrics.metrics_asgi_app()),  # type: ignore[list-item]
            ("/healthz", make_ping_asgi(broker, timeout=5.0)),
        ],
    )
