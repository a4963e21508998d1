"""Listing cost against dataset size on MongoDB (run via `make bench`).

Seeds datasets of 1k, 100k and 1M images into one collection of the running database
(the indexer's document shape, written with ``insert_many``), then times each page kind a
client asks for (first page, a deep page (images 1001-1050), a folder, a status, one tag,
two tags ``all`` and ``any``, untagged) through ``repository.list_images``, and reads each
page's plan (``explain``: index entries and documents examined). Reported per page kind:
min / median ms at each size and the ratio of the largest size's median to the smallest's
(a page that reads ``limit`` index entries costs the same whatever the dataset's size).
"""

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.cursor import Position
from assetflow.api.services.listing import list_images, listing_cursor
from assetflow.contracts.events import ObjectCreated
from assetflow.contracts.sequencer import normalize_sequencer
from assetflow.readmodel import counters, images
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import F
from tests.support.stack import fresh_bench_database

DB = "assetflow_bench_listing"
NOW = datetime(2026, 11, 22, tzinfo=UTC)
FOLDERS = 10
LIMIT = 50
DEEP = 900  # a full page still follows in the 1k dataset
BATCH = 20_000

Db = AsyncDatabase[dict[str, Any]]

PAGES: dict[str, tuple[ListingFilter, bool]] = {
    "first": (ListingFilter(), False),
    f"deep ({DEEP + 1}-{DEEP + LIMIT})": (ListingFilter(), True),
    "folder": (ListingFilter(folder="f3"), False),
    "status=ready": (ListingFilter(status="ready"), False),
    "tag": (ListingFilter(tags=("cat",)), False),
    "tags all (cat, rare)": (ListingFilter(tags=("cat", "rare"), match="all"), False),
    "tags any (cat, dog)": (ListingFilter(tags=("cat", "dog"), match="any"), False),
    "untagged": (ListingFilter(untagged=True), False),
}


def _tags(i: int) -> list[str]:
    return [t for t, every in (("cat", 2), ("dog", 3), ("rare", 10)) if i % every == 0]


async def seed(db: Db, n: int) -> str:
    """A dataset of ``n`` images uploaded over 30 days; every tenth ``ready``; its counters."""
    dataset_id = f"ds-{n}"
    span_ms = 30 * 24 * 3600 * 1000
    for lo in range(0, n, BATCH):
        docs = []
        for i in range(lo, min(n, lo + BATCH)):
            event = ObjectCreated(
                bucket="datasets",
                key=f"{dataset_id}/images/f{i % FOLDERS}/{i:07d}.jpg",
                dataset_id=dataset_id,
                path=f"f{i % FOLDERS}/{i:07d}.jpg",
                event_time=NOW - timedelta(milliseconds=(i * 7919) % span_ms),
                sequencer=normalize_sequencer(f"{i + 1:X}"),
                size=1000 + i,
                etag=f"{i:032x}",
                content_type="image/jpeg",
            )
            doc: dict[str, Any] = dict(images.new_document(event, event.image_id, NOW))
            doc[F.TAGS] = _tags(i)
            if i % 10 == 0:
                doc[F.STATUS] = "ready"
            docs.append(doc)
        await db[images.COLLECTION].insert_many(docs, ordered=False)
    truth = await counters.recount(db, dataset_id)
    _, tag_ops, _ = counters.repair_updates(dataset_id, counters.DatasetCounts(), truth)
    await db[counters.TAG_COUNTS].bulk_write(tag_ops)
    return dataset_id


async def deep_position(db: Db, dataset_id: str) -> Position:
    """The cursor a client holds after paging through the first DEEP images."""
    after: Position | None = None
    for _ in range(DEEP // LIMIT):
        page = await list_images(db, dataset_id, ListingFilter(), after, LIMIT)
        after = Position(page.docs[-1][F.UPLOADED_AT], page.docs[-1][F.ID])
    assert after is not None
    return after


async def timed(run: Callable[[], Awaitable[Any]], repeats: int) -> tuple[float, float]:
    """(min, median) milliseconds over ``repeats`` runs after one warm-up."""
    await run()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - start) * 1000)
    return min(samples), statistics.median(samples)


async def main() -> None:
    """Seed, measure, print a markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    client = await fresh_bench_database(DB, "listing")
    db = client[DB]
    print(f"# listing bench: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs")
    try:
        names = {}
        for n in sizes:
            start = time.perf_counter()
            names[n] = await seed(db, n)
            print(f"<!-- seeded {n:,} in {time.perf_counter() - start:.1f}s -->", flush=True)
        head = " | ".join(f"{n:,}: min / median ms (keys)" for n in sizes)
        print(f"| page | {head} | {sizes[-1]:,} / {sizes[0]:,} (median) |")
        print("|---|" + "---|" * (len(sizes) + 1))
        for label, (listing, deep) in PAGES.items():
            cells, medians = [], []
            for n in sizes:
                ds = names[n]
                after = await deep_position(db, ds) if deep else None
                plan = await (await listing_cursor(db, ds, listing, after, LIMIT)).explain()
                keys = plan["executionStats"]["totalKeysExamined"]

                async def page(
                    ds: str = ds, after: Position | None = after, listing: ListingFilter = listing
                ) -> None:
                    await list_images(db, ds, listing, after, LIMIT)

                low, median = await timed(page, args.repeats)
                cells.append(f"{low:.2f} / {median:.2f} ({keys})")
                medians.append(median)
            ratio = medians[-1] / medians[0]
            print(f"| {label} | {' | '.join(cells)} | {ratio:.2f} |", flush=True)
    finally:
        await client.drop_database(DB)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
