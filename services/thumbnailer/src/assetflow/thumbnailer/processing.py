"""The thumbnailer's work on a batch of object events: fetch, render, store, report.

Every created object ends in exactly one published result (``ThumbnailsCreated`` or
``ThumbnailsFailed``) unless a newer version replaced it, so no image stays ``pending``.
Transient storage errors are retried a bounded number of times; after that the event goes
to the dead-letter topic (for replay) and the image is marked ``failed`` with the reason.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from assetflow.contracts.errors import StorageUnavailableError
from assetflow.contracts.events import (
    ObjectCreated,
    ObjectRemoved,
    Rendition,
    ThumbnailsCreated,
    ThumbnailsFailed,
    latest_per_object,
)
from assetflow.platform import tracing
from assetflow.platform.deadletter import SourceRecord, send_dead_letter
from assetflow.platform.decoding import decode_batch
from assetflow.platform.producer import Producer, send_asset_event
from assetflow.platform.tracing import extract, tracer
from assetflow.thumbnailer.observability import BYTES_READ, DURATION, IMAGES, IN_FLIGHT
from assetflow.thumbnailer.rendering import Encoded, Refused, Rendered, render
from assetflow.thumbnailer.settings import ThumbnailerOptions
from assetflow.thumbnailer.storage import (
    ObjectStorage,
    VersionGoneError,
    discard,
    rendition_key,
    rendition_prefix,
)

SERVICE = "thumbnailer"
TRACER = tracer(__name__)
THUMB_NAME = "thumb.webp"
PREVIEW_NAME = "preview.jpg"
log = logging.getLogger(__name__)
T = TypeVar("T")
Outcome = tuple[str, list["asyncio.Future[Any]"]]


@dataclass(frozen=True, slots=True)
class Thumbnailer:
    """What the batch logic needs, built once by the composition root."""

    storage: ObjectStorage
    producer: Producer
    pool: Executor
    options: ThumbnailerOptions
    thumbnails_bucket: str
    in_flight: asyncio.Semaphore

    async def retrying(self, step: Callable[[], Awaitable[T]]) -> T:
        """Run a storage step, retrying StorageUnavailableError with bounded back-off."""
        attempt = 1
        while True:
            try:
                return await step()
            except StorageUnavailableError as exc:
                if attempt >= self.options.attempts:
                    raise
                delay = min(
                    self.options.retry_max_s, self.options.retry_initial_s * 2 ** (attempt - 1)
                )
                log.warning(
                    "storage step failed; retrying",
                    extra={"attempt": attempt, "delay_s": delay, "error": str(exc)},
                )
                attempt += 1
                await asyncio.sleep(delay)


async def thumbnail_batch(records: Sequence[SourceRecord], ctx: Thumbnailer) -> Counter[str]:
    """Process a batch; returns once every result and dead letter is durable in Kafka."""
    outcomes: Counter[str] = Counter()
    pending: list[asyncio.Future[Any]] = []
    batch = decode_batch(records)
    for record, reason in batch.rejects:
        pending.append(await send_dead_letter(ctx.producer, record, SERVICE, reason))
        outcomes["dead_lettered"] += 1
    # Results and tag commands share the topic; the indexer applies them, not us.
    events = batch.object_events
    origin = {id(event): record for record, event in batch.changes}
    latest = latest_per_object(events)
    outcomes["superseded"] += len(events) - len(latest)
    IMAGES.labels("superseded").inc(len(events) - len(latest))
    # Each object appears once per batch, so jobs can run concurrently without reordering.
    jobs = [handle_event(event, origin[id(event)], ctx) for event in latest.values()]
    for outcome, futures in await asyncio.gather(*jobs):
        outcomes[outcome] += 1
        IMAGES.labels(outcome).inc()
        pending.extend(futures)
    # Offsets are committed after this returns, so every output must be acknowledged first.
    await asyncio.gather(*pending)
    return outcomes


async def handle_event(
    event: ObjectCreated | ObjectRemoved, record: SourceRecord, ctx: Thumbnailer
) -> Outcome:
    """One object event to its outcome and the sends still to be acknowledged."""
    async with ctx.in_flight:
        IN_FLIGHT.inc()
        try:
            if not tracing.sampled(record.headers):  # an untraced object: no span, no orphan root
                return await _handle(event, record, ctx)
            # A child of the span that published the event; the result we publish continues it.
            attributes = {"key": event.key, "image.id": event.image_id, "event.type": event.type}
            parent = extract(record.headers)
            with TRACER.start_as_current_span("thumbnail", context=parent, attributes=attributes):
                return await _handle(event, record, ctx)
        finally:
            IN_FLIGHT.dec()


async def _handle(
    event: ObjectCreated | ObjectRemoved, record: SourceRecord, ctx: Thumbnailer
) -> Outcome:
    try:
        if isinstance(event, ObjectRemoved):
            prefix = rendition_prefix(event.dataset_id, event.image_id)
            await ctx.retrying(lambda: ctx.storage.delete_renditions(ctx.thumbnails_bucket, prefix))
            return "removed", []
        with DURATION.labels("total").time():
            result = await make_thumbnails(event, ctx)
        if result is None:
            return "superseded", []
        outcome = "ready" if isinstance(result, ThumbnailsCreated) else result.status
        return outcome, [await send_asset_event(ctx.producer, SERVICE, result)]
    except StorageUnavailableError as exc:
        return await _give_up(event, record, ctx, exc)


async def _give_up(
    event: ObjectCreated | ObjectRemoved,
    record: SourceRecord,
    ctx: Thumbnailer,
    exc: StorageUnavailableError,
) -> Outcome:
    reason = f"storage unavailable after {ctx.options.attempts} attempts: {exc}"
    log.error("dead-lettering object event", extra={"key": event.key, "reason": reason})
    futures = [await send_dead_letter(ctx.producer, record, SERVICE, reason)]
    if isinstance(event, ObjectCreated):
        failed = _failed(event, "failed", f"{reason} (the event is on the dead-letter topic)")
        futures.append(await send_asset_event(ctx.producer, SERVICE, failed))
    return "dead_lettered", futures


async def make_thumbnails(
    event: ObjectCreated, ctx: Thumbnailer
) -> ThumbnailsCreated | ThumbnailsFailed | None:
    """Fetch, render and store one object version; None if that version is gone already."""
    opts = ctx.options
    if event.size > opts.max_bytes:
        return _failed(
            event, "rejected", f"file is {event.size} bytes, over the limit of {opts.max_bytes}"
        )
    try:
        with DURATION.labels("fetch").time(), tracing.child_span(TRACER, "fetch"):
            original = await ctx.retrying(
                lambda: ctx.storage.get_original(event.bucket, event.key, event.etag)
            )
    except VersionGoneError:
        return None  # deleted or overwritten: the newer event is on its way
    BYTES_READ.inc(original.size)
    try:
        with DURATION.labels("render").time(), tracing.child_span(TRACER, "render"):
            rendered = await asyncio.get_running_loop().run_in_executor(
                ctx.pool, _render_safely, original.source, ctx
            )
    finally:
        discard(original)
    if isinstance(rendered, Refused):
        return _failed(event, rendered.status, rendered.reason)
    with DURATION.labels("store").time(), tracing.child_span(TRACER, "store"):
        return await _store(event, rendered, original.sha256, ctx)


def _render_safely(source: Any, ctx: Thumbnailer) -> Rendered | Refused:
    # An unexpected error must mark the image failed, not rewind the batch forever.
    try:
        return render(source, ctx.options.render_options())
    except Exception as exc:
        log.exception("rendering raised")
        return Refused("failed", f"internal error while rendering: {exc!r}")


async def _store(
    event: ObjectCreated, rendered: Rendered, sha256: str, ctx: Thumbnailer
) -> ThumbnailsCreated:
    bucket = ctx.thumbnails_bucket

    async def put(name: str, encoded: Encoded) -> Rendition:
        key = rendition_key(event.dataset_id, event.image_id, event.etag, name)
        await ctx.retrying(lambda: ctx.storage.put_rendition(bucket, key, encoded))
        return Rendition(
            key=key,
            width=encoded.width,
            height=encoded.height,
            size=len(encoded.data),
            content_type=encoded.content_type,
        )

    thumb, preview = await asyncio.gather(
        put(THUMB_NAME, rendered.thumb), put(PREVIEW_NAME, rendered.preview)
    )
    # Renditions of earlier versions of this object are garbage once these exist.
    prefix = rendition_prefix(event.dataset_id, event.image_id)
    keep = f"{prefix}{event.etag}/"
    await ctx.retrying(lambda: ctx.storage.delete_renditions(bucket, prefix, keep=keep))
    return ThumbnailsCreated(
        **_identity(event),
        thumbnails_bucket=bucket,
        source_format=rendered.source_format,
        width=rendered.width,
        height=rendered.height,
        thumbhash=rendered.thumbhash,
        thumb=thumb,
        preview=preview,
        exif=rendered.exif,
        sha256=sha256,
        phash=rendered.phash,
    )


def _failed(event: ObjectCreated, status: Any, reason: str) -> ThumbnailsFailed:
    return ThumbnailsFailed(**_identity(event), status=status, reason=reason)


def _identity(event: ObjectCreated) -> dict[str, Any]:
    return {
        "image_id": event.image_id,
        "bucket": event.bucket,
        "key": event.key,
        "dataset_id": event.dataset_id,
        "etag": event.etag,
        "sequencer": event.sequencer,
        "processed_at": datetime.now(UTC),
    }
