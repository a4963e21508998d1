"""Read-side queries on the image index."""

import asyncio
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from assetflow.api.cursor import Position

Collection = AsyncCollection[dict[str, Any]]
LISTING_SORT = [("uploaded_at", DESCENDING), ("_id", DESCENDING)]
PROJECTION = {"sequencer": 0, "indexed_at": 0, "deleted_at": 0, "thumbnailed_at": 0}


def listing_filter(
    dataset_id: str, folder: str | None, after: Position | None, status: str | None = None
) -> dict[str, Any]:
    """Filter for one page: live images of a dataset (folder, status) strictly after ``after``."""
    query: dict[str, Any] = {"dataset_id": dataset_id, "deleted": False}
    if folder is not None:
        query["folder"] = folder
    if status is not None:
        query["status"] = status
    if after is not None:
        query["$or"] = [
            {"uploaded_at": {"$lt": after.uploaded_at}},
            {"uploaded_at": after.uploaded_at, "_id": {"$lt": after.id}},
        ]
    return query


async def list_images(
    images: Collection,
    dataset_id: str,
    folder: str | None,
    after: Position | None,
    limit: int,
    status: str | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` documents, newest first, and whether more follow."""
    cursor = (
        images.find(listing_filter(dataset_id, folder, after, status), PROJECTION)
        .sort(LISTING_SORT)
        .limit(limit + 1)
    )
    docs = await cursor.to_list(length=limit + 1)
    return docs[:limit], len(docs) > limit


async def get_image(images: Collection, image_id: str) -> dict[str, Any] | None:
    """One live image document by id."""
    # Filter on _id alone (the one filter every backend serves from an index), then check.
    doc = await images.find_one({"_id": image_id}, PROJECTION)
    return doc if doc is not None and doc.get("deleted") is False else None


async def dataset_stats(images: Collection, dataset_id: str) -> tuple[int, int]:
    """(image count, total bytes) over a dataset's live images."""
    match = {"$match": {"dataset_id": dataset_id, "deleted": False}}

    async def total(expression: Any) -> int:
        pipeline: list[dict[str, Any]] = [
            match,
            {"$group": {"_id": None, "v": {"$sum": expression}}},
        ]
        async for row in await images.aggregate(pipeline):
            return int(row["v"])
        return 0

    # One accumulator per $group: FerretDB 1.24 returns 0 for every accumulator after the first.
    count, size = await asyncio.gather(total(1), total("$size"))
    return count, size
