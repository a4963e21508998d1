"""The indexer's work on a batch of ``assets.objects`` records: apply them to the read model."""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assetflow.indexer.observability import (
    BULK_WRITE_SECONDS,
    COMMANDS_APPLIED,
    DUPLICATE_COMMANDS,
    EVENTS_APPLIED,
    RESULTS_APPLIED,
    STALE_EVENTS,
)
from assetflow.indexer.store import ImageIndex
from assetflow.indexer.writes import BatchResult
from assetflow.platform import tracing
from assetflow.platform.deadletter import SourceRecord, send_dead_letter
from assetflow.platform.decoding import DecodedBatch, decode_batch
from assetflow.platform.metrics import E2E_LATENCY
from assetflow.platform.producer import Producer
from assetflow.platform.tracing import extract, tracer
from assetflow.readmodel.changes import annotations_changed, publish_changes
from assetflow.readmodel.images import F

SERVICE = "indexer"
TRACER = tracer(__name__)


@dataclass(frozen=True, slots=True)
class Indexer:
    """What the batch logic needs, built once by the composition root."""

    index: ImageIndex
    producer: Producer


async def index_batch(records: Sequence[SourceRecord], ctx: Indexer) -> BatchResult:
    """Apply a batch to the index; returns once the writes and any dead letters are durable.

    Records that are not asset messages are dead-lettered here; an error of the index
    propagates (the consumer edge retries a TransientError and isolates anything else).
    """
    batch = decode_batch(records)
    dead = [
        await send_dead_letter(ctx.producer, record, SERVICE, reason)
        for record, reason in batch.rejects
    ]
    started = time.time_ns()
    with BULK_WRITE_SECONDS.time():
        # One transaction, in offset order: a result may answer a create in the same batch.
        outcome = await ctx.index.apply(batch.object_changes)
    _trace_applied(batch, started)
    # Live views hear of a change only once it is committed; the offsets wait for these too.
    noticed = await _annotation_changes(ctx.index, batch)
    await asyncio.gather(*dead, publish_changes(ctx.producer, SERVICE, outcome.changes + noticed))
    now = datetime.now(UTC)
    for stage, result, since in outcome.started:
        E2E_LATENCY.labels(stage, result).observe(max(0.0, (now - since).total_seconds()))
    STALE_EVENTS.inc(outcome.stale)
    DUPLICATE_COMMANDS.inc(outcome.duplicates)
    EVENTS_APPLIED.inc(len(batch.object_events))
    COMMANDS_APPLIED.inc(len(batch.changes) - len(batch.object_events) - len(batch.results))
    RESULTS_APPLIED.labels("applied").inc(outcome.results_applied)
    RESULTS_APPLIED.labels("ignored").inc(outcome.results_ignored)
    return outcome


async def _annotation_changes(index: ImageIndex, batch: DecodedBatch) -> list[dict[str, Any]]:
    """Annotation writes (the API's, announced on this topic) as changes of live images."""
    latest = {notice.image_id: notice for _, notice in batch.notices}
    if not latest:
        return []
    return [
        change
        for doc in await index.memberships(latest)
        if (change := annotations_changed(doc, latest[doc[F.ID]].changed_at))
    ]


def _trace_applied(batch: DecodedBatch, started_ns: int) -> None:
    """One span per applied message, a child of the span that published it; all of them
    cover the batch's one transaction."""
    if not tracing.enabled():
        return
    for record, change in batch.changes:
        if not tracing.sampled(record.headers):
            continue
        attributes = {"key": change.key, "image.id": change.image_id, "event.type": change.type}
        span = TRACER.start_span(
            "index", context=extract(record.headers), start_time=started_ns, attributes=attributes
        )
        span.end()
