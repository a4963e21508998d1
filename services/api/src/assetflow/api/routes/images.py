"""Image listing and lookup."""

import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic_core import to_json

from assetflow.api import repository
from assetflow.api.auth import CallerDep, ReadableDataset, require_visible
from assetflow.api.cursor import Position
from assetflow.api.deps import CursorsDep, DbDep, PresignerDep, SettingsDep
from assetflow.api.observability import count_item_urls
from assetflow.api.problems import problem_responses
from assetflow.api.schemas import ImagePublic, ImagesPage, ImagesSample, rfc3339_ms
from assetflow.api.settings import ApiOptions
from assetflow.common.errors import NotFoundError
from assetflow.common.events import ImageStatus
from assetflow.common.filters import ListingFilter, Match, scope_of
from assetflow.common.images import F
from assetflow.common.presign import Presigner
from assetflow.common.tags import TAG_LIST_PATTERN

router = APIRouter(prefix="/v1")
Signer = Callable[[str, str], str]  # (bucket, key) -> presigned GET URL

# A path parameter cannot hold "/": an id with an (encoded) slash matches no route.
_NO_ROUTE = "no route matches, e.g. an id containing '/'"


async def _listing_filter(
    folder: Annotated[str | None, Query(max_length=1024)] = None,
    status: Annotated[ImageStatus | None, Query(description="only images in this state")] = None,
    tags: Annotated[
        str | None,
        Query(
            max_length=4000,
            pattern=TAG_LIST_PATTERN,
            description="comma-separated tags, e.g. cat,dog (normalised like stored tags)",
        ),
    ] = None,
    match: Annotated[Match, Query(description="all: every tag; any: at least one")] = "all",
    untagged: Annotated[bool, Query(description="only images without tags")] = False,
) -> ListingFilter:
    return ListingFilter.parse(folder, status, tags, match, untagged)


ListingFilterDep = Annotated[ListingFilter, Depends(_listing_filter)]


def _json(body: Any) -> Response:
    """``body`` serialized here: FastAPI does not validate a returned Response again."""
    # response_model still documents the body; tests/unit/test_api_items.py holds the two
    # together. pydantic-core's to_json: ~4x faster than json.dumps on a page.
    return Response(to_json(body), media_type="application/json")


def signers(presigner: Presigner, options: ApiOptions) -> tuple[Signer, Signer]:
    """One response's signers: originals short-lived, renditions (immutable) longer."""
    original = presigner.signer(options.presign_expires_s)
    if options.rendition_url_period_s:
        # Stable for the period: a browser keeps the thumbs it fetched across listings.
        period = options.rendition_url_period_s
        return original, presigner.stable_signer(options.rendition_url_expires_s, period)
    if options.rendition_url_expires_s == options.presign_expires_s:
        return original, original
    return original, presigner.signer(options.rendition_url_expires_s)


def to_public(
    doc: dict[str, Any], sign: Signer, sign_rendition: Signer | None = None
) -> dict[str, Any]:
    """Document -> API item (ImagePublic's JSON shape) with presigned URLs of its files."""
    # A plain dict, not an ImagePublic: validating and then serializing each item through
    # pydantic cost 13 % of a listing's CPU, for documents our own indexer wrote.
    exif = doc.get("exif") or {}
    renditions = doc.get("renditions")
    thumb_url = preview_url = None
    sign_rendition = sign_rendition or sign
    if renditions:  # absent until thumbnailed, and for rejected / failed images
        if thumb := renditions.get("thumb"):
            thumb_url = sign_rendition(renditions["bucket"], thumb["key"])
        if preview := renditions.get("preview"):
            preview_url = sign_rendition(renditions["bucket"], preview["key"])
    return {
        "id": doc["_id"],
        "dataset_id": doc["dataset_id"],
        "key": doc["key"],
        "path": doc["path"],
        "folder": doc["folder"],
        "file_name": doc["file_name"],
        "size": doc["size"],
        "content_type": doc.get("content_type"),
        "etag": doc["etag"],
        "uploaded_at": rfc3339_ms(doc["uploaded_at"]),
        "url": sign(doc["bucket"], doc["key"]),
        "status": doc.get("status") or "pending",
        "status_reason": doc.get("status_reason"),
        "width": doc.get("width"),
        "height": doc.get("height"),
        "thumbhash": doc.get("thumbhash"),
        "captured_at": exif.get("captured_at"),
        "camera": camera_name(exif.get("make"), exif.get("model")),
        "thumb_url": thumb_url,
        "preview_url": preview_url,
        "tags": doc.get("tags") or [],
    }


