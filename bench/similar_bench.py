"""Near-duplicate queries against dataset size on MongoDB (run via `make bench`).

Seeds datasets of 100k and 1M images (the indexer's document shape with a uniformly
random pHash and its band keys, written with ``insert_many``; every hundredth image also
gets three near copies, 1-6 bits away), then times ``Curation.similar`` (the API's service:
the band probes on the ``similar`` index, the verification, the items' fetch and signing)
for random images at k = 3, 6 and 10, and reads each query's plan (index keys examined; the
candidate read is covered, no document examined).
Reported per k: p50 / p90 ms at each size, candidates examined, and the growth ratio of
the largest size's p50 to the smallest's. Then the dataset-wide near-duplicate clusters
(``Curation.clusters``) at each size and k, in seconds. A query that scanned the dataset would grow
10x; the band index reads only the images that share a probed band key, which for
uniform hashes is 4 x C(16, <= k // 4) / 65,536 of the dataset (0.006 %, 0.1 %, 0.8 %).
"""

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.services.curation import Curation
from assetflow.api.settings import ApiOptions
from assetflow.contracts.events import ObjectCreated
from assetflow.contracts.sequencer import normalize_sequencer
from assetflow.readmodel import images, similarity
from assetflow.readmodel.images import F
from assetflow.storage.presign import Presigner
from tests.support.stack import fresh_bench_database

DB = "assetflow_bench_similar"
NOW = datetime(2026, 12, 4, tzinfo=UTC)
BATCH = 20_000
KS = (3, 6, 10)

Db = AsyncDatabase[dict[str, Any]]


def _near(rng: random.Random, phash: int) -> int:
    for bit in rng.sample(range(64), rng.randint(1, 6)):
        phash ^= 1 << bit
    return phash


async def seed(db: Db, n: int, rng: random.Random) -> tuple[str, list[str]]:
    """A ready dataset of ``n`` images; returns its id and the ids of images with near copies."""
    dataset_id = f"ds-{n}"
    with_copies: list[str] = []
    base = 0
    for lo in range(0, n, BATCH):
        docs = []
        for i in range(lo, min(n, lo + BATCH)):
            # Images 1-3 of each hundred are near copies of image 0.
            phash = _near(rng, base) if i % 100 in (1, 2, 3) else rng.getrandbits(64)
            if i % 100 == 0:
                base = phash
            event = ObjectCreated(
                bucket="datasets",
                key=f"{dataset_id}/images/{i:07d}.jpg",
                dataset_id=dataset_id,
                path=f"{i:07d}.jpg",
                event_time=NOW - timedelta(seconds=i),
                sequencer=normalize_sequencer(f"{i + 1:X}"),
                size=1000 + i,
                etag=f"{i:032x}",
                content_type="image/jpeg",
            )
            doc: dict[str, Any] = dict(images.new_document(event, event.image_id, NOW))
            text = f"{phash:016x}"
            doc |= {F.STATUS: "ready", F.PHASH: text, F.PHASH_BANDS: similarity.bands(text)}
            if i % 100 == 0:
                with_copies.append(event.image_id)
            docs.append(doc)
        await db[images.COLLECTION].insert_many(docs, ordered=False)
    return dataset_id, with_copies


async def candidates(db: Db, dataset_id: str, image_id: str, k: int) -> int:
    """Index keys the query's candidate read examines (from ``explain``)."""
    doc = await db[images.COLLECTION].find_one({F.ID: image_id})
    assert doc is not None
    query = {
        F.DATASET_ID: dataset_id,
        F.DELETED: False,
        F.PHASH_BANDS: {"$in": similarity.probe_keys(doc[F.PHASH], k)},
    }
    found = db[images.COLLECTION].find(query, {F.PHASH: 1})
    plan = await found.hint(images.SIMILAR_INDEX).explain()
    stats = plan["executionStats"]
    assert stats["totalDocsExamined"] == 0, "the candidate read should be covered by the index"
    return int(stats["totalKeysExamined"])


async def clustering(
    curation: Curation, seeded: dict[int, tuple[str, list[str]]], sizes: list[int]
) -> None:
    """Time the dataset-wide clusters (``Curation.clusters``: every pHash read, clustered in
    memory, the first page's items fetched and signed), median of 3, per k."""
    print()
    print(f"| clusters, k | {' | '.join(f'{n:,}: s (clusters)' for n in sizes)} | growth |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for k in KS:
        cells, medians = [], []
        for n in sizes:
            dataset_id, with_copies = seeded[n]
            samples = []
            for _ in range(3):
                start = time.perf_counter()
                total, _, _ = await curation.clusters(dataset_id, k, 0, 20)
                samples.append(time.perf_counter() - start)
            # Every planted group of 4 (an image and 3 copies within 6 bits) is found.
            assert k < 6 or total >= 0.99 * len(with_copies), (k, n, total)
            medians.append(statistics.median(samples))
            cells.append(f"{medians[-1]:.2f} ({total:,})")
        print(f"| {k} | {' | '.join(cells)} | {medians[-1] / medians[0]:.2f} |", flush=True)


async def main() -> None:
    """Seed, measure, print a markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    client = await fresh_bench_database(DB, "similar")
    db = client[DB]
    presigner = Presigner(endpoint_url="http://127.0.0.1:9000", access_key="ak", secret_key="sk")
    curation = Curation(db, presigner, ApiOptions())
    rng = random.Random(22)
    print(f"# similar bench: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs")
    try:
        seeded = {}
        for n in sizes:
            start = time.perf_counter()
            seeded[n] = await seed(db, n, rng)
            print(f"<!-- seeded {n:,} in {time.perf_counter() - start:.1f}s -->", flush=True)
        head = " | ".join(f"{n:,}: p50 / p90 ms (keys)" for n in sizes)
        print(f"| k | {head} | {sizes[-1]:,} / {sizes[0]:,} (p50) |")
        print("|---|" + "---|" * (len(sizes) + 1))
        for k in KS:
            cells, medians = [], []
            for n in sizes:
                dataset_id, ids = seeded[n]
                queried = rng.sample(ids, min(args.queries, len(ids)))
                await curation.similar(queried[0], k, 50)  # warm-up
                samples, found = [], 0
                for image_id in queried:
                    start = time.perf_counter()
                    _, items = await curation.similar(image_id, k, 50)
                    samples.append((time.perf_counter() - start) * 1000)
                    found += len(items)
                keys = statistics.median(
                    [await candidates(db, dataset_id, i, k) for i in queried[:20]]
                )
                p50 = statistics.median(samples)
                p90 = statistics.quantiles(samples, n=10)[-1]
                cells.append(f"{p50:.2f} / {p90:.2f} ({keys:,.0f})")
                medians.append(p50)
                # Every planted copy within k is found (copies are 1-6 bits away).
                assert k < 6 or found >= 3 * len(queried), (k, n, found)
            ratio = medians[-1] / medians[0]
            print(f"| {k} | {' | '.join(cells)} | {ratio:.2f} |", flush=True)
        await clustering(curation, seeded, sizes)
    finally:
        await client.drop_database(DB)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
