"""Listing pages are one keyset query on an index: exact while uploads arrive, and their plans
read about ``limit`` index entries whatever the dataset's size."""

from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.cursor import Position
from assetflow.api.services.listing import list_images, listing_cursor
from assetflow.contracts.events import ObjectCreated
from assetflow.contracts.sequencer import normalize_sequencer
from assetflow.indexer.writes import apply_changes
from assetflow.readmodel import counters, images
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import F
from tests.support.events import T0, created, removed

Db = AsyncDatabase[dict[str, Any]]
LIMIT = 50
IMAGES = 20_000


EVERY = ListingFilter()


async def _all_pages(db: Db, listing: ListingFilter = EVERY, limit: int = 3) -> list[str]:
    paths: list[str] = []
    after = None
    while True:
        page = await list_images(db, "ds", listing, after, limit)
        paths += [doc["path"] for doc in page.docs]
        if not page.more:
            return paths
        last = page.docs[-1]
        after = Position(last["uploaded_at"], last["_id"])


@pytest.mark.asyncio
async def test_pages_are_exact_while_newer_older_and_same_millisecond_uploads_arrive(
    db: Db,
) -> None:
    # Five images share one millisecond: the cursor's id breaks the tie.
    same = T0 + timedelta(seconds=100)
    await apply_changes(
        db,
        [created(f"ds/images/{i}.jpg", i + 1, at=T0 + timedelta(seconds=i)) for i in range(10)]
        + [created(f"ds/images/tie{i}.jpg", 20 + i, at=same) for i in range(5)],
    )
    first = await list_images(db, "ds", ListingFilter(), None, 4)
    ties = sorted(
        [doc for doc in await _docs(db) if doc[F.UPLOADED_AT] == same],
        key=lambda d: d[F.ID],
        reverse=True,
    )
    assert [d[F.ID] for d in first.docs] == [d[F.ID] for d in ties[:4]]

    # Uploads arrive between pages: newer ones are not on later pages, older ones are.
    await apply_changes(
        db,
        [
            created("ds/images/new.jpg", 100, at=T0 + timedelta(days=1)),
            created("ds/images/old.jpg", 101, at=T0 - timedelta(days=30)),
        ],
    )
    last = first.docs[-1]
    rest: list[str] = []
    after = Position(last[F.UPLOADED_AT], last[F.ID])
    while True:
        page = await list_images(db, "ds", ListingFilter(), after, 4)
        rest += [doc["path"] for doc in page.docs]
        if not page.more:
            break
        after = Position(page.docs[-1][F.UPLOADED_AT], page.docs[-1][F.ID])
    seen = [doc["path"] for doc in first.docs] + rest
    expected = [d["path"] for d in ties] + [f"{i}.jpg" for i in reversed(range(10))] + ["old.jpg"]
    assert seen == expected

    await apply_changes(db, [removed("ds/images/old.jpg", 200, at=T0 + timedelta(days=2))])
    assert await _all_pages(db) == ["new.jpg", *expected[:-1]]


async def _docs(db: Db) -> list[dict[str, Any]]:
    return await db[images.COLLECTION].find({F.DATASET_ID: "ds"}).to_list()


@pytest.mark.asyncio
async def test_tag_filters_page_exactly(db: Db) -> None:
    tagged = {0: ["cat"], 1: ["dog"], 2: ["cat", "dog"], 3: [], 4: ["cat"], 5: []}
    await apply_changes(
        db,
        [
            created(f"ds/images/{i}.jpg", i + 1, at=T0 + timedelta(seconds=i), tags=tags)
            for i, tags in tagged.items()
        ],
    )
    assert await _all_pages(db, ListingFilter.parse(tags="cat,dog", match="any"), 2) == [
        "4.jpg",
        "2.jpg",
        "1.jpg",
        "0.jpg",
    ]
    assert await _all_pages(db, ListingFilter.parse(tags="dog,cat"), 1) == ["2.jpg"]
    assert await _all_pages(db, ListingFilter.parse(untagged=True), 1) == ["5.jpg", "3.jpg"]


