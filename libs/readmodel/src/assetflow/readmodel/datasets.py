"""The dataset read model: one document per dataset, kept by the indexer.

It holds exact counters of the dataset's live images (kept with the tag counters, see
``counters``) and the quota an admin set (``quota``: written by the API with ``$set`` /
``$unset``; the indexer only ``$inc``s counters and ``$max``es ``updated_at``, so it never
overwrites it). Documents written before 2026-12 also hold ``oldest_upload`` /
``newest_upload``, upload-time bounds the listing's windows needed; nothing reads them now.
"""

from datetime import datetime
from typing import Any, Final, TypedDict

from pymongo import ASCENDING, IndexModel

COLLECTION: Final = "datasets"


class F:
    """Field names of a dataset document."""

    ID: Final = "_id"
    IMAGES: Final = "images"
    BYTES: Final = "bytes"
    UNTAGGED: Final = "untagged"
    STATUSES: Final = "statuses"
    SPLITS: Final = "splits"  # live images per split (train, val, test); the rest are in none
    UPDATED_AT: Final = "updated_at"
    QUOTA: Final = "quota"  # absent: unlimited


class Q:
    """Field names of a dataset's quota (a limit left out is unlimited)."""

    MAX_BYTES: Final = "max_bytes"
    MAX_IMAGES: Final = "max_images"


class QuotaDocument(TypedDict, total=False):
    """The limits an admin set on a dataset's live bytes and images."""

    max_bytes: int
    max_images: int


class DatasetDocument(TypedDict, total=False):
    """A dataset document as stored (counters appear with the first change that moves them)."""

    _id: str
    images: int
    bytes: int
    untagged: int
    statuses: dict[str, int]
    splits: dict[str, int]
    updated_at: datetime
    quota: QuotaDocument


# The indexer's quota report reads only the datasets that have a quota, through this index.
INDEXES: Final = (
    IndexModel(
        [(F.QUOTA, ASCENDING)],
        name="with_quota",
        partialFilterExpression={F.QUOTA: {"$exists": True}},
    ),
)
WITH_QUOTA: Final = {F.QUOTA: {"$exists": True}}


def quota_update(max_bytes: int | None, max_images: int | None) -> dict[str, Any]:
    """The update that sets a dataset's quota (no limit at all removes it)."""
    limits = {Q.MAX_BYTES: max_bytes, Q.MAX_IMAGES: max_images}
    quota = {name: value for name, value in limits.items() if value is not None}
    return {"$set": {F.QUOTA: quota}} if quota else {"$unset": {F.QUOTA: ""}}
