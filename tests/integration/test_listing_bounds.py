"""Listing pages stay exact when the API's remembered dataset bounds are stale."""

from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.cursor import Position
from assetflow.api.repository import DatasetBounds, list_images
from assetflow.common.filters import ListingFilter
from assetflow.indexer.writes import apply_changes
from tests.support.events import T0, created, removed


async def _all_pages(db: AsyncDatabase[dict[str, Any]], bounds: DatasetBounds) -> list[str]:
    paths: list[str] = []
    after = None
    while True:
        page = await list_images(db, "ds", ListingFilter(), after, 3, bounds)
        paths += [doc["path"] for doc in page.docs]
        if not page.more:
            return paths
        last = page.docs[-1]
        after = Position(last["uploaded_at"], last["_id"], page.span_ms)


@pytest.mark.integration
@pytest.mark.asyncio
async def test_pages_stay_exact_whatever_the_remembered_bounds_say(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await apply_changes(
        db, [created(f"ds/images/{i}.jpg", i + 1, at=T0 + timedelta(seconds=i)) for i in range(10)]
    )
    bounds = DatasetBounds(ttl_s=3600)  # never refreshed during this test
    newest_first = [f"{i}.jpg" for i in reversed(range(10))]
    assert await _all_pages(db, bounds) == newest_first

    # Newer than the remembered newest, older than the remembered oldest (a backfill).
    await apply_changes(
        db,
        [
            created("ds/images/new.jpg", 100, at=T0 + timedelta(days=1)),
            created("ds/images/old.jpg", 101, at=T0 - timedelta(days=30)),
        ],
    )
    assert await _all_pages(db, bounds) == ["new.jpg", *newest_first, "old.jpg"]

    # Now the remembered bounds are wider than the images: still every image once.
    await apply_changes(
        db,
        [
            removed("ds/images/new.jpg", 200, at=T0 + timedelta(days=2)),
            removed("ds/images/old.jpg", 201, at=T0 + timedelta(days=2)),
        ],
    )
    assert await _all_pages(db, bounds) == newest_first


@pytest.mark.integration
@pytest.mark.asyncio
async def test_a_dataset_unknown_a_moment_ago_lists_its_first_image_at_once(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    bounds = DatasetBounds(ttl_s=3600)
    assert await _all_pages(db, bounds) == []
    await apply_changes(db, [created("ds/images/first.jpg", 1, at=T0)])
    assert await _all_pages(db, bounds) == ["first.jpg"]
