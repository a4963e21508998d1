"""Planning of idempotent, order-safe index writes."""

from datetime import UTC, datetime
from typing import Any

import pytest

from assetflow.contracts.errors import InvalidEventError
from assetflow.contracts.events import latest_per_object
from assetflow.contracts.sequencer import normalize_sequencer
from assetflow.indexer.writes import plan_changes
from assetflow.readmodel.images import event_fields
from tests.support.events import (
    change_tags,
    created,
    removed,
    thumbnails_created,
    thumbnails_failed,
)

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_latest_per_object_keeps_highest_sequencer_regardless_of_arrival() -> None:
    a1, a2, b = created("d/images/a", 1), removed("d/images/a", 2), created("d/images/b", 5)
    latest = latest_per_object([a2, b, a1])
    assert latest == {a1.image_id: a2, b.image_id: b}


def _stored(plan_inserts: list[Any]) -> dict[str, dict[str, Any]]:
    return {op._doc["_id"]: op._doc for op in plan_inserts}


def test_new_objects_are_inserted_whole_and_counted() -> None:
    a = created("d/images/a.png", 10, size=3, tags=["cat"])
    b = created("d/images/b.png", 11, size=4)
    plan = plan_changes({}, [a, b], NOW)
    assert not plan.updates
    docs = _stored(plan.inserts)
    assert docs[a.image_id]["tags"] == ["cat"] and docs[a.image_id]["status"] == "pending"
    assert docs[b.image_id]["tags"] == [] and docs[b.image_id]["tag_commands"] == []
    assert plan.deltas.images == {"d": 2} and plan.deltas.bytes == {"d": 7}
    assert plan.deltas.untagged == {"d": 1} and plan.deltas.tags == {("d", "cat"): 1}


def test_remove_of_an_unknown_object_inserts_a_tombstone_that_counts_nothing() -> None:
    plan = plan_changes({}, [removed("d/images/x/y.png", 7)], NOW)
    (doc,) = _stored(plan.inserts).values()
    assert doc["deleted"] is True and doc["size"] == 0 and doc["tags"] == []
    assert not plan.deltas.dataset_updates() and not plan.deltas.tag_updates()


def test_replayed_and_older_events_are_stale() -> None:
    a = created("d/images/a.png", 10, tags=["cat"])
    stored = _stored(plan_changes({}, [a], NOW).inserts)
    plan = plan_changes(
        stored, [a, created("d/images/a.png", 9), removed("d/images/a.png", 10)], NOW
    )
    assert plan.result.stale == 3 and not plan.updates and not plan.inserts


def test_overwrite_keeps_tags_and_adds_the_new_versions() -> None:
    first = created("d/images/a.png", 1, size=5, tags=["cat", "old"])
    stored = _stored(plan_changes({}, [first], NOW).inserts)
    plan = plan_changes(stored, [created("d/images/a.png", 2, size=8, tags=["dog"])], NOW)
    (update,) = plan.updates
    assert update._doc["$set"]["tags"] == ["cat", "dog", "old"]
    assert plan.deltas.bytes == {"d": 3} and plan.deltas.images == {"d": 0}
    assert plan.deltas.tags == {("d", "dog"): 1, ("d", "cat"): 0, ("d", "old"): 0}


def test_delete_takes_tags_out_and_recreate_starts_from_upload_tags() -> None:
    key = "d/images/a.png"
    stored = _stored(plan_changes({}, [created(key, 1, tags=["cat"])], NOW).inserts)
    plan = plan_changes(stored, [removed(key, 2), created(key, 3, tags=["dog"])], NOW)
    (update,) = plan.updates
    assert update._doc["$set"]["tags"] == ["dog"] and update._doc["$set"]["deleted"] is False
    assert plan.deltas.tags == {("d", "cat"): -1, ("d", "dog"): 1}


def test_tag_command_applies_once_and_counts_progress() -> None:
    key = "d/images/a.png"
    stored = _stored(plan_changes({}, [created(key, 1, tags=["cat"])], NOW).inserts)
    command = change_tags(key, "c1", add=["dog"], remove=["cat"])
    plan = plan_changes(stored, [command, command], NOW)
    (update,) = plan.updates
    assert update._doc["$set"]["tags"] == ["dog"]
    assert update._doc["$set"]["tag_commands"] == ["c1"]
    assert plan.result.duplicates == 1 and plan.applied == {"c1": 1}
    assert plan.deltas.tags == {("d", "cat"): -1, ("d", "dog"): 1}
    assert plan.deltas.untagged["d"] == 0


def test_tag_command_over_the_limit_is_refused_and_changes_nothing() -> None:
    key = "d/images/a.png"
    stored = _stored(
        plan_changes({}, [created(key, 1, tags=[f"t{i}" for i in range(50)])], NOW).inserts
    )
    plan = plan_changes(stored, [change_tags(key, "c1", add=["one-more"])], NOW)
    assert plan.refused == {"c1": 1} and not plan.deltas.tag_updates()
    (update,) = plan.updates
    assert "tags" not in update._doc["$set"]  # only the command id is remembered


def test_tag_command_on_a_deleted_or_unknown_image_is_processed_without_effect() -> None:
    key = "d/images/a.png"
    stored = _stored(plan_changes({}, [removed(key, 1)], NOW).inserts)
    plan = plan_changes(
        stored, [change_tags(key, "c1", add=["x"]), change_tags("d/images/zz", "c1")], NOW
    )
    assert plan.applied == {"c1": 2} and not plan.deltas.tag_updates()


