"""Image listing, lookup and dataset stats."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from assetflow.api import repository
from assetflow.api.cursor import Position, listing_scope
from assetflow.api.deps import CursorsDep, ImagesDep, PresignerDep, SettingsDep
from assetflow.api.presign import Presigner
from assetflow.api.schemas import DatasetStats, ImagePublic, ImagesPage
from assetflow.common.errors import NotFoundError
from assetflow.common.events import ImageStatus

router = APIRouter(prefix="/v1")


def to_public(doc: dict[str, Any], presigner: Presigner, expires_s: int) -> ImagePublic:
    """Document -> API item with presigned URLs of the original and its renditions."""
    exif = doc.get("exif") or {}
    renditions = doc.get("renditions")
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
        status=doc.get("status") or "pending",
        status_reason=doc.get("status_reason"),
        width=doc.get("width"),
        height=doc.get("height"),
        thumbhash=doc.get("thumbhash"),
        captured_at=exif.get("captured_at"),
        camera=camera_name(exif.get("make"), exif.get("model")),
        thumb_url=_rendition_url(renditions, "thumb", presigner, expires_s),
        preview_url=_rendition_url(renditions, "preview", presigner, expires_s),
    )


def camera_name(make: str | None, model: str | None) -> str | None:
    """'Canon' + 'Canon EOS R5' -> 'Canon EOS R5'; 'SONY' + 'ILCE-7M3' -> 'SONY ILCE-7M3'."""
    if not model:
        return make or None
    if not make or model.lower().startswith(make.lower()):
        return model
    return f"{make} {model}"


def _rendition_url(
    renditions: dict[str, Any] | None, name: str, presigner: Presigner, expires_s: int
) -> str | None:
    if not renditions or not renditions.get(name):
        return None  # not thumbnailed (yet), or rejected
    return presigner.presign_get(renditions["bucket"], renditions[name]["key"], expires_s)


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
    status: Annotated[ImageStatus | None, Query(description="only images in this state")] = None,
) -> ImagesPage:
    """List a dataset's images, newest first, one keyset page at a time."""
    page_size = limit or settings.api.default_limit
    if folder is not None:
        folder = folder.strip("/")
    scope = listing_scope(dataset_id, folder, status)
    after = cursors.decode(cursor, scope) if cursor else None
    docs, more = await repository.list_images(images, dataset_id, folder, after, page_size, status)
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
