"""Counters kept by the indexer's transactions stay equal to a recount from the images."""

import asyncio
import json
import random
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.contracts.errors import DatabaseUnavailableError
from assetflow.contracts.events import ObjectCreated
from assetflow.indexer.writes import apply_changes
from assetflow.platform.decoding import ObjectChange
from assetflow.readmodel import counters
from assetflow.readmodel.migrations import migrate
from devstack import config
from tests.support.events import (
    T0,
    change_split,
    change_tags,
    created,
    removed,
    thumbnails_created,
    thumbnails_failed,
)
from tests.support.stack import MONGO_URL

Db = AsyncDatabase[dict[str, Any]]
TAGS = ["cat", "dog", "bird", "car", "tree"]


def random_changes(
    rng: random.Random, n: int, keys: list[str], seq: list[int]
) -> list[ObjectChange]:
    """A mixed stream: uploads with tags, overwrites, deletes and tag commands."""
    changes: list[ObjectChange] = []
    made: list[ObjectCreated] = []
    for i in range(n):
        key = rng.choice(keys)
        roll = rng.random()
        if roll < 0.15 and made:  # a result, possibly for an outdated version
            version = rng.choice(made)
            result = (
                thumbnails_created(version) if rng.random() < 0.7 else thumbnails_failed(version)
            )
            changes.append(result)
        elif roll < 0.45:
            seq[0] += 1
            tags = rng.sample(TAGS, rng.randint(0, 2))
            made.append(created(key, seq[0], size=rng.randint(1, 100), tags=tags))
            changes.append(made[-1])
        elif roll < 0.55:
            seq[0] += 1
            changes.append(removed(key, seq[0]))
        elif roll < 0.7:
            split = rng.choice(["train", "val", "test", None])
            changes.append(change_split(key, f"split-{seq[0]}-{i}", split))  # type: ignore[arg-type]
        else:
            add = rng.sample(TAGS, rng.randint(0, 2))
            remove = [t for t in rng.sample(TAGS, rng.randint(0, 2)) if t not in add]
            changes.append(change_tags(key, f"cmd-{seq[0]}-{i}", add=add, remove=remove))
    return changes


async def assert_exact(db: Db, dataset: str = "d") -> counters.DatasetCounts:
    stored = await counters.stored_counts(db, dataset, folders=True)
    truth = await counters.recount(db, dataset)
    assert stored.drift(truth) == {}
    return truth


@pytest.mark.asyncio
async def test_counts_stay_exact_through_a_random_stream_with_replays(db: Db) -> None:
    rng = random.Random(7)
    keys = [f"d/images/f{i % 4}/{i}.jpg" for i in range(60)]
    seq = [0]
    batches = [random_changes(rng, 40, keys, seq) for _ in range(15)]
    for i, batch in enumerate(batches):
        await apply_changes(db, batch)
        if i % 3 == 0:  # a redelivered batch, and an older one out of order
            await apply_changes(db, batch)
            await apply_changes(db, batches[max(0, i - 2)])
        await assert_exact(db)
    truth = await assert_exact(db)
    # The stream really exercised the counters.
    assert truth.images > 0 and truth.tags and len(truth.statuses) >= 2, truth
    assert len(truth.splits) == 3, truth


@pytest.mark.asyncio
async def test_concurrent_writers_of_the_same_images_lose_no_delta(db: Db) -> None:
    keys = [f"d/images/{i}.jpg" for i in range(30)]
    await apply_changes(db, [created(key, 1, tags=["cat"]) for key in keys])
    writers = [
        apply_changes(db, [change_tags(key, f"w{w}-{key}", add=[f"t{w}"]) for key in keys])
        for w in range(6)
    ]
    await asyncio.gather(*writers)
    truth = await assert_exact(db)
    assert truth.tags == {"cat": 30, **{f"t{w}": 30 for w in range(6)}}


