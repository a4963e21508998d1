"""Read-side queries on the image and dataset read models."""

import asyncio
import random
from dataclasses import dataclass, replace
from typing import Any

from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.cursor import Position
from assetflow.common import counters, datasets, images
from assetflow.common.filters import ListingFilter
from assetflow.common.images import F

Database = AsyncDatabase[dict[str, Any]]
PROJECTION = {
    F.SEQUENCER: 0,
    F.INDEXED_AT: 0,
    F.DELETED_AT: 0,
    F.THUMBNAILED_AT: 0,
    F.TAG_COMMANDS: 0,
}


@dataclass(frozen=True, slots=True)
class Page:
    """Up to ``limit`` documents and whether more follow."""

    docs: list[dict[str, Any]]
    more: bool


def after_position(after: Position) -> dict[str, Any]:
    """``(uploaded_at, _id) < after`` as one index range: upload time up to the cursor's,
    and the cursor's own timestamp ties (a handful) skipped by their id."""
    return {
        F.UPLOADED_AT: {"$lte": after.uploaded_at},
        "$or": [{F.UPLOADED_AT: {"$lt": after.uploaded_at}}, {F.ID: {"$lt": after.id}}],
    }


async def listing_cursor(
    db: Database,
    dataset_id: str,
    listing: ListingFilter,
    after: Position | None,
    limit: int,
) -> AsyncCursor[dict[str, Any]]:
    """The one keyset query a listing page runs (``explain`` it to see its plan)."""
    if listing.match == "all" and len(listing.tags) > 1:
        listing = replace(listing, tags=await _rarest_first(db, dataset_id, listing.tags))
    query = listing.query(dataset_id)
    if after is not None:
        query |= after_position(after)
    return (
        db[images.COLLECTION]
        .find(query, PROJECTION)
        .sort(images.LISTING_ORDER)
        .hint(listing.index())
        .limit(limit + 1)
    )


async def _rarest_first(db: Database, dataset_id: str, tags: tuple[str, ...]) -> tuple[str, ...]:
    """The tags ordered by how many images carry them, fewest first.

    ``$all`` reads the range of its first tag and checks the others on each row, so a page
    reads about ``limit`` x (images with the first tag / images with them all) entries:
    leading with the rarest tag keeps that smallest (measured in the plan test: 151 -> 51
    keys for a page of 50 of "cat" and "dog" on 20k images).
    """
    ids = [counters.tag_count_id(dataset_id, tag) for tag in tags]
    found = db[counters.TAG_COUNTS].find({counters.T.ID: {"$in": ids}})
    known = {doc[counters.T.TAG]: int(doc[counters.T.COUNT]) async for doc in found}
    return tuple(sorted(tags, key=lambda tag: known.get(tag, 0)))


async def list_images(
    db: Database,
    dataset_id: str,
    listing: ListingFilter,
    after: Position | None,
    limit: int,
) -> Page:
    """Up to ``limit`` live images, newest first, strictly after ``after``.

    One keyset query on the listing index that serves the filter: it reads ``limit + 1``
    index entries whatever the dataset's size (tests/integration/test_listing_plans.py).
    """
    found = await listing_cursor(db, dataset_id, listing, after, limit)
    docs = await found.to_list()
    return Page(docs[:limit], len(docs) > limit)


async def get_image(db: Database, image_id: str) -> dict[str, Any] | None:
    """One live image document by id."""
    return await db[images.COLLECTION].find_one({F.ID: image_id, F.DELETED: False}, PROJECTION)


async def get_images(db: Database, image_ids: list[str]) -> list[dict[str, Any]]:
    """The live images among ``image_ids`` (any order)."""
    found = db[images.COLLECTION].find({F.ID: {"$in": image_ids}, F.DELETED: False}, PROJECTION)
    return await found.to_list()


async def dataset_counts(db: Database, dataset_id: str) -> counters.DatasetCounts:
    """A dataset's counters as the indexer keeps them: O(number of tags), no image read."""
    return await counters.stored_counts(db, dataset_id)


async def dataset_summary(db: Database, dataset_id: str) -> dict[str, Any]:
    """A dataset's document (counters, bounds); empty if the indexer never saw it."""
    return await db[datasets.COLLECTION].find_one({datasets.F.ID: dataset_id}) or {}


async def list_datasets(
    db: Database, after_id: str | None, limit: int, only: set[str] | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Datasets with live images, by id, strictly after ``after_id`` (and among ``only``, if
    given); and whether more follow."""
    query: dict[str, Any] = {datasets.F.IMAGES: {"$gt": 0}}
    ids: dict[str, Any] = {}
    if after_id is not None:
        ids["$gt"] = after_id
    if only is not None:
        ids["$in"] = sorted(only)
    if ids:
        query[datasets.F.ID] = ids
    found = db[datasets.COLLECTION].find(query).sort(datasets.F.ID, 1).limit(limit + 1)
    docs = await found.to_list()
    return docs[:limit], len(docs) > limit


# Sampling. A dataset this small is read whole and sampled exactly.
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
