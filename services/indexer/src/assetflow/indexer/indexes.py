"""Indexes the listing queries need, created idempotently at start-up."""

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

LISTING_INDEXES = [
    IndexModel(
        [
            ("dataset_id", ASCENDING),
            ("deleted", ASCENDING),
            ("uploaded_at", DESCENDING),
            ("_id", DESCENDING),
        ],
        name="listing",
    ),
    IndexModel(
        [
            ("dataset_id", ASCENDING),
            ("deleted", ASCENDING),
            ("folder", ASCENDING),
            ("uploaded_at", DESCENDING),
            ("_id", DESCENDING),
        ],
        name="listing_by_folder",
    ),
    IndexModel(
        [
            ("dataset_id", ASCENDING),
            ("deleted", ASCENDING),
            ("status", ASCENDING),
            ("uploaded_at", DESCENDING),
            ("_id", DESCENDING),
        ],
        name="listing_by_status",
    ),
]


async def ensure_indexes(collection: AsyncCollection[dict[str, Any]]) -> list[str]:
    """Create the listing indexes if missing; returns their names."""
    # One per command: FerretDB 1.24 panics on a multi-index createIndexes whose
    # indexes all exist already (measured); one at a time is idempotent everywhere.
    return [name for model in LISTING_INDEXES for name in await collection.create_indexes([model])]
