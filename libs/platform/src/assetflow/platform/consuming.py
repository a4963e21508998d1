"""Batch consumers: at-least-once subscription, raw bodies, retry back-off, poison isolation."""

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from aiokafka.errors import KafkaError
from faststream import AckPolicy, Context, ContextRepo
from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import BaseModel, Field

from assetflow.contracts.errors import AssetflowError, InvalidEventError, TransientError
from assetflow.platform import metrics
from assetflow.platform.deadletter import SourceRecord, send_dead_letter
from assetflow.platform.lag import sample_lag_forever
from assetflow.platform.producer import Producer
from assetflow.platform.settings import KafkaSettings
from assetflow.platform.tracing import configure_tracing, kafka_headers

log = logging.getLogger(__name__)

C = TypeVar("C")
BatchWork = Callable[[list[SourceRecord], C], Awaitable[object]]
"""A consumer's logic, `<verb>_batch(records, ctx)`: returns once its output is durable."""

WORK_CONTEXT = "consumer_ctx"
"""FastStream context key under which a service's lifespan puts the typed context of its logic."""
WORK = Context(WORK_CONTEXT)


class ConsumerOptions(BaseModel):
    """Batch sizing of a consuming service (env ``<SERVICE>_*``)."""

    batch_max_records: int = Field(
        default=500, ge=1, le=10_000, description="most records handled as one batch"
    )
    # Not a wait to fill a batch: a poll returns what is already fetched at once. An empty
    # poll is followed by a sleep as long (FastStream), so a record reaching an idle consumer
    # waits up to this long: at 1 upload/s, 100 ms made ingest's and the indexer's p95 ~100 ms
    # each, 10 ms 14-24 ms (bench/latency_bench.py, docs/benchmarks.md).
    batch_timeout_ms: int = Field(
        default=10,
        ge=1,
        description="how long an idle consumer polls, then sleeps, before it polls again",
    )


async def raw_decoder(msg: StreamMessage[Any]) -> Any:
    """Leave message bodies as bytes: parsing (and dead-lettering) is the handler's job."""
    return msg.body


raw_batch_decoder = raw_decoder  # batches: the same, a list of bodies