@pytest.mark.asyncio
async def test_command_progress_is_counted_once_per_image(db: Db) -> None:
    keys = [f"d/images/{i}.jpg" for i in range(10)]
    await apply_changes(db, [created(key, 1) for key in keys])
    await db["commands"].insert_one({"_id": "c1", "matched": 10, "applied": 0, "refused": 0})
    batch = [change_tags(key, "c1", add=["x"]) for key in keys]
    await apply_changes(db, batch)
    again = await apply_changes(db, batch)  # redelivered
    assert again.duplicates == 10
    doc = await db["commands"].find_one({"_id": "c1"})
    assert doc is not None and (doc["applied"], doc["refused"]) == (10, 0)
    assert (await assert_exact(db)).tags == {"x": 10}


@pytest.mark.asyncio
async def test_reconcile_repairs_drift(db: Db) -> None:
    await apply_changes(db, [created(f"d/images/{i}.jpg", 1, tags=["cat"]) for i in range(5)])
    await db["tag_counts"].update_one({"_id": "d/cat"}, {"$inc": {"count": 3}})
    await db["datasets"].update_one({"_id": "d"}, {"$inc": {"untagged": -2}})
    stored = await counters.stored_counts(db, "d", folders=True)
    truth = await counters.recount(db, "d")
    assert stored.drift(truth) == {"untagged": -2, "tag:cat": 3}
    dataset_ops, tag_ops, folder_ops = counters.repair_updates("d", stored, truth)
    assert folder_ops == []
    await db["datasets"].bulk_write(dataset_ops)
    await db["tag_counts"].bulk_write(tag_ops)
    await assert_exact(db)


@pytest.mark.asyncio
@pytest.mark.parametrize("tags", ["cat", []])
async def test_tag_and_untagged_ranges_are_served_by_the_tag_index(db: Db, tags: Any) -> None:
    await migrate(db)
    await apply_changes(db, [created(f"d/images/{i}.jpg", i + 1, tags=["cat"]) for i in range(20)])
    query = {
        "dataset_id": "d",
        "deleted": False,
        "tags": tags,
        "uploaded_at": {"$gte": T0, "$lt": T0 + timedelta(hours=1)},
    }
    explain = await db.command(
        "explain",
        {"find": "images", "filter": query, "sort": {"uploaded_at": -1, "_id": -1}, "limit": 5},
    )
    plan = json.dumps(explain["queryPlanner"]["winningPlan"], default=str)
    assert '"listing_by_tag"' in plan, plan


ORPHAN = """
import sys, time
from pymongo import MongoClient
client = MongoClient(sys.argv[1])
db = client[sys.argv[2]]
session = client.start_session()
session.start_transaction()
db["datasets"].update_one({"_id": "d"}, {"$set": {"orphan": True}}, upsert=True, session=session)
print("in transaction", flush=True)
time.sleep(300)
"""


@pytest.mark.asyncio
async def test_a_transaction_orphaned_by_sigkill_delays_writes_only_until_its_lifetime(
    db: Db,
) -> None:
    """A SIGKILLed writer's open transaction blocks its documents until the server aborts it."""
    await apply_changes(db, [created("d/images/a.jpg", 1)])
    orphan = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ORPHAN, MONGO_URL, db.name, stdout=asyncio.subprocess.PIPE
    )
    assert orphan.stdout is not None
    assert (await orphan.stdout.readline()).strip() == b"in transaction"
    orphan.kill()
    await orphan.wait()
    start = time.monotonic()
    blocked = 0
    while True:
        try:
            await apply_changes(db, [created("d/images/b.jpg", 2)])
            break
        except DatabaseUnavailableError:  # the consumer would back off and redeliver
            blocked += 1
            assert time.monotonic() - start < config.TRANSACTION_LIFETIME_S + 15
            await asyncio.sleep(1)
    assert blocked > 0  # the orphan really held the dataset's counters
    await assert_exact(db)
