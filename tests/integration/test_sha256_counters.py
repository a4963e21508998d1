"""The per-(dataset, sha256) counters stay equal to a recount from the images: through
replays, out-of-order batches, aborted batches and concurrent writers; reconcile repairs
them; a page of groups is one range of the ``groups`` index."""

import asyncio
import json
import random
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.contracts.errors import InvalidEventError
from assetflow.contracts.events import ObjectCreated
from assetflow.indexer.reconcile import reconcile_dataset
from assetflow.indexer.writes import apply_changes
from assetflow.platform.decoding import ObjectChange
from assetflow.readmodel import duplicates
from tests.support.events import created, removed, thumbnails_created, thumbnails_failed

Db = AsyncDatabase[dict[str, Any]]
HASHES = [f"{i:x}" * 64 for i in range(1, 5)]  # few contents: groups form and dissolve


def random_changes(
    rng: random.Random, n: int, keys: list[str], seq: list[int], made: list[ObjectCreated]
) -> list[ObjectChange]:
    """Uploads, overwrites, deletes and results (with a sha256, possibly for an old version)."""
    changes: list[ObjectChange] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.45 and made:
            version = rng.choice(made[-20:])
            if rng.random() < 0.85:
                changes.append(thumbnails_created(version, sha256=rng.choice(HASHES)))
            else:
                changes.append(thumbnails_failed(version))
        elif roll < 0.85:
            seq[0] += 1
            made.append(created(rng.choice(keys), seq[0], size=rng.randint(1, 100)))
            changes.append(made[-1])
        else:
            seq[0] += 1
            changes.append(removed(rng.choice(keys), seq[0]))
    return changes


async def assert_exact(db: Db, dataset: str = "d") -> dict[str, int]:
    """The counters equal a recount, and exactly the images of groups of 2+ are flagged."""
    stored = await duplicates.stored(db, dataset)
    truth = await duplicates.recount(db, dataset)
    assert duplicates.drift(stored, truth) == {}
    assert duplicates.flag_drift(await duplicates.flagged(db, dataset), truth) == {}
    return truth


@pytest.mark.asyncio
async def test_sha256_counts_stay_exact_through_replays_and_out_of_order_batches(db: Db) -> None:
    rng = random.Random(22)
    keys = [f"d/images/{i}.jpg" for i in range(40)]
    seq: list[int] = [0]
    made: list[ObjectCreated] = []
    batches = [random_changes(rng, 40, keys, seq, made) for _ in range(15)]
    largest = 0
    for i, batch in enumerate(batches):
        await apply_changes(db, batch)
        if i % 3 == 0:  # a redelivered batch, and an older one out of order
            await apply_changes(db, batch)
            await apply_changes(db, batches[max(0, i - 2)])
        truth = await assert_exact(db)
        largest = max(largest, *truth.values(), 0)
    # The stream really made groups (and the replays found nothing left to count).
    assert largest >= 3
    assert (await reconcile_dataset(db, "d", repair=False)) == {}


@pytest.mark.asyncio
async def test_an_aborted_batch_counts_nothing_and_its_redelivery_counts_once(db: Db) -> None:
    a, b = created("d/images/a.jpg", 1), created("d/images/b.jpg", 2)
    await apply_changes(db, [a, b])
    good = [thumbnails_created(a, sha256=HASHES[0]), thumbnails_created(b, sha256=HASHES[0])]
    poison = created("d/elsewhere/c.jpg", 3)  # outside the layout: the batch raises
    with pytest.raises(InvalidEventError):
        await apply_changes(db, [*good, poison])
    assert await assert_exact(db) == {}  # the crash left neither images nor counters changed
    await apply_changes(db, good)  # the redelivery without the dead-lettered record
    await apply_changes(db, good)
    assert await assert_exact(db) == {HASHES[0]: 2}


@pytest.mark.asyncio
async def test_concurrent_writers_of_one_group_lose_no_delta(db: Db) -> None:
    versions = [created(f"d/images/{i}.jpg", 1) for i in range(30)]
    await apply_changes(db, versions)
    writers = [
        apply_changes(db, [thumbnails_created(v, sha256=HASHES[0]) for v in versions[w::3]])
        for w in range(3)
    ] + [apply_changes(db, [thumbnails_created(v, sha256=HASHES[0]) for v in versions])]
    await asyncio.gather(*writers)
    assert await assert_exact(db) == {HASHES[0]: 30}


