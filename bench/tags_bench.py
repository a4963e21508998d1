"""Tag benchmarks against the real local stack (run via `make bench`).

1. ``GET /v1/datasets/{id}/tags`` (its read path, in-process) and a tag-filtered first page,
   for a 1k- and a 100k-image dataset in one run: the ratio is the figure (both should be
   flat, the counts are read from counters and a page from a bounded index range);
2. bulk tagging throughput: a ``where`` selection of N images (default 20,000) through the
   real api and indexer processes: from the 202 until the command is ``done``.
"""

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from pymongo import AsyncMongoClient

from assetflow.api.services.listing import list_images
from assetflow.indexer.writes import apply_changes
from assetflow.readmodel import counters
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.migrations import migrate
from bench.listing_bench import timed
from tests.support.events import created
from tests.support.stack import MONGO_URL, ServiceProcess, skip_history, wait_for

DB = "assetflow_bench_tags"
GROUP_PREFIX = "assetflow-bench-tags"
POOL = [f"tag{i:02d}" for i in range(20)]
Db = Any


def tags_of(i: int) -> list[str]:
    """0-3 tags per image from a pool of 20; every 7th image untagged."""
    if i % 7 == 0:
        return []
    return sorted({POOL[i % 20], POOL[(i * 3) % 20], POOL[(i * 11) % 13]})


async def seed(db: Db, dataset: str, n: int) -> None:
    """n images with tags, written the way the indexer writes them (with their counters)."""
    for start in range(0, n, 1000):
        batch = [
            created(f"{dataset}/images/f{i % 10}/{i:06d}.jpg", i + 1, size=100, tags=tags_of(i))
            for i in range(start, min(n, start + 1000))
        ]
        await apply_changes(db, batch)


def read_cases(db: Db, dataset: str) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The timed read paths for one dataset."""

    def page(listing: ListingFilter) -> Callable[[], Awaitable[Any]]:
        return lambda: list_images(db, dataset, listing, None, 50)

    return {
        "GET tags (counters)": lambda: counters.stored_counts(db, dataset),
        "recount (aggregation, for comparison)": lambda: counters.recount(db, dataset),
        "first page tags=tag03": page(ListingFilter(tags=("tag03",))),
        "first page tags=tag03,tag09 all": page(ListingFilter(tags=("tag03", "tag09"))),
        "first page tags=tag03,tag09 any": page(
            ListingFilter(tags=("tag03", "tag09"), match="any")
        ),
        "first page untagged": page(ListingFilter(untagged=True)),
        "first page folder=f3 tags=tag03": page(ListingFilter(folder="f3", tags=("tag03",))),
    }


async def read_paths(db: Db, sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    """GET-tags read path and tag-filtered first pages per dataset size."""
    rows = []
    for n in sizes:
        dataset = f"tags-{n}"
        start = time.perf_counter()
        await seed(db, dataset, n)
        seeded_s = time.perf_counter() - start
        truth = await counters.recount(db, dataset)
        assert (await counters.stored_counts(db, dataset)).drift(truth) == {}
        cases = read_cases(db, dataset)
        for label, run in cases.items():
            low, median = await timed(run, repeats)
            rows.append({"images": n, "case": label, "min_ms": low, "median_ms": median})
        print(f"<!-- seeded {n} images in {seeded_s:.1f}s -->", flush=True)
    return rows


def bulk_throughput(n: int) -> dict[str, Any]:
    """A where-selection of n images tagged through the real api + indexer."""
    dataset = f"bulk-{n}"

    async def prepare() -> None:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL, tz_aware=True)
        await seed(client[DB], dataset, n)
        await client.close()

    asyncio.run(prepare())
    skip_history(GROUP_PREFIX)
    procs = [
        ServiceProcess(name, group_prefix=GROUP_PREFIX, db=DB, port_offset=200)
        for name in ("indexer", "api")
    ]
    try:
        for proc in procs:
            proc.start()
        api = procs[1]
        start = time.perf_counter()
        response = httpx.post(
            f"{api.base_url}/v1/datasets/{dataset}/tags/bulk",
            json={"add": ["bulk"], "where": {}},
            timeout=30,
        )
        response.raise_for_status()
        command = response.json()["command_id"]
        expanded_at: list[float] = []

        def done() -> bool:
            body = httpx.get(f"{api.base_url}/v1/commands/{command}", timeout=10).json()
            if body["matched"] == n and not expanded_at:
                expanded_at.append(time.perf_counter() - start)
            return bool(body["status"] == "done")

        wait_for("the bulk command to finish", done, timeout=900, interval=0.1)
        total = time.perf_counter() - start
        counts = httpx.get(f"{api.base_url}/v1/datasets/{dataset}/tags", timeout=10).json()
        assert counts["tags"][0] == {"tag": "bulk", "count": n}, counts["tags"][:2]
        visible = visibility_ms(api.base_url, dataset, 20)
    finally:
        for proc in procs:
            proc.stop()
    return {
        "images": n,
        "expanded_s": round(expanded_at[0], 2) if expanded_at else None,
        "done_s": round(total, 2),
        "images_per_s": round(n / total, 1),
        "patch_visible_ms": visible,
    }


def visibility_ms(base_url: str, dataset: str, samples: int) -> dict[str, float]:
    """PATCH one image at a time, at rest: ms from the 202 until the tag shows in its counts."""
    page = httpx.get(f"{base_url}/v1/datasets/{dataset}/images", params={"limit": samples})
    latencies = []
    for i, item in enumerate(page.json()["items"]):
        tag = f"seen-{i}"
        response = httpx.patch(f"{base_url}/v1/images/{item['id']}/tags", json={"add": [tag]})
        response.raise_for_status()
        accepted = time.perf_counter()
        while True:
            counts = httpx.get(f"{base_url}/v1/datasets/{dataset}/tags", timeout=10).json()
            if any(row["tag"] == tag for row in counts["tags"]):
                break
            time.sleep(0.005)
        latencies.append((time.perf_counter() - accepted) * 1000)
    return {
        "p50": round(statistics.median(latencies), 1),
        "max": round(max(latencies), 1),
        "samples": len(latencies),
    }


def main() -> None:
    """Run both tag benchmarks and print markdown plus JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--bulk", type=int, default=20_000)
    args = parser.parse_args()

    async def reads() -> list[dict[str, Any]]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL, tz_aware=True)
        await client.drop_database(DB)
        await migrate(client[DB])
        try:
            return await read_paths(
                client[DB], [int(s) for s in args.sizes.split(",")], args.repeats
            )
        finally:
            await client.close()

    rows = asyncio.run(reads())
    print(f"# tags bench: {platform.node()}, {platform.machine()}")
    print("| case | images | min ms | median ms |")
    print("|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['case']} | {row['images']:,} | {row['min_ms']:.2f} | {row['median_ms']:.2f} |"
        )
    bulk = bulk_throughput(args.bulk)
    print(
        f"bulk: {bulk['images']} images tagged in {bulk['done_s']} s = {bulk['images_per_s']} "
        f"images/s (selection expanded and published after {bulk['expanded_s']} s)"
    )
    seen = bulk["patch_visible_ms"]
    print(f"PATCH 202 -> visible in GET tags: p50 {seen['p50']} ms, max {seen['max']} ms")
    print(json.dumps({"bench": "tags", "reads": rows, "bulk": bulk}))


if __name__ == "__main__":
    main()
