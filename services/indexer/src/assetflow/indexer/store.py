"""The image index as the indexer's batch logic reaches it: a small port and its MongoDB adapter."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from assetflow.indexer.writes import BatchResult, apply_changes
from assetflow.platform.decoding import ObjectChange
from assetflow.readmodel import images
from assetflow.readmodel.changes import MEMBERSHIP_FIELDS


class ImageIndex(Protocol):
    """What ``index_batch`` needs of the database (tests use an in-memory fake)."""

    async def apply(self, changes: Sequence[ObjectChange]) -> BatchResult:
        """Apply a batch in offset order, all or nothing; raises TransientError on an outage,
        InvalidEventError (or another permanent error) for changes that can never apply."""
        ...

    async def memberships(self, image_ids: Collection[str]) -> list[dict[str, Any]]:
        """The stored images among ``image_ids``, with ``_id`` and ``MEMBERSHIP_FIELDS``."""
        ...


@dataclass(frozen=True, slots=True)
class MongoImageIndex:
    """The image index in MongoDB: one transaction per batch (see ``writes.apply_changes``)."""

    db: AsyncDatabase[dict[str, Any]]

    async def apply(self, changes: Sequence[ObjectChange]) -> BatchResult:
        """Apply a batch with its counters in one transaction."""
        return await apply_changes(self.db, changes)

    async def memberships(self, image_ids: Collection[str]) -> list[dict[str, Any]]:
        """One query by ``_id`` over the images collection."""
        query = {images.F.ID: {"$in": list(image_ids)}}
        return await self.db[images.COLLECTION].find(query, MEMBERSHIP_FIELDS).to_list()
