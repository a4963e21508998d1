"""Saved views: named listing filters of a dataset, written by the API."""

from datetime import datetime
from typing import Any, Final, TypedDict

from pymongo import ASCENDING, IndexModel

COLLECTION: Final = "views"
MAX_PER_DATASET: Final = 200


class V:
    """Field names of a view document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    NAME: Final = "name"
    WHERE: Final = "where"  # ListingFilter.as_json()
    CREATED_AT: Final = "created_at"
    UPDATED_AT: Final = "updated_at"


class ViewDocument(TypedDict):
    """A saved view as stored."""

    _id: str
    dataset_id: str
    name: str
    where: dict[str, Any]
    created_at: datetime
    updated_at: datetime


# A name is unique within its dataset; the same index lists a dataset's views by name.
INDEXES: Final = (
    IndexModel([(V.DATASET_ID, ASCENDING), (V.NAME, ASCENDING)], name="by_name", unique=True),
)
