"""Idempotent, order-safe batch writes of object events with one unordered ``bulk_write``."""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, PyMongoError

from assetflow.common.errors import DatabaseUnavailableError
from assetflow.common.events import ObjectCreated, ObjectRemoved
from assetflow.common.sequencer import is_newer
from assetflow.indexer.documents import document_fields

log = logging.getLogger(__name__)
DUPLICATE_KEY = 11000
MAX_ROUNDS = 5

Event = ObjectCreated | ObjectRemoved


@dataclass
class BatchResult:
    """What one batch did to the index."""

    written: int = 0
    stale: int = 0
    rounds: int = 0
    conflicts: int = 0
    ids: set[str] = field(default_factory=set)


def latest_per_object(events: Iterable[Event]) -> dict[str, Event]:
    """Keep only the newest event (highest sequencer) of each object in a batch."""
    latest: dict[str, Event] = {}
    for event in events:
        current = latest.get(event.image_id)
        if current is None or is_newer(event.sequencer, current.sequencer):
            latest[event.image_id] = event
    return latest


def plan_writes(
    latest: dict[str, Event], stored: dict[str, str], now: datetime
) -> tuple[list[UpdateOne], list[str]]:
    """Conditional updates for events newer than what is stored; returns (ops, stale ids).

    Each op is a compare-and-set on the stored sequencer, so a concurrent writer (say,
    two consumers during a rebalance) can only make an op miss, never overwrite newer data.
    """
    ops: list[UpdateOne] = []
    stale: list[str] = []
    for doc_id, event in latest.items():
        current = stored.get(doc_id)
        if not is_newer(event.sequencer, current):
            stale.append(doc_id)
            continue
        update = {"$set": document_fields(event, now)}
        if current is None:
            ops.append(
                UpdateOne({"_id": doc_id, "sequencer": {"$exists": False}}, update, upsert=True)
            )
        else:
            ops.append(UpdateOne({"_id": doc_id, "sequencer": current}, update))
    return ops, stale


async def stored_sequencers(
    collection: AsyncCollection[dict[str, Any]], ids: Sequence[str]
) -> dict[str, str]:
    """The sequencer each existing document holds."""
    cursor = collection.find({"_id": {"$in": list(ids)}}, {"sequencer": 1})
    return {doc["_id"]: doc["sequencer"] async for doc in cursor if "sequencer" in doc}


async def apply_events(
    collection: AsyncCollection[dict[str, Any]], events: Sequence[Event]
) -> BatchResult:
    """Apply a batch so the index reflects the newest event of each object; safe to replay."""
    result = BatchResult()
    pending = latest_per_object(events)
    result.ids = set(pending)
    try:
        while pending:
            result.rounds += 1
            if result.rounds > MAX_ROUNDS:
                raise DatabaseUnavailableError(
                    f"{len(pending)} writes still conflicting after {MAX_ROUNDS} rounds"
                )
            stored = await stored_sequencers(collection, list(pending))
            ops, stale = plan_writes(pending, stored, datetime.now(UTC))
            if result.rounds == 1:  # later rounds also see this batch's own writes as stale
                result.stale = len(stale)
            if not ops:
                break
            applied = await _bulk_write(collection, ops)
            result.written += applied
            if applied == len(ops):
                break
            # Some compare-and-set ops missed: re-read and re-plan exactly those objects.
            result.conflicts += len(ops) - applied
            pending = {k: v for k, v in pending.items() if k not in stale}
    except PyMongoError as exc:
        raise DatabaseUnavailableError(f"bulk_write failed: {exc}") from exc
    return result


async def _bulk_write(collection: AsyncCollection[dict[str, Any]], ops: list[UpdateOne]) -> int:
    """Run one unordered bulk_write; returns how many ops took effect."""
    try:
        outcome = await collection.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        details = exc.details
        other = [e for e in details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY]
        if other or details.get("writeConcernErrors"):
            raise
        # A duplicate key means another writer inserted first: those ops are re-planned.
        return int(details.get("nMatched", 0)) + len(details.get("upserted", []))
    return outcome.matched_count + outcome.upserted_count
