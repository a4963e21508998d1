"""The facts a webhook can be told, read from the pipeline's topics: one record, its events.

``assets.changes`` carries what the indexer committed (ChangeBatch per dataset, in order),
``assets.snapshots`` the jobs' outcomes (snapshot built or failed, import finished). Each
event gets a key that names the fact it comes from, so a redelivered record makes the same
keys (and so the same delivery ids) again.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from assetflow.contracts.commands import ImportFinished, SnapshotEvent, decode_job_event
from assetflow.contracts.errors import InvalidEventError
from assetflow.contracts.topics import Topics
from assetflow.domain.webhooks import EventType
from assetflow.platform.deadletter import SourceRecord
from assetflow.readmodel.changes import ChangeBatch, ImageChanged, Membership

_FAILED_STATUSES = ("rejected", "failed")


@dataclass(frozen=True, slots=True)
class Fact:
    """One event for the webhooks of a dataset."""

    key: str
    event: EventType
    dataset_id: str
    occurred_at: datetime
    data: dict[str, Any]


def facts_of(record: SourceRecord, topics: Topics) -> list[Fact]:
    """The events a consumed record tells, in order; InvalidEventError if it cannot be read."""
    where = f"{record.topic}/{record.partition}/{record.offset}"
    try:
        if record.topic == topics.changes:
            batch = ChangeBatch.model_validate_json(record.value)
            return [
                fact
                for index, change in enumerate(batch.changes)
                for fact in image_facts(change, f"{where}/{index}")
            ]
        if record.topic == topics.snapshots:
            return job_facts(decode_job_event(record.value))
    except ValidationError as exc:
        raise InvalidEventError(f"not a change or job event: {exc.errors()[0]['msg']}") from None
    return []


def image_facts(change: ImageChanged, key: str) -> list[Fact]:
    """What one committed image change means to a webhook (nothing, one or two events)."""
    state = change.after or change.before
    if state is None:
        return []
    data = _image_data(change.image_id, state)
    events: list[tuple[EventType, dict[str, Any]]] = []
    if change.change == "removed":
        events.append(("image.removed", data))
    else:
        if change.change == "indexed":
            events.append(("image.indexed", data))
        if change.change == "indexed" or "status" in change.fields:
            if state.status == "ready":
                events.append(("image.ready", data))
            elif state.status in _FAILED_STATUSES:
                events.append(("image.failed", data))
        if change.change == "updated" and "tags" in change.fields:
            before = set(change.before.tags if change.before else [])
            after = set(state.tags)
            delta = {"added": sorted(after - before), "removed": sorted(before - after)}
            events.append(("image.tags_changed", data | delta))
    return [
        Fact(f"{key}/{event}", event, change.dataset_id, change.applied_at, body)
        for event, body in events
    ]


def job_facts(event: SnapshotEvent | ImportFinished) -> list[Fact]:
    """A snapshot's or an import's outcome (progress is not told)."""
    if isinstance(event, ImportFinished):
        kind: EventType = "import.done" if event.status == "done" else "import.failed"
        data = event.model_dump(include={"import_id", "status", "images", "annotated", "problems"})
        key = f"import/{event.import_id}/{event.status}"
        return [Fact(key, kind, event.dataset_id, event.at, data)]
    if event.type == "SnapshotProgress":
        return []
    kind = "snapshot.ready" if event.type == "SnapshotCreated" else "snapshot.failed"
    data = event.model_dump(
        include={"snapshot_id", "status", "snapshot_version", "images_total", "reason"}
    )
    key = f"snapshot/{event.snapshot_id}/{event.type}"
    return [Fact(key, kind, event.dataset_id, event.at, data)]


def _image_data(image_id: str, state: Membership) -> dict[str, Any]:
    return {
        "image_id": image_id,
        "folder": state.folder,
        "status": state.status,
        "tags": list(state.tags),
        "split": state.split,
    }