async def public_items(
    db: Any, presigner: Presigner, options: ApiOptions, image_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Live images by id as API items, URLs signed (for live events)."""
    if not image_ids:
        return {}
    sign, sign_rendition = signers(presigner, options)
    docs = await repository.get_images(db, image_ids)
    return {doc[F.ID]: to_public(doc, sign, sign_rendition) for doc in docs}


def camera_name(make: str | None, model: str | None) -> str | None:
    """'Canon' + 'Canon EOS R5' -> 'Canon EOS R5'; 'SONY' + 'ILCE-7M3' -> 'SONY ILCE-7M3'."""
    if not model:
        return make or None
    if not make or model.lower().startswith(make.lower()):
        return model
    return f"{make} {model}"


@router.get(
    "/datasets/{dataset_id}/images",
    response_model=ImagesPage,
    responses=problem_responses(400, 404, 422, 503, descriptions={404: _NO_ROUTE}),
)
async def list_dataset_images(
    dataset_id: ReadableDataset,
    db: DbDep,
    presigner: PresignerDep,
    cursors: CursorsDep,
    settings: SettingsDep,
    listing: ListingFilterDep,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """List a dataset's images, newest first, one keyset page at a time."""
    page_size = limit or settings.api.default_limit
    scope = scope_of(dataset_id, listing)
    after = cursors.decode(cursor, scope) if cursor else None
    page = await repository.list_images(db, dataset_id, listing, after, page_size)
    sign, sign_rendition = signers(presigner, settings.api)
    items = [to_public(doc, sign, sign_rendition) for doc in page.docs]
    count_item_urls(items)
    next_cursor = None
    if page.more and page.docs:
        last = page.docs[-1]
        position = Position(last[F.UPLOADED_AT], last[F.ID])
        next_cursor = cursors.encode(position, scope)
    return _json({"items": items, "next_cursor": next_cursor})


@router.get(
    "/datasets/{dataset_id}/sample",
    response_model=ImagesSample,
    responses=problem_responses(400, 404, 422, 503, descriptions={404: _NO_ROUTE}),
)
async def sample_dataset_images(
    dataset_id: ReadableDataset,
    db: DbDep,
    presigner: PresignerDep,
    settings: SettingsDep,
    listing: ListingFilterDep,
    n: Annotated[int, Query(ge=1, le=100)] = 8,
    seed: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> Response:
    """n distinct live images at random (uniform), in time independent of the dataset's size."""
    seed = secrets.randbelow(2**53) if seed is None else seed
    docs = await repository.sample_images(db, dataset_id, listing, n, seed)
    sign, sign_rendition = signers(presigner, settings.api)
    items = [to_public(doc, sign, sign_rendition) for doc in docs]
    count_item_urls(items)
    return _json({"items": items, "seed": seed})


@router.get(
    "/images/{image_id}",
    response_model=ImagePublic,
    responses=problem_responses(404, 422, 503, descriptions={404: "no live image has this id"}),
)
async def get_image(
    image_id: str, db: DbDep, presigner: PresignerDep, settings: SettingsDep, caller: CallerDep
) -> Response:
    """One image by id."""
    doc = await repository.get_image(db, image_id)
    if doc is None:
        raise NotFoundError(f"no image with id {image_id!r}")
    require_visible(caller, doc[F.DATASET_ID], f"image with id {image_id!r}")
    item = to_public(doc, *signers(presigner, settings.api))
    count_item_urls([item])
    return _json(item)