@pytest.mark.asyncio
async def test_reconcile_repairs_sha256_drift(db: Db) -> None:
    versions = [created(f"d/images/{i}.jpg", 1) for i in range(3)]
    await apply_changes(db, versions)
    await apply_changes(db, [thumbnails_created(v, sha256=HASHES[1]) for v in versions])
    counts = db[duplicates.COLLECTION]
    await counts.update_one({"_id": f"d/{HASHES[1]}"}, {"$inc": {"count": 2}})
    await counts.insert_one(
        {"_id": f"d/{HASHES[2]}", "dataset_id": "d", "sha256": HASHES[2], "count": 4}
    )
    drift = await reconcile_dataset(db, "d", repair=True)
    assert drift == {f"sha256:{HASHES[1]}": 2, f"sha256:{HASHES[2]}": 4}
    assert await assert_exact(db) == {HASHES[1]: 3}
    assert await reconcile_dataset(db, "d", repair=False) == {}


@pytest.mark.asyncio
async def test_duplicate_flags_follow_groups_and_reconcile_repairs_them(db: Db) -> None:
    a, b, c = (created(f"d/images/{name}.jpg", 1) for name in "abc")
    await apply_changes(db, [a, b, c])
    await apply_changes(db, [thumbnails_created(a, sha256=HASHES[0])])
    assert await _flagged(db) == set()  # a group of one is no duplicate
    await apply_changes(db, [thumbnails_created(v, sha256=HASHES[0]) for v in (b, c)])
    assert await _flagged(db) == {"a.jpg", "b.jpg", "c.jpg"}
    await apply_changes(db, [removed("d/images/a.jpg", 2)])
    assert await _flagged(db) == {"b.jpg", "c.jpg"}
    await apply_changes(db, [created("d/images/b.jpg", 3)])  # overwritten: not hashed yet
    assert await _flagged(db) == set()
    await assert_exact(db)
    await db["images"].update_many({"path": "c.jpg"}, {"$set": {"duplicate": True}})
    drift = await reconcile_dataset(db, "d", repair=True)
    assert drift == {f"duplicate:{HASHES[0]}": 1}
    assert await _flagged(db) == set() and await reconcile_dataset(db, "d", repair=False) == {}


async def _flagged(db: Db) -> set[str]:
    found = db["images"].find({"dataset_id": "d", "deleted": False, "duplicate": True})
    return {doc["path"] async for doc in found}


@pytest.mark.asyncio
async def test_a_page_of_groups_reads_only_groups_through_the_groups_index(db: Db) -> None:
    sizes = {HASHES[0]: 4, HASHES[1]: 2, HASHES[2]: 1, HASHES[3]: 3}
    versions = []
    for sha256, n in sizes.items():
        versions += [(created(f"d/images/{sha256[:1]}-{i}.jpg", 1), sha256) for i in range(n)]
    await apply_changes(db, [v for v, _ in versions])
    await apply_changes(db, [thumbnails_created(v, sha256=s) for v, s in versions])
    query = duplicates.groups_query("d")
    found = db[duplicates.COLLECTION].find(query).sort(duplicates.GROUP_ORDER)
    page = [(doc["sha256"], doc["count"]) async for doc in found.hint(duplicates.GROUPS_INDEX)]
    assert page == [(HASHES[0], 4), (HASHES[3], 3), (HASHES[1], 2)]
    after = (
        await db[duplicates.COLLECTION].find(duplicates.groups_query("d", (3, HASHES[3]))).to_list()
    )
    assert [doc["sha256"] for doc in after] == [HASHES[1]]
    explain = await db.command(
        "explain",
        {"find": duplicates.COLLECTION, "filter": query, "sort": {"count": -1, "sha256": 1}},
        verbosity="executionStats",
    )
    plan = json.dumps(explain["queryPlanner"]["winningPlan"], default=str)
    assert f'"{duplicates.GROUPS_INDEX}"' in plan and '"SORT"' not in plan, plan
    assert explain["executionStats"]["totalKeysExamined"] <= 4  # the singleton is not in it
