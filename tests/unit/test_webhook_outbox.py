"""The notifier's consumer logic with a fake outbox: facts to events, one delivery per
matching webhook and event, in order, none twice for a redelivered record."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from assetflow.contracts.commands import ImportFinished, SnapshotEvent
from assetflow.contracts.errors import DatabaseUnavailableError, InvalidEventError
from assetflow.contracts.topics import Topics
from assetflow.notifier.facts import facts_of
from assetflow.notifier.outbox import NotifierContext, enqueue_batch
from assetflow.platform.deadletter import SourceRecord
from assetflow.readmodel.webhooks import delivery_id
from tests.support.notifier_fakes import FakeWebhookStore

TOPICS = Topics("t.")
AT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _state(status: str = "pending", tags: list[str] | None = None) -> dict[str, Any]:
    return {"folder": "a", "status": status, "tags": tags or [], "split": None}


def _change(
    image: str, change: str, fields: list[str], before: Any, after: Any, dataset: str = "ds"
) -> dict[str, Any]:
    return {
        "image_id": image,
        "dataset_id": dataset,
        "change": change,
        "fields": fields,
        "before": before,
        "after": after,
        "applied_at": AT.isoformat(),
    }


def _changes(offset: int, *changes: dict[str, Any], dataset: str = "ds") -> SourceRecord:
    body = {"type": "ChangeBatch", "dataset_id": dataset, "changes": list(changes)}
    return SourceRecord(TOPICS.changes, 1, offset, dataset.encode(), json.dumps(body).encode(), {})


def _job(offset: int, event: SnapshotEvent | ImportFinished) -> SourceRecord:
    value = event.model_dump_json().encode()
    return SourceRecord(TOPICS.snapshots, 0, offset, b"ds", value, {})


def _events(record: SourceRecord) -> list[str]:
    return [fact.event for fact in facts_of(record, TOPICS)]


def test_image_changes_become_webhook_events() -> None:
    indexed = _change("i1", "indexed", [], None, _state())
    ready = _change("i1", "updated", ["status", "renditions"], _state(), _state("ready"))
    rejected = _change("i2", "updated", ["status"], _state(), _state("rejected"))
    tagged = _change("i1", "updated", ["tags"], _state("ready", ["a"]), _state("ready", ["b"]))
    removed = _change("i1", "removed", [], _state("ready"), None)
    at_once = _change("i3", "indexed", ["status"], None, _state("failed"))
    annotated = _change("i1", "updated", ["annotations"], _state("ready"), _state("ready"))
    assert _events(_changes(0, indexed)) == ["image.indexed"]
    assert _events(_changes(0, ready)) == ["image.ready"]
    assert _events(_changes(0, rejected)) == ["image.failed"]
    assert _events(_changes(0, tagged)) == ["image.tags_changed"]
    assert _events(_changes(0, removed)) == ["image.removed"]
    assert _events(_changes(0, at_once)) == ["image.indexed", "image.failed"]
    assert _events(_changes(0, annotated)) == []
    (fact,) = facts_of(_changes(0, tagged), TOPICS)
    assert fact.data | {"added": ["b"], "removed": ["a"]} == fact.data
    assert fact.data["image_id"] == "i1" and fact.occurred_at == AT


def test_job_outcomes_become_webhook_events_and_progress_does_not() -> None:
    def snapshot(kind: str, status: str) -> SnapshotEvent:
        return SnapshotEvent.model_validate(
            {"type": kind, "snapshot_id": "s1", "dataset_id": "ds", "status": status, "at": AT}
        )

    assert _events(_job(0, snapshot("SnapshotProgress", "running"))) == []
    assert _events(_job(0, snapshot("SnapshotCreated", "ready"))) == ["snapshot.ready"]
    assert _events(_job(0, snapshot("SnapshotFailed", "failed"))) == ["snapshot.failed"]
    done = ImportFinished(import_id="m1", dataset_id="ds", status="done", images=3, at=AT)
    failed = ImportFinished(import_id="m2", dataset_id="ds", status="failed", problems=["x"], at=AT)
    assert _events(_job(0, done)) == ["import.done"]
    (fact,) = facts_of(_job(0, failed), TOPICS)
    assert (fact.event, fact.data["problems"]) == ("import.failed", ["x"])
    # The same outcome published twice (a redelivered command) is one fact.
    assert facts_of(_job(5, done), TOPICS)[0].key == facts_of(_job(9, done), TOPICS)[0].key


def test_an_unreadable_record_is_invalid() -> None:
    bad = SourceRecord(TOPICS.changes, 0, 0, b"ds", b'{"type": "ChangeBatch"}', {})
    with pytest.raises(InvalidEventError, match="not a change or job event"):
        facts_of(bad, TOPICS)


def _context(store: FakeWebhookStore, woken: list[int]) -> NotifierContext:
    return NotifierContext(store=store, topics=TOPICS, wake=lambda: woken.append(1))


@pytest.mark.asyncio
async def test_each_matching_webhook_gets_its_events_in_order_and_never_twice() -> None:
    store = FakeWebhookStore()
    store.add("all", "ds", "image.indexed", "image.ready", "snapshot.ready")
    store.add("ready-only", "ds", "image.ready")
    store.add("elsewhere", "other", "image.indexed")
    woken: list[int] = []
    records = [
        _changes(
            10,
            _change("i1", "indexed", [], None, _state()),
            _change("i2", "indexed", [], None, _state()),
        ),
        _changes(11, _change("i1", "updated", ["status"], _state(), _state("ready"))),
        _job(
            3,
            SnapshotEvent(
                type="SnapshotCreated", snapshot_id="s", dataset_id="ds", status="ready", at=AT
            ),
        ),
    ]
    assert await enqueue_batch(records, _context(store, woken)) == 5
    bodies = [json.loads(item["body"]) for item in store.queue("all")]
    assert [(b["type"], b["data"].get("image_id")) for b in bodies] == [
        ("image.indexed", "i1"),
        ("image.indexed", "i2"),
        ("image.ready", "i1"),
        ("snapshot.ready", None),
    ]
    assert all(b["id"] == item["id"] for b, item in zip(bodies, store.queue("all"), strict=True))
    assert [item["event"] for item in store.queue("ready-only")] == ["image.ready"]
    assert store.queue("elsewhere") == []
    assert woken == [1]
    # Redelivered (a rewound batch): the same ids, nothing new, nobody woken.
    assert await enqueue_batch(records, _context(store, woken)) == 0
    assert len(store.deliveries) == 5 and woken == [1]


@pytest.mark.asyncio
async def test_nothing_is_read_from_the_store_without_facts_and_an_outage_is_raised() -> None:
    store = FakeWebhookStore(unavailable=True)
    progress = SnapshotEvent(
        type="SnapshotProgress", snapshot_id="s", dataset_id="ds", status="running", at=AT
    )
    assert await enqueue_batch([_job(0, progress)], _context(store, [])) == 0
    with pytest.raises(DatabaseUnavailableError):
        await enqueue_batch(
            [_changes(0, _change("i", "indexed", [], None, _state()))], _context(store, [])
        )


def test_delivery_ids_are_deterministic_per_webhook_and_fact() -> None:
    assert delivery_id("w1", "t/1/10/0/image.indexed") == delivery_id(
        "w1", "t/1/10/0/image.indexed"
    )
    assert delivery_id("w1", "t/1/10/0/image.indexed") != delivery_id(
        "w2", "t/1/10/0/image.indexed"
    )
    assert delivery_id("w1", "t/1/10/0/image.indexed") != delivery_id(
        "w1", "t/1/10/1/image.indexed"
    )
    assert len(delivery_id("w", "k")) == 32
