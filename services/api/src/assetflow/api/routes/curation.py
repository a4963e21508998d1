"""Curation: exact duplicates in a dataset, and images similar to one image."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic_core import to_json

from assetflow.api.deps import CurationDep, CursorsDep, ReadableDataset, ReadableImage
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.curation import (
    DuplicatesPage,
    NearDuplicateClusters,
    SimilarImages,
)
from assetflow.readmodel.similarity import MAX_DISTANCE

router = APIRouter(prefix="/v1")
_NO_ROUTE = "no route matches, e.g. an id containing '/'"


def _scope(dataset_id: str) -> str:
    return f'["duplicates",{to_json(dataset_id).decode()}]'


@router.get(
    "/datasets/{dataset_id}/duplicates",
    response_model=DuplicatesPage,
    responses=problem_responses(400, 404, 422, 503, descriptions={404: _NO_ROUTE}),
)
async def list_duplicates(
    dataset_id: ReadableDataset,
    curation: CurationDep,
    cursors: CursorsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Groups of live images with the same bytes (sha256), largest first, a page at a time."""
    scope = _scope(dataset_id)
    after = cursors.decode_key(cursor, scope) if cursor else None  # (count, sha256)
    page = await curation.duplicates(dataset_id, after, limit)
    next_cursor = cursors.encode_key(*page.next_after, scope) if page.next_after else None
    return Response(
        to_json({"items": page.groups, "next_cursor": next_cursor}),
        media_type="application/json",
    )


@router.get(
    "/images/{image_id}/similar",
    response_model=SimilarImages,
    responses=problem_responses(404, 422, 503, descriptions={404: "no live image has this id"}),
)
async def list_similar_images(
    image_id: ReadableImage,
    curation: CurationDep,
    k: Annotated[
        int, Query(ge=0, le=MAX_DISTANCE, description="largest Hamming distance, in bits")
    ] = 6,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Other images of the image's dataset whose pHash is within k bits of its, nearest first."""
    phash, items = await curation.similar(image_id, k, limit)
    body = {"image_id": image_id, "phash": phash, "k": k, "items": items}
    return Response(to_json(body), media_type="application/json")


@router.get(
    "/datasets/{dataset_id}/near-duplicates",
    response_model=NearDuplicateClusters,
    responses=problem_responses(404, 422, 503, descriptions={404: _NO_ROUTE}),
)
async def list_near_duplicate_clusters(
    dataset_id: ReadableDataset,
    curation: CurationDep,
    k: Annotated[
        int, Query(ge=0, le=MAX_DISTANCE, description="largest Hamming distance, in bits")
    ] = 6,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """Clusters of images whose pHashes are within k bits (transitively), largest first.

    Worked out from every live image of the dataset on each request (100k images in about a
    second, docs/benchmarks.md), so it is always current; page with ``offset``.
    """
    total, clustered, items = await curation.clusters(dataset_id, k, offset, limit)
    body = {"k": k, "clusters": total, "images": clustered, "offset": offset, "items": items}
    return Response(to_json(body), media_type="application/json")
