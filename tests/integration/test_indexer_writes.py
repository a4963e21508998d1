"""apply_changes against the real database: idempotent, order-safe, conflict-safe."""

from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.contracts.sequencer import normalize_sequencer
from assetflow.indexer.writes import apply_changes, apply_results
from tests.support.events import T0, created, removed, thumbnails_created, thumbnails_failed

Db = AsyncDatabase[dict[str, Any]]


async def live(db: Db) -> dict[str, dict[str, Any]]:
    return {d["key"]: d async for d in db["images"].find({"deleted": False})}


@pytest.mark.asyncio
async def test_batch_of_500_is_indexed_with_all_fields(db: Db) -> None:
    events = [created(f"d/images/f{i % 3}/{i}.png", 100 + i, size=i) for i in range(500)]
    result = await apply_changes(db, events)
    assert (result.written, result.stale) == (500, 0)
    docs = await live(db)
    assert len(docs) == 500
    doc = docs["d/images/f1/7.png"]
    assert (doc["folder"], doc["file_name"], doc["path"], doc["size"]) == (
        "f1",
        "7.png",
        "f1/7.png",
        7,
    )
    assert doc["uploaded_at"] == T0 + timedelta(seconds=107)
    assert doc["_id"] == events[7].image_id


@pytest.mark.asyncio
async def test_replay_changes_nothing(db: Db) -> None:
    events = [created(f"d/images/{i}.png", 5 + i) for i in range(20)]
    await apply_changes(db, events)
    before = {d["_id"]: d async for d in db["images"].find()}
    again = await apply_changes(db, events)
    assert (again.written, again.stale) == (0, 20)
    assert {d["_id"]: d async for d in db["images"].find()} == before


@pytest.mark.asyncio
async def test_stale_remove_does_not_delete_newer_object(db: Db) -> None:
    await apply_changes(db, [created("d/images/a.png", 50)])
    result = await apply_changes(db, [removed("d/images/a.png", 49)])
    assert result.stale == 1
    assert "d/images/a.png" in await live(db)


@pytest.mark.asyncio
async def test_remove_then_late_create_replay_stays_removed(db: Db) -> None:
    await apply_changes(db, [created("d/images/a.png", 1), removed("d/images/a.png", 2)])
    assert await live(db) == {}
    await apply_changes(db, [created("d/images/a.png", 1)])  # replayed, older
    assert await live(db) == {}
    tomb = await db["images"].find_one({"key": "d/images/a.png"})
    assert tomb is not None and tomb["deleted"] is True


@pytest.mark.asyncio
async def test_out_of_order_batches_converge_to_newest(db: Db) -> None:
    key = "d/images/o.png"
    await apply_changes(db, [created(key, 30, size=3)])
    await apply_changes(db, [created(key, 10, size=1), created(key, 20, size=2)])
    assert (await live(db))[key]["size"] == 3
    await apply_changes(db, [removed(key, 31), created(key, 40, size=4)])
    assert (await live(db))[key]["size"] == 4


@pytest.mark.asyncio
async def test_concurrent_writer_loses_no_update(db: Db) -> None:
    """A compare-and-set miss (someone wrote in between) is re-planned, not lost."""
    key = "d/images/race.png"
    await apply_changes(db, [created(key, 1, size=1)])
    # Simulate another consumer winning a race just before our write.
    event = created(key, 3, size=3)
    await db["images"].update_one(
        {"_id": event.image_id}, {"$set": {"sequencer": normalize_sequencer("2"), "size": 2}}
    )
    result = await apply_changes(db, [event])
    assert result.written == 1
    assert (await live(db))[key]["size"] == 3


