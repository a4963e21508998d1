"""Planning of idempotent, order-safe index writes."""

from datetime import UTC, datetime

import pytest

from assetflow.common.datasets import upload_bounds_updates
from assetflow.common.errors import InvalidEventError
from assetflow.common.events import latest_per_object
from assetflow.common.images import event_fields
from assetflow.common.sequencer import normalize_sequencer
from assetflow.indexer.writes import plan_event, plan_results
from tests.support.events import T0, created, removed, thumbnails_created, thumbnails_failed

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_latest_per_object_keeps_highest_sequencer_regardless_of_arrival() -> None:
    a1, a2, b = created("d/images/a", 1), removed("d/images/a", 2), created("d/images/b", 5)
    latest = latest_per_object([a2, b, a1])
    assert latest == {a1.image_id: a2, b.image_id: b}


def test_create_is_an_upsert_guarded_by_an_older_stored_sequencer() -> None:
    event = created("d/images/a", 10, size=1)
    op = plan_event(event, NOW)
    assert op._filter == {"_id": event.image_id, "sequencer": {"$lt": normalize_sequencer("A")}}
    assert op._upsert is True
    fields = op._doc["$set"]
    assert (fields["deleted"], fields["size"], fields["status"]) == (False, 1, "pending")
    assert "$setOnInsert" not in op._doc  # a create sets every field itself


def test_remove_of_an_unknown_object_inserts_a_complete_tombstone() -> None:
    op = plan_event(removed("d/images/x/y.png", 7), NOW)
    assert op._doc["$set"]["deleted"] is True
    assert "size" not in op._doc["$set"]  # a known object keeps its last size and etag
    assert op._doc["$setOnInsert"]["size"] == 0 and op._doc["$setOnInsert"]["status"] == "pending"
    assert not set(op._doc["$set"]) & set(op._doc["$setOnInsert"])


def test_removal_is_a_tombstone_keeping_its_sequencer() -> None:
    fields = event_fields(removed("d/images/x/y.png", 7), NOW)
    assert fields["deleted"] is True and fields["sequencer"] == normalize_sequencer("7")
    assert (fields["folder"], fields["file_name"]) == ("x", "y.png")


def test_key_outside_the_layout_is_a_permanent_error() -> None:
    with pytest.raises(InvalidEventError, match="outside the dataset layout"):
        plan_event(created("d/not-images/a.png", 1), NOW)


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
    fields = event_fields(created("d/images/a.png", 3), datetime(2026, 1, 1, tzinfo=UTC))
    assert fields["status"] == "pending"
    assert fields["renditions"] is None and fields["width"] is None


def test_upload_bounds_cover_each_dataset_of_a_batch() -> None:
    events = [created("d/images/a", 5), created("d/images/b", 1), created("e/images/c", 9)]
    ops = {op._filter["_id"]: op._doc for op in upload_bounds_updates(events)}
    assert ops["d"] == {
        "$min": {"oldest_upload": events[1].event_time},
        "$max": {"newest_upload": events[0].event_time},
    }
    assert ops["e"]["$min"]["oldest_upload"] == events[2].event_time
    assert events[1].event_time >= T0