def source_records(msg: KafkaMessage) -> list[SourceRecord]:
    """The consumed records of a batch message, in partition order."""
    raw = msg.raw_message
    records: list[Any] = []
    # aiokafka batches are a tuple of records; FastStream's test broker nests a list in it.
    for item in raw if isinstance(raw, tuple) else (raw,):
        records.extend(item if isinstance(item, list) else [item])
    return [
        SourceRecord(
            topic=r.topic,
            partition=r.partition,
            offset=r.offset,
            key=r.key,
            value=r.value or b"",
            headers=kafka_headers(r.headers),
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


def is_transient(exc: BaseException) -> bool:
    """Worth redelivering: a dependency is unavailable, not the record itself bad."""
    transient = (TransientError, KafkaError, ConnectionError, TimeoutError, *_driver_transients())
    return isinstance(exc, transient)


def _driver_transients() -> tuple[type[BaseException], ...]:
    # The database driver's network errors (no primary, timeouts) are transient too. Looked up
    # only if the service loaded the driver: this layer does not depend on it (ingest has no
    # database), and a service that never imported pymongo cannot raise its errors.
    errors = sys.modules.get("pymongo.errors")
    return (errors.ConnectionFailure,) if errors is not None else ()


def failure_reason(exc: BaseException) -> str:
    """What goes in ``x-dlq-reason``: our own errors say it themselves, others by type."""
    if isinstance(exc, InvalidEventError):
        return exc.reason
    return f"{type(exc).__name__}: {exc}"


async def isolate_failures(
    records: list[SourceRecord],
    run: Callable[[list[SourceRecord]], Awaitable[object]],
    dead_letter: Callable[[SourceRecord, str], Awaitable[None]],
    service: str = "",
) -> int:
    """Run the batch; on a permanent error split it until the bad records are found.

    The good records are applied (the logic is idempotent, so running some of them twice
    while halving is harmless) and each bad one is dead-lettered with its reason, so a
    poison message never stalls its partition. A transient error propagates: the whole
    batch is redelivered after a back-off. Returns how many records were dead-lettered.
    """
    try:
        await run(records)
        return 0
    except Exception as exc:
        if is_transient(exc):
            raise
        if len(records) == 1:
            reason = failure_reason(exc)
            log.warning(
                "dead-lettering a record its consumer cannot process",
                exc_info=not isinstance(exc, AssetflowError),
                extra={
                    "reason": reason,
                    "partition": records[0].partition,
                    "offset": records[0].offset,
                },
            )
            await dead_letter(records[0], reason)
            return 1
        metrics.BATCH_SPLITS.labels(service).inc()
    middle = len(records) // 2
    first = await isolate_failures(records[:middle], run, dead_letter, service)
    return first + await isolate_failures(records[middle:], run, dead_letter, service)


def subscribe_batches(
    broker: KafkaBroker,
    *,
    service: str,
    topic: str,
    group_id: str,
    options: ConsumerOptions,
    work: BatchWork[C],
    producer: Producer,
    max_poll_interval_ms: int = 300_000,
) -> None:
    """Run ``work(records, ctx)`` on each batch; offsets are committed only after it returns.

    ``ctx`` is what the service's lifespan stored under ``WORK_CONTEXT`` in the broker's
    context. FastStream's Kafka default commits before the handler runs (ACK_FIRST);
    NACK_ON_ERROR commits after success and rewinds the batch on an exception, so nothing is
    lost. Transient errors rewind after a back-off; permanent ones dead-letter the records
    that cause them (see ``isolate_failures``). A service whose work is long (a snapshot
    build) raises ``max_poll_interval_ms`` above its longest batch: the group keeps the
    partition assigned meanwhile (heartbeats go on in the background).
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
        max_poll_interval_ms=max_poll_interval_ms,
    )
    async def on_batch(bodies: list[bytes], msg: KafkaMessage, ctx: Any = WORK) -> None:
        records = source_records(msg)
        metrics.CONSUMED.labels(service, topic).inc(len(records))
        metrics.BATCH_SIZE.labels(service).observe(len(records))
        dead: list[asyncio.Future[Any]] = []

        async def dead_letter(record: SourceRecord, reason: str) -> None:
            dead.append(await send_dead_letter(producer, record, service, reason))

        try:
            await isolate_failures(records, lambda part: work(part, ctx), dead_letter, service)
            # Offsets are committed after this returns: dead letters must be durable too.
            await asyncio.gather(*dead)
        except Exception:
            log.exception("batch failed; it will be redelivered", extra={"size": len(records)})
            metrics.BATCH_RETRIES.labels(service).inc()
            await backoff.failed()
            raise
        backoff.succeeded()


def consumer_app(
    broker: KafkaBroker, service: str, kafka: KafkaSettings, lifespan: Any = None
) -> AsgiFastStream:
    """The ASGI app of a consuming service: its broker plus ``/metrics`` and ``/healthz``; it
    also samples every group's consumer lag while it runs."""
    metrics.set_build_info(service)
    configure_tracing(service, consumer=True)
    # Zero series from the start: a panel or alert on retries sees 0, not "no data".
    metrics.BATCH_RETRIES.labels(service)
    metrics.BATCH_SPLITS.labels(service)

    @asynccontextmanager
    async def with_lag(
        context: ContextRepo,
    ) -> AsyncIterator[None]:  # FastStream injects it by type
        sampler = asyncio.create_task(sample_lag_forever(kafka))
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(context):
                    yield
        finally:
            sampler.cancel()

    return AsgiFastStream(
        broker,
        logger=logging.getLogger(f"assetflow.{service}"),
        lifespan=with_lag,
        asgi_routes=[
            ("/metrics", metrics.metrics_asgi_app()),  # type: ignore[list-item]
            ("/healthz", make_ping_asgi(broker, timeout=5.0)),
        ],
    )