def test_untagging_moves_the_image_to_untagged() -> None:
    key = "d/images/a.png"
    stored = _stored(plan_changes({}, [created(key, 1, tags=["cat"])], NOW).inserts)
    plan = plan_changes(stored, [change_tags(key, "c1", remove=["cat"])], NOW)
    assert plan.deltas.untagged == {"d": 1} and plan.deltas.tags == {("d", "cat"): -1}


def test_remembered_command_ids_are_bounded() -> None:
    key = "d/images/a.png"
    stored = _stored(plan_changes({}, [created(key, 1)], NOW).inserts)
    plan = plan_changes(stored, [change_tags(key, f"c{i}", add=["x"]) for i in range(30)], NOW)
    (update,) = plan.updates
    assert update._doc["$set"]["tag_commands"] == [f"c{i}" for i in range(10, 30)]


def test_removal_is_a_tombstone_keeping_its_sequencer() -> None:
    fields = event_fields(removed("d/images/x/y.png", 7), NOW)
    assert fields["deleted"] is True and fields["sequencer"] == normalize_sequencer("7")
    assert (fields["folder"], fields["file_name"]) == ("x", "y.png")


def test_key_outside_the_layout_is_a_permanent_error() -> None:
    with pytest.raises(InvalidEventError, match="outside the dataset layout"):
        plan_changes({}, [created("d/not-images/a.png", 1)], NOW)


def test_results_apply_to_their_own_live_version_and_move_status_counts() -> None:
    first = created("d/images/a.png", 1, size=1)
    other = created("d/images/b.png", 2, size=2)
    stored = _stored(plan_changes({}, [first, other], NOW).inserts)
    newer = created("d/images/b.png", 3, size=3)  # b is overwritten before its result lands
    batch = [
        thumbnails_failed(first),
        thumbnails_created(first, 9, 8),
        newer,
        thumbnails_created(other),
    ]
    plan = plan_changes(stored, batch, NOW)
    assert (plan.result.results_applied, plan.result.results_ignored) == (2, 1)
    updates = {op._filter["_id"]: op._doc["$set"] for op in plan.updates}
    fields = updates[first.image_id]
    assert (fields["status"], fields["width"], fields["height"]) == ("ready", 9, 8)
    assert fields["thumbnailed_at"] == NOW
    assert updates[other.image_id]["status"] == "pending"  # the new version starts over
    assert plan.deltas.statuses == {("d", "pending"): -1, ("d", "ready"): 1}


def test_a_result_for_a_deleted_or_unknown_image_is_ignored() -> None:
    event = created("d/images/a.png", 1)
    stored = _stored(plan_changes({}, [event, removed("d/images/a.png", 2)], NOW).inserts)
    plan = plan_changes(
        stored, [thumbnails_created(event), thumbnails_created(created("d/images/z", 1))], NOW
    )
    assert plan.result.results_ignored == 2 and not plan.updates and not plan.inserts


def test_a_new_version_starts_over_as_pending() -> None:
    fields = event_fields(created("d/images/a.png", 3), datetime(2026, 1, 1, tzinfo=UTC))
    assert fields["status"] == "pending"
    assert fields["renditions"] is None and fields["width"] is None


def test_delete_clears_annotations_and_takes_their_labels_out_revision_counting_on() -> None:
    key = "d/images/a.png"
    stored = _stored(plan_changes({}, [created(key, 1)], NOW).inserts)
    (image_id,) = stored
    stored[image_id] |= {
        "labels": [{"label": "cat", "shapes": 2}],
        "annotation_revision": 4,
        "annotation_hash": "h",
    }
    overwrite = plan_changes(stored, [created(key, 2, size=9)], NOW)
    assert overwrite.annotation_updates == []  # an overwrite keeps them
    plan = plan_changes(stored, [removed(key, 3)], NOW)
    (update,) = plan.updates
    fields = update._doc["$set"]
    assert (fields["labels"], fields["annotation_revision"], fields["annotation_hash"]) == (
        [],
        5,
        None,
    )
    (cleared,) = plan.annotation_updates
    assert cleared._filter == {"_id": image_id}
    assert cleared._doc["$set"]["shapes"] == [] and cleared._doc["$set"]["revision"] == 5
    assert plan.deltas.label_shapes == {("d", "cat"): -2}
    assert plan.deltas.label_images == {("d", "cat"): -1}


def test_folder_counters_follow_creates_moves_and_removes() -> None:
    top = created("d/images/a.png", 10)
    nested = created("d/images/cats/x/b.png", 11)
    plan = plan_changes({}, [top, nested], NOW)
    assert plan.deltas.folders == {("d", ""): 1, ("d", "cats/x"): 1}
    update = plan.deltas.folder_updates()[1]._doc
    assert update["$inc"] == {"count": 1}
    assert update["$setOnInsert"] == {"dataset_id": "d", "folder": "cats/x"}
    stored = _stored(plan.inserts)
    gone = plan_changes(stored, [removed("d/images/cats/x/b.png", 12)], NOW)
    assert gone.deltas.folders == {("d", "cats/x"): -1}
    # A tag change leaves the image in its folder: no folder counter moves.
    retag = plan_changes(stored, [change_tags("d/images/a.png", "c1", add=["cat"])], NOW)
    assert not retag.deltas.folder_updates()
