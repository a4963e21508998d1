"""Idempotent, order-safe batch writes of object events with unordered bulk writes."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, PyMongoError

from assetflow.common.dbcompat import MONGODB, DbProfile
from assetflow.common.errors import DatabaseUnavailableError
from assetflow.common.events import (
    ObjectCreated,
    ObjectRemoved,
    ThumbnailsCreated,
    ThumbnailsFailed,
    latest_per_object,
)
from assetflow.common.sequencer import is_newer
from assetflow.indexer.documents import document_fields, thumbnail_fields

DUPLICATE_KEY = 11000
MAX_ROUNDS = 5

Event = ObjectCreated | ObjectRemoved
Result = ThumbnailsCreated | ThumbnailsFailed
Images = AsyncCollection[dict[str, Any]]


@dataclass
class BatchResult:
    """What one batch did to the index."""

    written: int = 0
    stale: int = 0
    rounds: int = 0


@dataclass
class WritePlan:
    """Inserts for objects never seen, compare-and-set updates for known ones."""

    inserts: list[InsertOne[dict[str, Any]]] = field(default_factory=list)
    updates: list[UpdateOne] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.inserts) + len(self.updates)


def plan_writes(latest: dict[str, Event], stored: dict[str, str], now: datetime) -> WritePlan:
    """Writes for events newer than what is stored.

    A known object gets a compare-and-set on its stored sequencer and an unknown one an
    insert, so a concurrent writer (two consumers during a rebalance) can only make a
    write miss (no match, or a duplicate key), never overwrite newer data.
    """
    plan = WritePlan()
    for doc_id, event in latest.items():
        current = stored.get(doc_id)
        if not is_newer(event.sequencer, current):
            plan.stale.append(doc_id)
            continue
        fields = document_fields(event, now)
        if current is None:
            plan.inserts.append(InsertOne({"_id": doc_id, **_insert_defaults(event), **fields}))
        else:
            plan.updates.append(UpdateOne({"_id": doc_id, "sequencer": current}, {"$set": fields}))
    return plan


def _insert_defaults(event: Event) -> dict[str, Any]:
    # A tombstone for an object we never saw still needs the fields queries project.
    if isinstance(event, ObjectRemoved):
        return {"size": 0, "etag": "", "content_type": None, "uploaded_at": event.event_time}
    return {}


async def stored_sequencers(images: Images, ids: Sequence[str]) -> dict[str, str]:
    """The sequencer each existing document holds (one ``$in`` read)."""
    cursor = images.find({"_id": {"$in": list(ids)}}, {"sequencer": 1})
    return {doc["_id"]: doc["sequencer"] async for doc in cursor if "sequencer" in doc}


async def apply_events(
    images: Images, events: Sequence[Event], profile: DbProfile = MONGODB
) -> BatchResult:
    """Apply a batch so the index reflects the newest event of each object; safe to replay.

    Most events are about objects the index has never seen, so the first round inserts
    blindly: nothing stored means any event is the newest. Only objects whose insert hits a
    duplicate key are read and compare-and-set. (FerretDB 1.24 + SQLite serves no read
    from an index, so a read per batch costs a full scan; an insert does not.)
    """
    result = BatchResult()
    pending = latest_per_object(events)
    now = datetime.now(UTC)
    try:
        inserted, existing = await _insert_new(images, pending, now)
        result.written += inserted
        pending = {k: v for k, v in pending.items() if k in existing}
        while pending:
            result.rounds += 1
            if result.rounds > MAX_ROUNDS:
                raise DatabaseUnavailableError(
                    f"{len(pending)} writes still conflicting after {MAX_ROUNDS} rounds"
                )
            stored = await stored_sequencers(images, list(pending))
            plan = plan_writes(pending, stored, now)
            if result.rounds == 1:  # later rounds also see this batch's own writes as stale
                result.stale = len(plan.stale)
            if not len(plan):
                break
            applied = await _insert(images, plan.inserts) + await _update(
                images, plan.updates, profile
            )
            result.written += applied
            if applied == len(plan):
                break
            # Some writes missed because another writer got there first: re-read, re-plan.
            pending = {k: v for k, v in pending.items() if k not in plan.stale}
    except PyMongoError as exc:
        raise DatabaseUnavailableError(f"index write failed: {exc}") from exc
    return result


async def _insert_new(
    images: Images, latest: dict[str, Event], now: datetime
) -> tuple[int, set[str]]:
    """Insert every object as new; returns (inserted, ids that already existed)."""
    plan = plan_writes(latest, {}, now)
    if not plan.inserts:
        return 0, set()
    ids = list(latest)
    try:
        outcome = await images.bulk_write(plan.inserts, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        return int(exc.details.get("nInserted", 0)), {ids[e["index"]] for e in errors}
    return outcome.inserted_count, set()


async def _insert(images: Images, ops: list[InsertOne[dict[str, Any]]]) -> int:
    """Unordered inserts; a duplicate key means a concurrent insert won (re-planned)."""
    if not ops:
        return 0
    try:
        return (await images.bulk_write(ops, ordered=False)).inserted_count
    except BulkWriteError as exc:
        if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
            raise
        return int(exc.details.get("nInserted", 0))


async def _update(images: Images, ops: list[UpdateOne], profile: DbProfile) -> int:
    """Compare-and-set updates in chunks the server handles; returns how many matched."""
    matched = 0
    for start in range(0, len(ops), profile.max_update_ops):
        chunk = ops[start : start + profile.max_update_ops]
        matched += (await images.bulk_write(chunk, ordered=False)).matched_count
    return matched


def plan_results(results: Sequence[Result], now: datetime) -> list[UpdateOne]:
    """One update per object, guarded by etag so a result for an older version misses.

    Only the last result of each object in the batch counts (offset order: the thumbnailer
    answers an object's versions in order); the guard also skips deleted documents.
    """
    last: dict[str, Result] = {result.image_id: result for result in results}
    return [
        UpdateOne(
            {"_id": doc_id, "etag": result.etag, "deleted": False},
            {"$set": thumbnail_fields(result, now)},
        )
        for doc_id, result in last.items()
    ]


async def apply_results(
    images: Images, results: Sequence[Result], profile: DbProfile = MONGODB
) -> tuple[int, int]:
    """Apply thumbnail results; returns (applied, ignored because the version changed)."""
    ops = plan_results(results, datetime.now(UTC))
    try:
        matched = await _update(images, ops, profile)
    except PyMongoError as exc:
        raise DatabaseUnavailableError(f"thumbnail result write failed: {exc}") from exc
    return matched, len(ops) - matched
