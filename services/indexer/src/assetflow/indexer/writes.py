"""Idempotent, order-safe batch writes of object changes (with their counters) and results."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.contracts.events import (
    ChangeSplit,
    ChangeTags,
    ObjectCreated,
    ObjectRemoved,
    ThumbnailsCreated,
    ThumbnailsFailed,
)
from assetflow.contracts.sequencer import is_newer
from assetflow.contracts.tags import MAX_TAGS_PER_IMAGE, changed_tags, merge_upload_tags
from assetflow.indexer.observability import WRITE_CONFLICTS
from assetflow.platform.decoding import ObjectChange
from assetflow.readmodel import annotations, counters, datasets, duplicates, images
from assetflow.readmodel import tag_commands as commands
from assetflow.readmodel.changes import image_changed
from assetflow.readmodel.images import F
from assetflow.readmodel.transactions import in_transaction

Result = ThumbnailsCreated | ThumbnailsFailed
Database = AsyncDatabase[dict[str, Any]]
# What a change needs to know of the stored image (tombstones included).
STATE_FIELDS = {
    F.DATASET_ID: 1,
    F.FOLDER: 1,
    F.UPLOADED_AT: 1,
    F.SEQUENCER: 1,
    F.DELETED: 1,
    F.SIZE: 1,
    F.TAGS: 1,
    F.TAG_COMMANDS: 1,
    F.ETAG: 1,
    F.STATUS: 1,
    F.LABELS: 1,
    F.ANNOTATION_REVISION: 1,
    F.SHA256: 1,
    F.SPLIT: 1,
}


@dataclass
class BatchResult:
    """What one batch did to the index."""

    written: int = 0
    stale: int = 0
    duplicates: int = 0
    results_applied: int = 0
    results_ignored: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)  # ImageChanged's JSON shape
    # (stage, outcome, when the stage started) of each applied change, for end-to-end latency.
    started: list[tuple[str, str, datetime]] = field(default_factory=list)


@dataclass
class _Image:
    """One image's state while a batch is planned: as stored, then as it will be."""

    before: dict[str, Any] | None
    state: dict[str, Any]
    set_fields: dict[str, Any] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.state)

    def change(self, fields: dict[str, Any]) -> None:
        self.state |= fields
        self.set_fields |= fields


@dataclass
class BatchPlan:
    """The writes of one batch, all to be applied in one transaction."""

    inserts: list[InsertOne[dict[str, Any]]] = field(default_factory=list)
    updates: list[UpdateOne] = field(default_factory=list)
    deltas: counters.CounterDeltas = field(default_factory=counters.CounterDeltas)
    annotation_updates: list[UpdateOne] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    result: BatchResult = field(default_factory=BatchResult)
    # (dataset, sha256) of every group an image may have joined or left: their flags are set
    # from the counters after the writes (a hash can leave and come back within one batch).
    regroup: set[tuple[str, str]] = field(default_factory=set)


def plan_changes(
    stored: dict[str, dict[str, Any]], changes: Sequence[ObjectChange], now: datetime
) -> BatchPlan:
    """Replay a batch's changes, in offset order, over the stored images; pure.

    An object event applies only if its sequencer is newer than the stored one (a replay or
    an out-of-order event is stale). A tag command applies once per image: the image
    remembers the ids of its recent commands. A thumbnail result applies only to the live
    version it was made from (same etag). Counter deltas come from each image's state
    before and after, so they are exactly what the image writes change.
    """
    plan = BatchPlan()
    touched: dict[str, _Image] = {}
    for change in changes:
        image = touched.get(change.image_id)
        if image is None:
            before = stored.get(change.image_id)
            image = touched[change.image_id] = _Image(before, dict(before or {}))
        if isinstance(change, ChangeTags | ChangeSplit):
            _apply_command(image, change, plan)
        elif isinstance(change, ThumbnailsCreated | ThumbnailsFailed):
            _apply_result(image, change, plan, now)
        elif image.exists and not is_newer(change.sequencer, image.state[F.SEQUENCER]):
            plan.result.stale += 1
        else:
            _apply_event(image, change, now)
            kind = "created" if isinstance(change, ObjectCreated) else "removed"
            plan.result.started.append(("indexed", kind, change.event_time))
            if isinstance(change, ObjectRemoved):
                _clear_annotations(change.image_id, image, plan, now)
    for image_id, image in touched.items():
        if not image.set_fields:
            continue
        plan.result.written += 1
        dataset_id = image.state[F.DATASET_ID]
        if seen := image_changed(image_id, dataset_id, image.before, image.state, now):
            plan.result.changes.append(seen)
        plan.deltas.move(counters.contribution(image.before), counters.contribution(image.state))
        if F.SHA256 in image.set_fields or F.DUPLICATE in image.set_fields:
            for state in (image.before or {}, image.state):
                if sha256 := state.get(F.SHA256):
                    plan.regroup.add((state[F.DATASET_ID], sha256))
        if image.before is None:
            plan.inserts.append(InsertOne({F.ID: image_id} | image.state))
        else:
            plan.updates.append(UpdateOne({F.ID: image_id}, {"$set": image.set_fields}))
    return plan


def _apply_event(image: _Image, event: ObjectChange, now: datetime) -> None:
    assert isinstance(event, ObjectCreated | ObjectRemoved)
    live = image.exists and not image.state[F.DELETED]
    if not image.exists:
        image.change(dict(images.new_document(event, event.image_id, now)))
        image.state.pop(F.ID)
        image.set_fields.pop(F.ID)
        return
    fields = images.event_fields(event, now)
    if isinstance(event, ObjectCreated):
        current = image.state.get(F.TAGS) or [] if live else []
        fields[F.TAGS] = merge_upload_tags(current, event.tags)
    else:
        fields[F.TAGS] = []  # a deleted image leaves every count; re-creating starts afresh
    image.change(fields)


