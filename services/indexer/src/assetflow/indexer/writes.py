"""Idempotent, order-safe batch writes of object events and thumbnail results."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, PyMongoError

from assetflow.common import datasets, images
from assetflow.common.dberrors import translate_db_error
from assetflow.common.events import (
    ObjectCreated,
    ObjectRemoved,
    ThumbnailsCreated,
    ThumbnailsFailed,
    latest_per_object,
)
from assetflow.common.images import F

DUPLICATE_KEY = 11000

Event = ObjectCreated | ObjectRemoved
Result = ThumbnailsCreated | ThumbnailsFailed
Database = AsyncDatabase[dict[str, Any]]


@dataclass
class BatchResult:
    """What one batch did to the index."""

    written: int = 0
    stale: int = 0


def plan_event(event: Event, now: datetime) -> UpdateOne:
    """A conditional upsert: applies only if no event with this or a newer sequencer is stored.

    If the stored document is as new or newer, the filter matches nothing and the upsert's
    insert collides with the existing ``_id`` (duplicate key): that error *is* the "stale"
    answer, so a replay or an out-of-order event changes nothing, without a read first.
    """
    fields = images.event_fields(event, now)
    insert_only = {
        name: value
        for name, value in images.new_document(event, event.image_id, now).items()
        if name not in fields and name != F.ID
    }
    update: dict[str, Any] = {"$set": fields}
    if insert_only:
        update["$setOnInsert"] = insert_only
    return UpdateOne(
        {F.ID: event.image_id, F.SEQUENCER: {"$lt": event.sequencer}}, update, upsert=True
    )


async def apply_events(db: Database, events: Sequence[Event]) -> BatchResult:
    """Apply a batch so the index reflects the newest event of each object; safe to replay.

    New objects are the common case, and for an object the index has never seen any event
    is the newest, so the batch is first inserted blindly; only the objects whose insert
    hits a duplicate key get the conditional upsert (``plan_event``). Measured on the
    embedded engine (500-event batches, 3 listing indexes): inserts ~6,000/s, conditional
    upserts ~800/s, so this ordering is what lets new uploads flow at insert speed. On
    MongoDB both are fast and the result is the same.
    """
    now = datetime.now(UTC)
    latest = latest_per_object(events)
    if not latest:
        return BatchResult()
    created = [event for event in latest.values() if isinstance(event, ObjectCreated)]
    try:
        # Bounds first: a listing must never see an image outside its dataset's bounds.
        if bounds := datasets.upload_bounds_updates(created):
            await db[datasets.COLLECTION].bulk_write(bounds, ordered=False)
        inserted, known = await _insert_new(db, list(latest.values()), now)
        result = BatchResult(written=inserted)
        if known:
            ops = [plan_event(latest[image_id], now) for image_id in known]
            try:
                outcome = await db[images.COLLECTION].bulk_write(ops, ordered=False)
                result.written += outcome.upserted_count + outcome.matched_count
            except BulkWriteError as exc:
                written, result.stale = _stale_only(exc)
                result.written += written
    except PyMongoError as exc:
        raise translate_db_error(exc, "index write failed") from exc
    return result


async def _insert_new(db: Database, events: list[Event], now: datetime) -> tuple[int, list[str]]:
    """Insert every event's object as new; returns (inserted, ids that already existed)."""
    docs = [InsertOne(dict(images.new_document(event, event.image_id, now))) for event in events]
    try:
        return (await db[images.COLLECTION].bulk_write(docs, ordered=False)).inserted_count, []
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise translate_db_error(exc, "index insert failed") from exc
        known = [events[error["index"]].image_id for error in errors]
        return int(exc.details.get("nInserted", 0)), known


def _stale_only(exc: BulkWriteError) -> tuple[int, int]:
    """(written, stale) of a conditional upsert batch whose only errors are duplicate keys."""
    details = exc.details
    errors = details.get("writeErrors", [])
    if any(error.get("code") != DUPLICATE_KEY for error in errors):
        raise translate_db_error(exc, "index write failed") from exc
    return int(details.get("nUpserted", 0)) + int(details.get("nMatched", 0)), len(errors)


def plan_results(results: Sequence[Result], now: datetime) -> list[UpdateOne]:
    """One update per object, guarded by etag so a result for an older version misses.

    Only the last result of each object in the batch counts (offset order: the thumbnailer
    answers an object's versions in order); the guard also skips deleted documents.
    """
    last: dict[str, Result] = {result.image_id: result for result in results}
    return [
        UpdateOne(images.result_guard(result), {"$set": images.result_fields(result, now)})
        for result in last.values()
    ]


async def apply_results(db: Database, results: Sequence[Result]) -> tuple[int, int]:
    """Apply thumbnail results; returns (applied, ignored because the version changed)."""
    ops = plan_results(results, datetime.now(UTC))
    if not ops:
        return 0, 0
    try:
        matched = (await db[images.COLLECTION].bulk_write(ops, ordered=False)).matched_count
    except PyMongoError as exc:
        raise translate_db_error(exc, "thumbnail result write failed") from exc
    return matched, len(ops) - matched
