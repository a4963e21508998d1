"""Random samples of a dataset's live images, read through the sample index."""

import asyncio
import random
from typing import Any

from assetflow.api.services import Database
from assetflow.api.services.listing import PROJECTION
from assetflow.readmodel import counters, images
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import F

# A dataset this small is read whole and sampled exactly.
SMALL_DATASET = 2_000
# Bucket rejection: [0, 1) is cut into one bucket per image; a draw picks a bucket and
# accepts it with probability occupancy / BUCKET_CAP, then one of its images, so each image
# is picked with probability 1 / (buckets * BUCKET_CAP): exactly uniform (a bucket holding
# more than 4 images, p ~ 0.4 % with uniform keys, is slightly under-sampled).
BUCKET_CAP = 4
DRAWS_PER_ROUND = 32
# A filtered sample reads windows of about this many images (then x8) from a random point.
SAMPLE_WINDOW_IMAGES = 8


async def sample_images(
    db: Database, dataset_id: str, listing: ListingFilter, n: int, seed: int
) -> list[dict[str, Any]]:
    """Up to ``n`` distinct live images picked at random; the same seed, the same sample.

    Every read is a bounded range of the sample index, so the cost does not grow with the
    dataset. Unfiltered: exactly uniform (bucket rejection). With filters on a large
    dataset: the first selected image at or after a random point of the keys, which picks
    an image in proportion to the key gap before it (uniform on average, not exactly).
    """
    count = (await counters.stored_counts(db, dataset_id)).images
    if count == 0:
        return []
    rng = random.Random(seed)
    base = {F.DATASET_ID: dataset_id, F.DELETED: False}
    if count <= SMALL_DATASET:
        found = db[images.COLLECTION].find(base, PROJECTION).sort(F.SAMPLE_KEY, 1)
        selected = [doc for doc in await found.to_list() if listing.matches(doc)]
        return rng.sample(selected, min(n, len(selected)))
    if listing == ListingFilter():
        return await _bucket_sample(db, base, n, count, rng)
    picked: dict[str, dict[str, Any]] = {}
    while len(picked) < n:
        doc = await _first_from(db, base, listing, rng.random(), count, picked)
        if doc is None:  # nothing more in the whole circle that the filter selects
            break
        picked[doc[F.ID]] = doc
    return list(picked.values())


async def _bucket_sample(
    db: Database, base: dict[str, Any], n: int, count: int, rng: random.Random
) -> list[dict[str, Any]]:
    picked: dict[str, dict[str, Any]] = {}
    for _ in range(n * BUCKET_CAP * 8 // DRAWS_PER_ROUND + 1):
        draws = [(rng.randrange(count), rng.random(), rng.random()) for _ in range(DRAWS_PER_ROUND)]
        reads = [
            db[images.COLLECTION]
            .find(base | {F.SAMPLE_KEY: {"$gte": b / count, "$lt": (b + 1) / count}}, PROJECTION)
            .sort(F.SAMPLE_KEY, 1)
            .to_list()
            for b, _, _ in draws
        ]
        for (_, accept, which), docs in zip(draws, await asyncio.gather(*reads), strict=True):
            docs = [doc for doc in docs if doc[F.ID] not in picked]
            if docs and accept < len(docs) / BUCKET_CAP and len(picked) < n:
                doc = docs[min(len(docs) - 1, int(which * len(docs)))]
                picked[doc[F.ID]] = doc
        if len(picked) >= n:
            break
    return list(picked.values())


async def _first_from(
    db: Database,
    base: dict[str, Any],
    listing: ListingFilter,
    start: float,
    count: int,
    skip: dict[str, Any],
) -> dict[str, Any] | None:
    """The first selected, unpicked image with ``sample_key`` >= start, wrapping once."""
    width = min(1.0, SAMPLE_WINDOW_IMAGES / count)
    low, covered = start, 0.0
    while covered < 1.0:
        high = min(1.0, low + width)
        query = base | {F.SAMPLE_KEY: {"$gte": low, "$lt": high}}
        found = db[images.COLLECTION].find(query, PROJECTION).sort(F.SAMPLE_KEY, 1)
        for doc in await found.to_list():
            if doc[F.ID] not in skip and listing.matches(doc):
                return doc
        covered += high - low
        low = 0.0 if high >= 1.0 else high
        width = min(1.0, width * 8)
    return None
