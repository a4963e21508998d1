"""Read-side queries on the image index."""

from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from assetflow.api.cursor import Position

Collection = AsyncCollection[dict[str, Any]]
IMAGES = "images"
LISTING_SORT = [("uploaded_at", DESCENDING), ("_id", DESCENDING)]
PROJECTION = {"sequencer": 0, "indexed_at": 0, "deleted_at": 0}


def listing_filter(dataset_id: str, folder: str | None, after: Position | None) -> dict[str, Any]:
    """Filter for one page: live images of a dataset (or folder) strictly after ``after``."""
    query: dict[str, Any] = {"dataset_id": dataset_id, "deleted": False}
    if folder is not None:
        query["folder"] = folder
    if after is not None:
        query["$or"] = [
            {"uploaded_at": {"$lt": after.uploaded_at}},
            {"uploaded_at": after.uploaded_at, "_id": {"$lt": after.id}},
        ]
    return query


async def list_images(
    images: Collection, dataset_id: str, folder: str | None, after: Position | None, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` documents, newest first, and whether more follow."""
    cursor = (
        images.find(listing_filter(dataset_id, folder, after), PROJECTION)
        .sort(LISTING_SORT)
        .limit(limit + 1)
    )
    docs = await cursor.to_list(length=limit + 1)
    return docs[:limit], len(docs) > limit


async def get_image(images: Collection, image_id: str) -> dict[str, Any] | None:
    """One live image document by id."""
    return await images.find_one({"_id": image_id, "deleted": False}, PROJECTION)


async def dataset_stats(images: Collection, dataset_id: str) -> tuple[int, int]:
    """(image count, total bytes) over a dataset's live images."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"dataset_id": dataset_id, "deleted": False}},
        {"$group": {"_id": None, "count": {"$sum": 1}, "bytes": {"$sum": "$size"}}},
    ]
    async for row in await images.aggregate(pipeline):
        return int(row["count"]), int(row["bytes"])
    return 0, 0
