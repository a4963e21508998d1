"""The ingest step: raw notifications in, object events (or dead letters) out."""

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assetflow.contracts.errors import InvalidEventError
from assetflow.ingest.notifications import Skipped, translate
from assetflow.ingest.recent import RecentEvents, identity
from assetflow.platform import metrics, tracing
from assetflow.platform.deadletter import SourceRecord, send_dead_letter
from assetflow.platform.producer import Producer, send_asset_event
from assetflow.platform.tracing import tracer

SERVICE = "ingest"
TRACER = tracer(__name__)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ingest:
    """What the batch logic needs, built once by the composition root."""

    producer: Producer
    recent: RecentEvents


async def ingest_batch(records: Sequence[SourceRecord], ctx: Ingest) -> Counter[str]:
    """Translate and publish a batch; returns once every output is durable in Kafka."""
    producer = ctx.producer
    outcomes: Counter[str] = Counter()
    pending: list[asyncio.Future[Any]] = []
    published: dict[bytes, None] = {}  # in order, for ctx.recent
    for record in records:
        try:
            results = translate(record.value)
        except InvalidEventError as exc:
            log.warning(
                "dead-lettering message",
                extra={
                    "reason": exc.reason,
                    "partition": record.partition,
                    "offset": record.offset,
                },
            )
            pending.append(await send_dead_letter(producer, record, SERVICE, exc.reason))
            outcomes["dead_lettered"] += 1
            continue
        for result in results:
            if isinstance(result, Skipped):
                metrics.SKIPPED.labels(SERVICE, result.reason).inc()
                outcomes[f"skipped_{result.reason}"] += 1
                continue
            event_identity = identity(result)
            if event_identity in published or event_identity in ctx.recent:
                metrics.SKIPPED.labels(SERVICE, "duplicate").inc()
                outcomes["skipped_duplicate"] += 1
                continue
            published[event_identity] = None
            # The root of the object's trace (a storage notification carries no context), if
            # this object is sampled; the hops after it follow the traceparent's flag.
            if tracing.sample_root():
                attributes = {
                    "bucket": result.bucket,
                    "key": result.key,
                    "sequencer": result.sequencer,
                    "event.type": result.type,
                    "image.id": result.image_id,
                }
                with TRACER.start_as_current_span("ingest", attributes=attributes):
                    pending.append(await send_asset_event(producer, SERVICE, result))
            else:
                pending.append(await send_asset_event(producer, SERVICE, result))
            outcomes[result.type] += 1
    # Offsets are committed after this returns, so every output must be acknowledged first.
    await asyncio.gather(*pending)
    # Only now: a batch that fails is redelivered, and its events must be published then.
    ctx.recent.remember(published)
    return outcomes
