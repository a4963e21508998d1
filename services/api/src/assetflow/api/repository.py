"""Read-side queries on the image and dataset read models."""

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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

# A page is read through windows of upload time that widen until it fills. The embedded
# engine collects every match inside a query's index bounds before it applies the limit
# (measured: ~5 us per match; a 100k-image dataset's unbounded first page took ~470 ms),
# so an unbounded keyset query costs O(dataset). A window bounds that to O(images in it);
# on MongoDB each window is the same plain index range, so nothing is lost there.
FIRST_SPAN_MS = 2_000
GROWTH = 8
MIN_SPAN_MS = 1


class DatasetBounds:
    """Datasets' upload-time bounds (oldest, newest), each read at most once a second.

    Reading them is one of a listing page's two database round trips (~0.3 ms of the API's
    CPU). A stale value costs no exactness: the oldest only decides which window is the
    last, and the last window is open below; the newest anchors the first page's first
    window, which is open above. An unknown dataset is not remembered, so its first image
    lists at once.
    """

    def __init__(self, ttl_s: float = 1.0, max_datasets: int = 10_000) -> None:
        self._ttl_s = ttl_s
        self._max = max_datasets
        self._known: dict[str, tuple[float, datetime, datetime]] = {}

    async def get(self, db: Database, dataset_id: str) -> tuple[datetime, datetime] | None:
        """(oldest, newest) upload time of the dataset's images, or None if it has none."""
        now = time.monotonic()
        known = self._known.get(dataset_id)
        if known is not None and known[0] > now:
            return known[1], known[2]
        doc = await db[datasets.COLLECTION].find_one({datasets.F.ID: dataset_id}, _BOUNDS)
        if doc is None:
            return None
        if len(self._known) >= self._max:
            self._known.clear()
        oldest, newest = doc[datasets.F.OLDEST_UPLOAD], doc[datasets.F.NEWEST_UPLOAD]
        self._known[dataset_id] = (now + self._ttl_s, oldest, newest)
        return oldest, newest


_BOUNDS = {datasets.F.OLDEST_UPLOAD: 1, datasets.F.NEWEST_UPLOAD: 1}


@dataclass(frozen=True, slots=True)
class Page:
    """Up to ``limit`` documents, whether more follow, and the window width that ended it."""

    docs: list[dict[str, Any]]
    more: bool
    span_ms: int


def _window_filter(
    prefix: dict[str, Any],
    lower: datetime | None,
    upper: datetime | None,
    after: Position | None,
) -> dict[str, Any]:
    """Images in ``[lower, upper)`` of upload time, plus the cursor's own timestamp ties."""
    bounds: dict[str, Any] = {}
    if lower is not None:
        bounds["$gte"] = lower
    if upper is not None:
        bounds["$lt"] = upper
    branches = [prefix | ({F.UPLOADED_AT: bounds} if bounds else {})]
    if after is not None and upper == after.uploaded_at:
        # The equality prefix is repeated in each branch: only then does the embedded engine
        # read each branch as one bounded index range (else it scans the whole prefix).
        branches.append(prefix | {F.UPLOADED_AT: after.uploaded_at, F.ID: {"$lt": after.id}})
    return branches[0] if len(branches) == 1 else {"$or": branches}


async def list_images(
    db: Database,
    dataset_id: str,
    listing: ListingFilter,
    after: Position | None,
    limit: int,
    bounds: DatasetBounds | None = None,
) -> Page:
    """Up to ``limit`` live images, newest first, strictly after ``after``."""
    found_bounds = await (bounds or DatasetBounds(ttl_s=0)).get(db, dataset_id)
    if found_bounds is None:
        return Page([], False, 0)
    oldest, newest = found_bounds
    prefixes, residual = listing.query_parts(dataset_id)

    # With a residual, a window is read whole and filtered here (the limit would cut rows
    # before the filter); the window's width bounds what that reads.
    def fetch(query: dict[str, Any], wanted: int) -> Any:
        found = db[images.COLLECTION].find(query, PROJECTION).sort(images.LISTING_ORDER)
        return found.to_list() if residual else found.limit(wanted).to_list()

    span = timedelta(milliseconds=(after.span_ms if after and after.span_ms else FIRST_SPAN_MS))
    # The first page's first window is open above: an image indexed after the bounds were
    # read may be newer than ``newest_upload``.
    upper: datetime | None = after.uploaded_at if after else None
    anchor: datetime = after.uploaded_at if after else newest
    docs: list[dict[str, Any]] = []
    windows = 0
    while True:
        windows += 1
        last = anchor - oldest <= span  # this window reaches the oldest image
        lower = None if last else anchor - span
        wanted = limit + 1 - len(docs)
        branches = [fetch(_window_filter(p, lower, upper, after), wanted) for p in prefixes]
        rows = await asyncio.gather(*branches)
        if residual:
            rows = [[doc for doc in branch if listing.residual_match(doc)] for branch in rows]
        docs.extend(_merged(rows, wanted))
        if len(docs) > limit or last:
            break
        upper = anchor = anchor - span
        span *= GROWTH
    # A page filled by its first window may have read more than it needed: start the next
    # one narrower. Otherwise the window that filled it is about the right width.
    span_ms = span // timedelta(milliseconds=1)
    if windows == 1 and len(docs) > limit:
        span_ms = max(MIN_SPAN_MS, span_ms // 2)
    return Page(docs[:limit], len(docs) > limit, span_ms)


def _merged(branches: list[list[dict[str, Any]]], limit: int) -> list[dict[str, Any]]:
    """Branches (each in listing order) merged into one, without repeats, up to ``limit``."""
    if len(branches) == 1:
        return branches[0]
    # An image with several of the wanted tags comes back from each of their branches.
    unique = {doc[F.ID]: doc for branch in branches for doc in branch}
    ordered = sorted(unique.values(), key=lambda d: (d[F.UPLOADED_AT], d[F.ID]), reverse=True)
    return ordered[:limit]


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
        width = min(1.0, width * GROWTH)
    return None