@pytest.mark.asyncio
async def test_mixed_batch_of_new_and_known_objects(db: Db) -> None:
    """New objects are inserted; known ones are only replaced by a newer event."""
    await apply_changes(
        db,
        [
            created("d/images/k1.png", 10, 1),
            created("d/images/k2.png", 10, 1),
            created("d/images/k3.png", 10, 1),
        ],
    )
    batch = [
        created("d/images/n1.png", 5, 5),
        created("d/images/k1.png", 11, 2),  # newer: applied
        created("d/images/n2.png", 5, 5),
        created("d/images/k2.png", 9, 3),  # older: ignored
        removed("d/images/k3.png", 12),  # newer removal: applied
        created("d/images/n3.png", 5, 5),
    ]
    result = await apply_changes(db, batch)
    assert (result.written, result.stale) == (5, 1)
    sizes = {key: doc["size"] for key, doc in (await live(db)).items()}
    assert sizes == {
        "d/images/n1.png": 5,
        "d/images/n2.png": 5,
        "d/images/n3.png": 5,
        "d/images/k1.png": 2,
        "d/images/k2.png": 1,
    }


async def doc_of(db: Db, key: str) -> dict[str, Any]:
    doc = await db["images"].find_one({"key": key})
    assert doc is not None
    return doc


@pytest.mark.asyncio
async def test_new_image_is_pending_until_its_result_makes_it_ready(db: Db) -> None:
    event = created("d/images/a.jpg", 1)
    await apply_changes(db, [event])
    assert (await doc_of(db, event.key))["status"] == "pending"

    applied = await apply_results(db, [thumbnails_created(event, 400, 300)])

    assert applied == (1, 0)
    doc = await doc_of(db, event.key)
    assert (doc["status"], doc["status_reason"], doc["width"], doc["height"]) == (
        "ready",
        None,
        400,
        300,
    )
    assert doc["renditions"]["bucket"] == "thumbnails"
    assert doc["renditions"]["thumb"]["key"].endswith(f"/{event.etag}/thumb.webp")
    assert doc["exif"]["model"] == "Canon EOS R5"
    assert doc["thumbhash"]


@pytest.mark.asyncio
async def test_result_for_an_older_version_is_ignored(db: Db) -> None:
    first = created("d/images/a.jpg", 1, size=10)
    second = created("d/images/a.jpg", 2, size=20)  # overwritten: another etag
    await apply_changes(db, [first])
    await apply_results(db, [thumbnails_created(first)])
    await apply_changes(db, [second])
    assert (await doc_of(db, first.key))["status"] == "pending"  # a new version starts over

    applied = await apply_results(db, [thumbnails_created(first, 1, 1)])

    assert applied == (0, 1)
    doc = await doc_of(db, first.key)
    assert (doc["status"], doc["width"], doc["renditions"]) == ("pending", None, None)
    await apply_results(db, [thumbnails_created(second, 50, 60)])
    assert (await doc_of(db, first.key))["width"] == 50


@pytest.mark.asyncio
async def test_result_for_a_deleted_image_is_ignored(db: Db) -> None:
    event = created("d/images/a.jpg", 1)
    await apply_changes(db, [event, removed(event.key, 2)])
    assert await apply_results(db, [thumbnails_created(event)]) == (0, 1)
    assert (await doc_of(db, event.key))["deleted"] is True


@pytest.mark.asyncio
async def test_failed_and_rejected_results_keep_their_reason_and_replay_is_idempotent(
    db: Db,
) -> None:
    bad, text = created("d/images/bad.jpg", 1, size=1), created("d/images/t.jpg", 2, size=2)
    await apply_changes(db, [bad, text])
    results = [
        thumbnails_failed(bad, "failed", "cannot decode the jpeg image: premature end"),
        thumbnails_failed(text, "rejected", "not an image: it looks like text"),
    ]
    await apply_results(db, results)
    await apply_results(db, results)  # redelivered batch
    docs = {d["key"]: d async for d in db["images"].find()}
    assert (docs[bad.key]["status"], docs[bad.key]["status_reason"]) == (
        "failed",
        "cannot decode the jpeg image: premature end",
    )
    assert (docs[text.key]["status"], docs[text.key]["status_reason"]) == (
        "rejected",
        "not an image: it looks like text",
    )
    assert docs[text.key]["renditions"] is None
