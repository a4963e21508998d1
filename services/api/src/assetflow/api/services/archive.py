"""A zip of a dataset's selection, streamed from storage (the "download" button)."""

import stat
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from typing import Any

from stream_zip import ZIP_AUTO, async_stream_zip

from assetflow.api.services import Database
from assetflow.api.services.storage import object_chunks
from assetflow.readmodel import images
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import F

_MODE = stat.S_IFREG | 0o644
_FIELDS = {F.KEY: 1, F.PATH: 1, F.SIZE: 1, F.FOLDER: 1, F.STATUS: 1, F.TAGS: 1, F.UPLOADED_AT: 1}
MemberFile = tuple[str, datetime, int, Any, AsyncIterator[bytes]]


class Archive:
    """Zips the live images a filter selects, one stored chunk at a time."""

    def __init__(self, db: Database, s3: Any, bucket: str) -> None:
        self._db = db
        self._s3 = s3
        self._bucket = bucket

    def zip(self, dataset_id: str, listing: ListingFilter) -> AsyncIterable[bytes]:
        """The zip's bytes, ``images/<path>`` per image, in key order.

        Constant memory and no temporary files: one image's chunk at a time passes through.
        Entries are deflated at level 0 (stored blocks): images are compressed already, and
        the zip stays a plain stream.
        """
        return async_stream_zip(self._members(dataset_id, listing))

    async def _members(self, dataset_id: str, listing: ListingFilter) -> AsyncIterator[MemberFile]:
        query = images.live_in_key_order(self._bucket, dataset_id) | listing.conditions()
        async for doc in self._db[images.COLLECTION].find(query, _FIELDS).sort(F.KEY, 1):
            modified = doc.get(F.UPLOADED_AT) or datetime.now(UTC)
            yield (
                f"images/{doc[F.PATH]}",
                modified,
                _MODE,
                ZIP_AUTO(int(doc[F.SIZE]), level=0),
                object_chunks(self._s3, self._bucket, doc[F.KEY]),
            )
