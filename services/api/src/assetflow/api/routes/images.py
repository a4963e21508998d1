"""Image listing, lookup and dataset stats."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from assetflow.api import repository
from assetflow.api.cursor import Position, listing_scope
from assetflow.api.deps import CursorsDep, ImagesDep, PresignerDep, SettingsDep
from assetflow.api.presign import Presigner
from assetflow.api.schemas import DatasetStats, ImagePublic, ImagesPage
from assetflow.common.errors import NotFoundError

router = APIRouter(prefix="/v1")


def to_public(doc: dict[str, Any], presigner: Presigner, expires_s: int) -> ImagePublic:
    """Document -> API item with a presigned URL of the original."""
    return ImagePublic(
        id=doc["_id"],
        dataset_id=doc["dataset_id"],
        key=doc["key"],
        path=doc["path"],
        folder=doc["folder"],
        file_name=doc["file_name"],
        size=doc["size"],
        content_type=doc.get("content_type"),
        etag=doc["etag"],
        uploaded_at=doc["uploaded_at"],
        url=presigner.presign_get(doc["bucket"], doc["key"], expires_s),
    )


@router.get("/datasets/{dataset_id}/images", response_model=ImagesPage)
async def list_dataset_images(
    dataset_id: str,
    images: ImagesDep,
    presigner: PresignerDep,
    cursors: CursorsDep,
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    folder: Annotated[str | None, Query(max_length=1024)] = None,
) -> ImagesPage:
    """List a dataset's images, newest first, one keyset page at a time."""
    page_size = limit or settings.api.default_limit
    if folder is not None:
        folder = folder.strip("/")
    scope = listing_scope(dataset_id, folder)
    after = cursors.decode(cursor, scope) if cursor else None
    docs, more = await repository.list_images(images, dataset_id, folder, after, page_size)
    expires = settings.api.presign_expires_s
    items = [to_public(doc, presigner, expires) for doc in docs]
    next_cursor = None
    if more and docs:
        last = docs[-1]
        next_cursor = cursors.encode(Position(last["uploaded_at"], last["_id"]), scope)
    return ImagesPage(items=items, next_cursor=next_cursor)


@router.get("/images/{image_id}", response_model=ImagePublic)
async def get_image(
    image_id: str, images: ImagesDep, presigner: PresignerDep, settings: SettingsDep
) -> ImagePublic:
    """One image by id."""
    doc = await repository.get_image(images, image_id)
    if doc is None:
        raise NotFoundError(f"no image with id {image_id!r}")
    return to_public(doc, presigner, settings.api.presign_expires_s)


@router.get("/datasets/{dataset_id}/stats", response_model=DatasetStats)
async def get_dataset_stats(dataset_id: str, images: ImagesDep) -> DatasetStats:
    """Image count and total bytes of a dataset."""
    count, total = await repository.dataset_stats(images, dataset_id)
    return DatasetStats(dataset_id=dataset_id, image_count=count, total_bytes=total)
