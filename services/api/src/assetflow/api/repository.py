"""Read-side queries on the image and dataset read models."""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.cursor import Position
from assetflow.api.filters import ListingFilter
from assetflow.common import counters, datasets, images
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
) -> Page:
    """Up to ``limit`` live images, newest first, strictly after ``after``."""
    bounds = await db[datasets.COLLECTION].find_one({datasets.F.ID: dataset_id})
    if bounds is None:
        return Page([], False, 0)
    oldest: datetime = bounds[datasets.F.OLDEST_UPLOAD]
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
    anchor: datetime = after.uploaded_at if after else bounds[datasets.F.NEWEST_UPLOAD]
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


async def dataset_counts(db: Database, dataset_id: str) -> counters.DatasetCounts:
    """A dataset's counters as the indexer keeps them: O(number of tags), no image read."""
    return await counters.stored_counts(db, dataset_id)


async def dataset_summary(db: Database, dataset_id: str) -> dict[str, Any]:
    """A dataset's document (counters, bounds); empty if the indexer never saw it."""
    return await db[datasets.COLLECTION].find_one({datasets.F.ID: dataset_id}) or {}


async def list_datasets(
    db: Database, after_id: str | None, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Datasets with live images, by id, strictly after ``after_id``; and whether more follow."""
    query: dict[str, Any] = {datasets.F.IMAGES: {"$gt": 0}}
    if after_id is not None:
        query[datasets.F.ID] = {"$gt": after_id}
    found = db[datasets.COLLECTION].find(query).sort(datasets.F.ID, 1).limit(limit + 1)
    docs = await found.to_list()
    return docs[:limit], len(docs) > limit
