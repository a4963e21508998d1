"""The dataset read model: one document per dataset, kept by the indexer.

It holds exact counters of the dataset's live images (kept with the tag counters, see
``counters``) and the range of upload times its images span. A listing uses it to
anchor its first window (no image is newer than ``newest_upload`` when the document was
written) and to know when a window has reached the oldest image. Both bounds only ever
widen (``$min`` / ``$max``), so replays and out-of-order batches cannot make them wrong;
after deletions they may be wider than the live images, which costs a listing one more
(empty) window, never an image.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Final, TypedDict

from pymongo import UpdateOne

from assetflow.contracts.events import ObjectCreated

COLLECTION: Final = "datasets"


class F:
    """Field names of a dataset document."""

    ID: Final = "_id"
    OLDEST_UPLOAD: Final = "oldest_upload"
    NEWEST_UPLOAD: Final = "newest_upload"
    IMAGES: Final = "images"
    BYTES: Final = "bytes"
    UNTAGGED: Final = "untagged"
    STATUSES: Final = "statuses"
    UPDATED_AT: Final = "updated_at"


class DatasetDocument(TypedDict, total=False):
    """A dataset document as stored (counters appear with the first change that moves them)."""

    _id: str
    oldest_upload: datetime
    newest_upload: datetime
    images: int
    bytes: int
    untagged: int
    statuses: dict[str, int]
    updated_at: datetime


def upload_bounds_updates(events: Iterable[ObjectCreated]) -> list[UpdateOne]:
    """One upsert per dataset widening its upload-time bounds to cover these events."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for event in events:
        low, high = spans.get(event.dataset_id, (event.event_time, event.event_time))
        spans[event.dataset_id] = (min(low, event.event_time), max(high, event.event_time))
    return [
        UpdateOne(
            {F.ID: dataset_id},
            {"$min": {F.OLDEST_UPLOAD: low}, "$max": {F.NEWEST_UPLOAD: high}},
            upsert=True,
        )
        for dataset_id, (low, high) in spans.items()
    ]
