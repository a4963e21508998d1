"""The dataset catalog, stats and folders, read from the indexer's exact counters."""

from typing import Any

from assetflow.api.services import Database
from assetflow.readmodel import counters, datasets


class Datasets:
    """Reads the dataset documents and folder counters (no image is read)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def page(
        self, after_id: str | None, limit: int, only: set[str] | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Datasets with live images, by id, strictly after ``after_id`` (and among ``only``,
        if given); and whether more follow."""
        query: dict[str, Any] = {datasets.F.IMAGES: {"$gt": 0}}
        ids: dict[str, Any] = {}
        if after_id is not None:
            ids["$gt"] = after_id
        if only is not None:
            ids["$in"] = sorted(only)
        if ids:
            query[datasets.F.ID] = ids
        found = self._db[datasets.COLLECTION].find(query).sort(datasets.F.ID, 1).limit(limit + 1)
        docs = await found.to_list()
        return docs[:limit], len(docs) > limit

    async def summary(self, dataset_id: str) -> dict[str, Any]:
        """A dataset's document (counters, bounds); empty if the indexer never saw it."""
        return await self._db[datasets.COLLECTION].find_one({datasets.F.ID: dataset_id}) or {}

    async def folders(self, dataset_id: str) -> dict[str, int]:
        """A dataset's folders and their own image counts: O(number of folders)."""
        return await counters.stored_folders(self._db, dataset_id)