def _tags(i: int) -> list[str]:
    # cat on every 2nd image, dog on every 3rd, rare on every 100th, a third untagged.
    return [t for t, every in (("cat", 2), ("dog", 3), ("rare", 100)) if i % every == 0]


@pytest_asyncio.fixture
async def large(db: Db) -> Db:
    """20,000 images of one dataset, written directly (the indexer's document shape), with
    its tag counters."""
    docs = []
    for i in range(IMAGES):
        event = ObjectCreated(
            bucket="datasets",
            key=f"ds/images/f{i % 10}/{i:06d}.jpg",
            dataset_id="ds",
            path=f"f{i % 10}/{i:06d}.jpg",
            # three images per millisecond: ties on the cursor's time are common
            event_time=T0 + timedelta(milliseconds=i // 3),
            sequencer=normalize_sequencer(f"{i + 1:X}"),
            size=10,
            etag="e",
            content_type="image/jpeg",
        )
        doc: dict[str, Any] = dict(images.new_document(event, event.image_id, T0))
        doc[F.TAGS] = _tags(i)
        if i % 10 == 0:
            doc[F.STATUS] = "ready"
        docs.append(doc)
    await db[images.COLLECTION].insert_many(docs)
    truth = await counters.recount(db, "ds")
    _, tag_ops, _ = counters.repair_updates("ds", counters.DatasetCounts(), truth)
    await db[counters.TAG_COUNTS].bulk_write(tag_ops)
    return db


def _stages(plan: dict[str, Any]) -> list[str]:
    found = [plan["stage"]]
    for child in [plan.get("inputStage"), *plan.get("inputStages", [])]:
        if child:
            found += _stages(child)
    return found


async def _deep(db: Db, listing: ListingFilter) -> Position:
    after = None
    for _ in range(1000 // LIMIT):
        page = await list_images(db, "ds", listing, after, LIMIT)
        after = Position(page.docs[-1][F.UPLOADED_AT], page.docs[-1][F.ID])
    assert after is not None
    return after


# (filter, deep page?, largest totalKeysExamined): limit + 1 rows, plus the cursor's own
# millisecond ties (up to 2) on a deep page, per $in branch (two tags: 2 x).
PAGES = {
    "first": (ListingFilter(), False, LIMIT + 1),
    "deep (1001-1050)": (ListingFilter(), True, LIMIT + 3),
    "folder": (ListingFilter(folder="f3"), False, LIMIT + 1),
    "folder, deep": (ListingFilter(folder="f3"), True, LIMIT + 3),
    "status": (ListingFilter(status="ready"), False, LIMIT + 1),
    "tag": (ListingFilter(tags=("cat",)), False, LIMIT + 1),
    # all: the rarest tag's range (1 in 100), checked for the other (every rare has cat).
    "tags all": (ListingFilter(tags=("cat", "rare"), match="all"), False, LIMIT + 1),
    "tags any": (ListingFilter(tags=("cat", "dog"), match="any"), False, 2 * (LIMIT + 1)),
    "tags any, deep": (ListingFilter(tags=("cat", "dog"), match="any"), True, 2 * (LIMIT + 3)),
    # untagged: the empty array's two index keys ([] and undefined), merged in order.
    "untagged": (ListingFilter(untagged=True), False, 2 * (LIMIT + 1)),
    "untagged, deep": (ListingFilter(untagged=True), True, 2 * (LIMIT + 3)),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("page", list(PAGES))
async def test_a_page_is_an_index_scan_reading_about_limit_entries(large: Db, page: str) -> None:
    listing, deep, most_keys = PAGES[page]
    after = await _deep(large, listing) if deep else None
    cursor = await listing_cursor(large, "ds", listing, after, LIMIT)
    explained = await cursor.explain()
    stats = explained["executionStats"]
    stages = _stages(explained["queryPlanner"]["winningPlan"])
    assert "IXSCAN" in stages and "COLLSCAN" not in stages
    assert "SORT" not in stages, f"{page}: a blocking sort in {stages}"
    assert stats["nReturned"] == LIMIT + 1
    assert stats["totalKeysExamined"] <= most_keys, f"{page}: {stats['totalKeysExamined']} keys"
    assert stats["totalDocsExamined"] <= most_keys