def _clear_annotations(image_id: str, image: _Image, plan: BatchPlan, now: datetime) -> None:
    """A deleted image leaves its annotations behind; the revision keeps counting up, so an
    ``If-Match`` from before the delete can never match a re-created image's annotations."""
    if not image.state.get(F.LABELS):  # every shape has a label: no labels, no shapes
        return
    revision = int(image.state.get(F.ANNOTATION_REVISION) or 0)
    image.change({F.LABELS: [], F.ANNOTATION_REVISION: revision + 1, F.ANNOTATION_HASH: None})
    plan.annotation_updates.append(
        UpdateOne(
            {annotations.A.ID: image_id},
            {
                "$set": {
                    annotations.A.SHAPES: [],
                    annotations.A.REVISION: revision + 1,
                    annotations.A.UPDATED_AT: now,
                }
            },
        )
    )


def _apply_result(image: _Image, result: Result, plan: BatchPlan, now: datetime) -> None:
    state = image.state
    if image.exists and not state[F.DELETED] and state.get(F.ETAG) == result.etag:
        image.change(images.result_fields(result, now))
        plan.result.results_applied += 1
        if uploaded := state.get(F.UPLOADED_AT):
            outcome = result.status if isinstance(result, ThumbnailsFailed) else "ready"
            plan.result.started.append(("thumbnail", outcome, uploaded))
    else:  # made from an older version, or the image is gone
        plan.result.results_ignored += 1


def _apply_command(image: _Image, command: ChangeTags | ChangeSplit, plan: BatchPlan) -> None:
    if not image.exists:
        plan.applied[command.command_id] += 1  # the API saw it; nothing is left to change
        return
    recent: list[str] = image.state.get(F.TAG_COMMANDS) or []
    if command.command_id in recent:
        plan.result.duplicates += 1
        return
    fields: dict[str, Any] = {
        F.TAG_COMMANDS: [*recent, command.command_id][-images.RECENT_TAG_COMMANDS :]
    }
    if image.state[F.DELETED]:
        plan.applied[command.command_id] += 1
    elif isinstance(command, ChangeSplit):
        fields[F.SPLIT] = command.split
        plan.applied[command.command_id] += 1
        plan.result.started.append(("split", "applied", command.requested_at))
    else:
        tags = changed_tags(image.state.get(F.TAGS) or [], command.add, command.remove)
        if len(tags) > MAX_TAGS_PER_IMAGE:
            plan.refused[command.command_id] += 1
            plan.result.started.append(("tags", "refused", command.requested_at))
        else:
            fields[F.TAGS] = tags
            plan.applied[command.command_id] += 1
            plan.result.started.append(("tags", "applied", command.requested_at))
    image.change(fields)


async def apply_changes(db: Database, changes: Sequence[ObjectChange]) -> BatchResult:
    """Apply a batch of object events and tag commands, with their counters, atomically.

    One transaction per batch: the touched images are read, the batch is replayed over
    them, and images, counters and command progress are written together. Two writers of
    one image conflict and the later transaction retries, so counts stay exact.
    """
    if not changes:
        return BatchResult()
    now = datetime.now(UTC)
    ids = list({change.image_id for change in changes})

    async def transaction(session: AsyncClientSession) -> BatchResult:
        found = db[images.COLLECTION].find({F.ID: {"$in": ids}}, STATE_FIELDS, session=session)
        stored = {doc[F.ID]: doc async for doc in found}
        plan = plan_changes(stored, changes, now)
        writes: list[tuple[str, list[Any]]] = [
            (datasets.COLLECTION, plan.deltas.dataset_updates(now)),
            (images.COLLECTION, [*plan.inserts, *plan.updates]),
            (counters.TAG_COUNTS, plan.deltas.tag_updates()),
            (counters.FOLDER_COUNTS, plan.deltas.folder_updates()),
            (duplicates.COLLECTION, plan.deltas.sha256_updates()),
            (annotations.LABEL_COUNTS, plan.deltas.label_updates()),
            (annotations.COLLECTION, plan.annotation_updates),
            (commands.COLLECTION, commands.progress_updates(plan.applied, plan.refused)),
        ]
        for collection, ops in writes:
            if ops:
                await db[collection].bulk_write(ops, ordered=False, session=session)
        await _mark_duplicates(db, plan.regroup, session)
        return plan.result

    return await in_transaction(
        db, transaction, what="index write failed", on_conflict=WRITE_CONFLICTS.inc
    )


async def _mark_duplicates(
    db: Database, regroup: set[tuple[str, str]], session: AsyncClientSession
) -> None:
    """Set ``duplicate`` on the live images of every group an image joined or left: true while
    2 or more share the sha256. In the batch's transaction, so it agrees with the counter."""
    if not regroup:
        return
    moved = sorted(regroup)
    ids = [duplicates.counter_id(dataset, sha256) for dataset, sha256 in moved]
    found = db[duplicates.COLLECTION].find({duplicates.D.ID: {"$in": ids}}, session=session)
    count = {doc[duplicates.D.ID]: int(doc[duplicates.D.COUNT]) async for doc in found}
    marks = [
        duplicates.mark_update(dataset, sha256, count.get(counter_id, 0))
        for (dataset, sha256), counter_id in zip(moved, ids, strict=True)
    ]
    await db[images.COLLECTION].bulk_write(marks, ordered=False, session=session)


async def apply_results(db: Database, results: Sequence[Result]) -> tuple[int, int]:
    """Apply thumbnail results alone; returns (applied, ignored because the version changed)."""
    outcome = await apply_changes(db, results)
    return outcome.results_applied, outcome.results_ignored
