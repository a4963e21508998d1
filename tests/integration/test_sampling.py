"""Random samples: deterministic per seed, distinct, filtered, and spread over the keys."""

from collections import Counter
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.services.sampling import SMALL_DATASET, sample_images
from assetflow.indexer.writes import apply_changes
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import sample_key
from tests.support.events import created

Db = AsyncDatabase[dict[str, Any]]


async def seed_images(db: Db, n: int) -> None:
    for start in range(0, n, 1000):
        batch = [
            created(f"d/images/f{i % 4}/{i}.jpg", i + 1, tags=["odd"] if i % 2 else [])
            for i in range(start, min(n, start + 1000))
        ]
        await apply_changes(db, batch)


def test_sample_key_is_fixed_by_the_id_and_in_range() -> None:
    keys = [sample_key(created(f"d/images/{i}.jpg", 1).image_id) for i in range(2000)]
    assert all(0 <= k < 1 for k in keys)
    deciles = Counter(int(k * 10) for k in keys)
    assert all(150 <= deciles[d] <= 250 for d in range(10)), deciles
    assert sample_key(created("d/images/0.jpg", 1).image_id) == keys[0]


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [300, SMALL_DATASET + 1000])
async def test_samples_are_distinct_deterministic_and_filtered(db: Db, size: int) -> None:
    await seed_images(db, size)
    everything = ListingFilter()
    first = await sample_images(db, "d", everything, 20, seed=7)
    again = await sample_images(db, "d", everything, 20, seed=7)
    other = await sample_images(db, "d", everything, 20, seed=8)
    ids = [doc["_id"] for doc in first]
    assert len(ids) == len(set(ids)) == 20
    assert ids == [doc["_id"] for doc in again]
    assert ids != [doc["_id"] for doc in other]
    odd = await sample_images(db, "d", ListingFilter.parse(tags="odd", folder="f1"), 15, seed=3)
    assert len(odd) == 15
    assert all(doc["folder"] == "f1" and "odd" in doc["tags"] for doc in odd)
    assert len(await sample_images(db, "d", ListingFilter.parse(tags="none"), 5, seed=1)) == 0


@pytest.mark.asyncio
async def test_unfiltered_samples_spread_evenly(db: Db) -> None:
    """2,000 picks over 3,000 images: every tenth of the key range gets its share."""
    await seed_images(db, 3000)
    picks: Counter[int] = Counter()
    for seed in range(200):
        for doc in await sample_images(db, "d", ListingFilter(), 10, seed=seed):
            picks[int(doc["sample_key"] * 10)] += 1
    assert sum(picks.values()) == 2000
    assert all(140 <= picks[d] <= 260 for d in range(10)), picks
