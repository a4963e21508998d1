"""Share links: read-only, expiring links to a dataset or a saved view, written by the API.

A link's secret token is never stored: only its sha256 (``TOKEN_HASH``), which is what a
request is looked up by, so a copy of the database opens no link.
"""

from datetime import datetime
from typing import Any, Final, TypedDict

from pymongo import ASCENDING, DESCENDING, IndexModel

COLLECTION: Final = "shares"
MAX_PER_DATASET: Final = 500
RETENTION_S: Final = 30 * 24 * 3600
"""An expired link's document is dropped this long after it expired (it 404s from the start)."""


class S:
    """Field names of a share document."""

    ID: Final = "_id"
    TOKEN_HASH: Final = "token_hash"  # sha256 hex of the link's token
    DATASET_ID: Final = "dataset_id"
    VIEW_ID: Final = "view_id"  # the saved view it was made from, or None: the whole dataset
    WHERE: Final = "where"  # ListingFilter.as_json(), copied from the view at creation
    EXPIRES_AT: Final = "expires_at"
    ALLOW_ORIGINALS: Final = "allow_originals"
    PASSWORD_HASH: Final = "password_hash"  # scrypt (api/sharing.py), or None: no password
    CREATED_BY: Final = "created_by"
    CREATED_AT: Final = "created_at"
    REVOKED_AT: Final = "revoked_at"


class ShareDocument(TypedDict):
    """A share link as stored."""

    _id: str
    token_hash: str
    dataset_id: str
    view_id: str | None
    where: dict[str, Any]
    expires_at: datetime
    allow_originals: bool
    password_hash: str | None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


INDEXES: Final = (
    IndexModel([(S.TOKEN_HASH, ASCENDING)], name="by_token_hash", unique=True),
    IndexModel([(S.DATASET_ID, ASCENDING), (S.CREATED_AT, DESCENDING)], name="by_dataset"),
    # MongoDB drops a document once expires_at + RETENTION_S has passed; the API refuses the
    # link from expires_at on, so the TTL monitor's own delay (a minute) never matters.
    IndexModel([(S.EXPIRES_AT, ASCENDING)], name="expiry", expireAfterSeconds=RETENTION_S),
)
