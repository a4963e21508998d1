"""Image listing, random samples and lookup."""

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic_core import to_json

from assetflow.api.deps import (
    CallerDep,
    CursorsDep,
    ImagesDep,
    ListingFilterDep,
    ReadableDataset,
    WritableImage,
)
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.images import ImageDeleted, ImagePublic, ImagesPage, ImagesSample
from assetflow.readmodel.filters import scope_of

router = APIRouter(prefix="/v1")

# A path parameter cannot hold "/": an id with an (encoded) slash matches no route.
_NO_ROUTE = "no route matches, e.g. an id containing '/'"


def _json(body: Any) -> Response:
    """``body`` serialized here: FastAPI does not validate a returned Response again."""
    # response_model still documents the body; tests/unit/test_api_items.py holds the two
    # together. pydantic-core's to_json: ~4x faster than json.dumps on a page.
    return Response(to_json(body), media_type="application/json")


@router.get(
    "/datasets/{dataset_id}/images",
    response_model=ImagesPage,
    responses=problem_responses(400, 404, 422, 503, descriptions={404: _NO_ROUTE}),
)
async def list_dataset_images(
    dataset_id: ReadableDataset,
    images: ImagesDep,
    cursors: CursorsDep,
    listing: ListingFilterDep,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """List a dataset's images, newest first, one keyset page at a time."""
    scope = scope_of(dataset_id, listing)
    after = cursors.decode(cursor, scope) if cursor else None
    page = await images.page(dataset_id, listing, after, limit)
    next_cursor = cursors.encode(page.next_after, scope) if page.next_after else None
    return _json({"items": page.items, "next_cursor": next_cursor})


@router.get(
    "/datasets/{dataset_id}/sample",
    response_model=ImagesSample,
    responses=problem_responses(400, 404, 422, 503, descriptions={404: _NO_ROUTE}),
)
async def sample_dataset_images(
    dataset_id: ReadableDataset,
    images: ImagesDep,
    listing: ListingFilterDep,
    n: Annotated[int, Query(ge=1, le=100)] = 8,
    seed: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> Response:
    """n distinct live images at random (uniform), in time independent of the dataset's size."""
    seed = secrets.randbelow(2**53) if seed is None else seed
    items = await images.sample(dataset_id, listing, n, seed)
    return _json({"items": items, "seed": seed})


@router.get(
    "/images/{image_id}",
    response_model=ImagePublic,
    responses=problem_responses(404, 422, 503, descriptions={404: "no live image has this id"}),
)
async def get_image(image_id: str, images: ImagesDep, caller: CallerDep) -> Response:
    """One image by id."""
    return _json(await images.one(image_id, caller))


@router.delete(
    "/images/{image_id}",
    status_code=202,
    response_model=ImageDeleted,
    responses=problem_responses(
        404,
        422,
        503,
        descriptions={
            404: "no live image has this id (or it is already deleted)",
            503: "storage (or the database) is unavailable; retry later",
        },
    ),
)
async def delete_image(image_id: WritableImage, images: ImagesDep) -> ImageDeleted:
    """Delete an image's original from storage. Accepted: the index follows the bucket's
    notification, so listings, counts and duplicate groups drop it within seconds."""
    return ImageDeleted.model_validate(await images.delete(image_id))
