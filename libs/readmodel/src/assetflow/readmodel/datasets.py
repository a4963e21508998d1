"""The dataset read model: one document per dataset, kept by the indexer.

It holds exact counters of the dataset's live images (kept with the tag counters, see
``counters``). Documents written before 2026-12 also hold ``oldest_upload`` /
``newest_upload``, upload-time bounds the listing's windows needed; nothing reads them now.
"""

from datetime import datetime
from typing import Final, TypedDict

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


class DatasetDocument(TypedDict, total=False):
    """A dataset document as stored (counters appear with the first change that moves them)."""

    _id: str
    images: int
    bytes: int
    untagged: int
    statuses: dict[str, int]
    splits: dict[str, int]
    updated_at: datetime
