"""Planning of idempotent, order-safe index writes."""

from datetime import UTC, datetime

from assetflow.common.events import latest_per_object
from assetflow.common.sequencer import normalize_sequencer
from assetflow.indexer.documents import document_fields
from assetflow.indexer.writes import plan_results, plan_writes
from tests.support.events import created, removed, thumbnails_created, thumbnails_failed

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_latest_per_object_keeps_highest_sequencer_regardless_of_arrival() -> None:
    a1, a2, b = created("d/images/a", 1), removed("d/images/a", 2), created("d/images/b", 5)
    latest = latest_per_object([a2, b, a1])
    assert latest == {a1.image_id: a2, b.image_id: b}


def test_new_object_is_inserted() -> None:
    event = created("d/images/a", 10, size=1)
    plan = plan_writes({event.image_id: event}, {}, NOW)
    assert plan.stale == [] and plan.updates == []
    [op] = plan.inserts
    assert op._doc["_id"] == event.image_id
    assert op._doc["deleted"] is False and op._doc["size"] == 1


def test_newer_event_is_compare_and_set_on_stored_sequencer() -> None:
    event = created("d/images/a", 11, size=9)
    stored = {event.image_id: normalize_sequencer("A")}
    plan = plan_writes({event.image_id: event}, stored, NOW)
    [op] = plan.updates
    assert op._filter == {"_id": event.image_id, "sequencer": normalize_sequencer("A")}
    assert not op._upsert and plan.stale == [] and plan.inserts == []
    assert op._doc["$set"]["size"] == 9


def test_replayed_and_stale_events_produce_no_write() -> None:
    replay, older = created("d/images/a", 11), removed("d/images/b", 1)
    stored = {replay.image_id: normalize_sequencer("B"), older.image_id: normalize_sequencer("2")}
    plan = plan_writes({replay.image_id: replay, older.image_id: older}, stored, NOW)
    assert len(plan) == 0 and sorted(plan.stale) == sorted([replay.image_id, older.image_id])


def test_removal_is_a_tombstone_keeping_its_sequencer() -> None:
    fields = document_fields(removed("d/images/x/y.png", 7), NOW)
    assert fields["deleted"] is True and fields["sequencer"] == normalize_sequencer("7")
    assert (fields["folder"], fields["file_name"]) == ("x", "y.png")
    assert "size" not in fields  # a tombstone keeps the last known size/etag untouched


def test_results_are_guarded_by_etag_and_the_last_one_per_object_wins() -> None:
    first = created("d/images/a.png", 1, size=1)
    other = created("d/images/b.png", 2, size=2)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ops = plan_results(
        [thumbnails_failed(first), thumbnails_created(other), thumbnails_created(first, 9, 8)],
        now,
    )
    assert [op._filter for op in ops] == [
        {"_id": first.image_id, "etag": "e1", "deleted": False},
        {"_id": other.image_id, "etag": "e2", "deleted": False},
    ]
    fields = ops[0]._doc["$set"]
    assert (fields["status"], fields["width"], fields["height"]) == ("ready", 9, 8)
    assert fields["thumbnailed_at"] == now


def test_a_new_version_starts_over_as_pending() -> None:
    fields = document_fields(created("d/images/a.png", 3), datetime(2026, 1, 1, tzinfo=UTC))
    assert fields["status"] == "pending"
    assert fields["renditions"] is None and fields["width"] is None
