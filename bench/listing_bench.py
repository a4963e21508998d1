"""Listing cost against dataset size on the embedded database (run via `make bench`).

Seeds datasets of 1k, 10k and 100k images into one collection of the running database,
then times, side by side in one run, the API's windowed listing query
(``repository.list_images``) and the plain unbounded keyset query it replaced, for:
the first page, a deep page (images 951-1000), a folder page and a status page. Two upload
patterns: spread uniformly over 30 days, and one bulk upload at 200 images/s.
"""

import argparse
import asyncio
import platform
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.cursor import Position
from assetflow.api.repository import PROJECTION, list_images
from assetflow.common import datasets, images
from assetflow.common.events import ObjectCreated
from assetflow.common.filters import ListingFilter
from assetflow.common.images import F
from assetflow.common.migrations import migrate
from assetflow.common.sequencer import normalize_sequencer
from tests.support.stack import MONGO_URL

DB = "assetflow_bench_listing"
NOW = datetime(2026, 11, 22, tzinfo=UTC)
FOLDERS = 10
LIMIT = 50
DEEP = 950

Db = AsyncDatabase[dict[str, Any]]


def upload_times(n: int, pattern: str, rng: random.Random) -> list[datetime]:
    """When each of ``n`` images was uploaded."""
    if pattern == "bulk":
        start = NOW - timedelta(days=2)
        return [start + timedelta(milliseconds=i * 5) for i in range(n)]  # 200/s
    span_ms = 30 * 24 * 3600 * 1000
    return [NOW - timedelta(milliseconds=rng.randrange(span_ms)) for _ in range(n)]


async def seed(db: Db, sizes: list[int], pattern: str) -> dict[int, str]:
    """One dataset per size; every tenth image is ``ready``, the rest ``pending``."""
    rng = random.Random(7)
    names = {}
    seq = 0
    for n in sizes:
        dataset_id = f"{pattern}-{n}"
        names[n] = dataset_id
        docs = []
        times = upload_times(n, pattern, rng)
        for i, at in enumerate(times):
            seq += 1
            event = ObjectCreated(
                bucket="datasets",
                key=f"{dataset_id}/images/f{i % FOLDERS}/{i:06d}.jpg",
                dataset_id=dataset_id,
                path=f"f{i % FOLDERS}/{i:06d}.jpg",
                event_time=at,
                sequencer=normalize_sequencer(f"{seq:X}"),
                size=1000 + i,
                etag=f"{i:032x}",
                content_type="image/jpeg",
            )
            doc: dict[str, Any] = dict(images.new_document(event, event.image_id, NOW))
            if i % 10 == 0:
                doc[F.STATUS] = "ready"
            docs.append(doc)
        for start in range(0, n, 10_000):
            await db[images.COLLECTION].insert_many(docs[start : start + 10_000], ordered=False)
        await db[datasets.COLLECTION].bulk_write(
            datasets.upload_bounds_updates(
                ObjectCreated(
                    bucket="datasets",
                    key=f"{dataset_id}/images/x",
                    dataset_id=dataset_id,
                    path="x",
                    event_time=at,
                    sequencer="0" * 32,
                    size=0,
                    etag="",
                )
                for at in (min(times), max(times))
            )
        )
    return names


async def unbounded(
    db: Db, dataset_id: str, folder: str | None, after: Position | None, status: str | None
) -> list[dict[str, Any]]:
    """The query the API ran before windows: one keyset range over the whole prefix."""
    (prefix,), _ = ListingFilter(folder=folder, status=status).query_parts(dataset_id)
    query: dict[str, Any] = dict(prefix)
    if after is not None:
        query = {
            "$or": [
                prefix | {F.UPLOADED_AT: {"$lt": after.uploaded_at}},
                prefix | {F.UPLOADED_AT: after.uploaded_at, F.ID: {"$lt": after.id}},
            ]
        }
    cursor = db[images.COLLECTION].find(query, PROJECTION).sort(images.LISTING_ORDER)
    return await cursor.limit(LIMIT + 1).to_list()


async def deep_position(db: Db, dataset_id: str) -> Position:
    """The cursor a client holds after paging through the first DEEP images."""
    after: Position | None = None
    seen = 0
    while seen < DEEP:
        page = await list_images(db, dataset_id, ListingFilter(), after, LIMIT)
        seen += len(page.docs)
        last = page.docs[-1]
        after = Position(last[F.UPLOADED_AT], last[F.ID], page.span_ms)
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
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--patterns", default="spread,bulk")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL, tz_aware=True)
    await client.drop_database(DB)
    db = client[DB]
    await migrate(db)
    print(f"# listing bench: {platform.node()}, {platform.machine()}, db {MONGO_URL}")
    print("| pattern | images | page | windowed min / median ms | unbounded min / median ms |")
    print("|---|---|---|---|---|")
    try:
        for pattern in args.patterns.split(","):
            start = time.perf_counter()
            names = await seed(db, sizes, pattern)
            print(f"<!-- seeded {sum(sizes)} in {time.perf_counter() - start:.1f}s -->")
            for n in sizes:
                ds = names[n]
                deep = await deep_position(db, ds)
                cases: dict[str, tuple[str | None, Position | None, str | None]] = {
                    "first": (None, None, None),
                    f"deep ({DEEP + 1}-{DEEP + LIMIT})": (None, deep, None),
                    "folder": ("f3", None, None),
                    "status=ready": (None, None, "ready"),
                }
                for label, (folder, after, status) in cases.items():
                    listing = ListingFilter(folder=folder, status=status)
                    windowed = partial(list_images, db, ds, listing, after, LIMIT)
                    plain = partial(unbounded, db, ds, folder, after, status)
                    # Both must return the same page, or the comparison means nothing.
                    same = [d[F.ID] for d in (await windowed()).docs] == [
                        d[F.ID] for d in (await plain())[:LIMIT]
                    ]
                    assert same, f"{pattern} {n} {label}: windowed and unbounded pages differ"
                    w = await timed(windowed, args.repeats)
                    u = await timed(plain, args.repeats)
                    print(
                        f"| {pattern} | {n:,} | {label} | {w[0]:.1f} / {w[1]:.1f} "
                        f"| {u[0]:.1f} / {u[1]:.1f} |",
                        flush=True,
                    )
    finally:
        await client.drop_database(DB)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
