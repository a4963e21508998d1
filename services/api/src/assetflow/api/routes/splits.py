"""Splits: assign (by ratios, by folder, by hand), count, and report groups that leak."""

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from pydantic_core import to_json

from assetflow.api.deps import (
    CurationDep,
    ReadableDataset,
    TaggingDep,
    ViewsDep,
    WritableDataset,
)
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.splits import (
    ByFolders,
    ByHand,
    LeakageReport,
    SplitCounts,
    SplitRequest,
)
from assetflow.api.schemas.tags import CommandAccepted
from assetflow.contracts.errors import InvalidRequestError
from assetflow.domain.splits import InvalidSplitError, check_ratios
from assetflow.readmodel.similarity import MAX_DISTANCE

router = APIRouter(prefix="/v1")


@router.post(
    "/datasets/{dataset_id}/splits",
    status_code=202,
    response_model=CommandAccepted,
    responses=problem_responses(400, 404, 422, 503),
)
async def assign_splits(
    dataset_id: WritableDataset,
    body: Annotated[SplitRequest, Body()],
    tagging: TaggingDep,
    views: ViewsDep,
) -> CommandAccepted:
    """Put images in train, val or test; follow the command at ``GET /v1/commands/{id}``.

    ``ratios``: every live image, deterministic from the seed and its path, duplicate groups
    kept together; ``folders``: images under each folder; ``manual``: by ids or a filter.
    """
    if isinstance(body, ByHand):
        if (body.ids is None) == (body.where is None):
            raise InvalidRequestError("give exactly one of 'ids' and 'where'")
        if body.ids is not None:
            command_id = await tagging.move_ids(dataset_id, body.split, body.ids)
        else:
            assert body.where is not None
            where = await views.resolve(dataset_id, body.where.view, body.where.listing())
            command_id = await tagging.move_where(dataset_id, body.split, where)
    elif isinstance(body, ByFolders):
        command_id = await tagging.move_by_plan(dataset_id, body.model_dump())
    else:
        try:
            check_ratios(body.ratios.model_dump())
        except InvalidSplitError as exc:
            raise InvalidRequestError(str(exc)) from None
        command_id = await tagging.move_by_plan(dataset_id, body.model_dump())
    return CommandAccepted(command_id=command_id)


@router.get(
    "/datasets/{dataset_id}/splits",
    response_model=SplitCounts,
    responses=problem_responses(404, 422, 503),
)
async def split_counts(dataset_id: ReadableDataset, curation: CurationDep) -> SplitCounts:
    """Live images per split: exact counters, O(1)."""
    return SplitCounts(dataset_id=dataset_id, **await curation.split_counts(dataset_id))


@router.get(
    "/datasets/{dataset_id}/splits/leakage",
    response_model=LeakageReport,
    responses=problem_responses(404, 422, 503),
)
async def split_leakage(
    dataset_id: ReadableDataset,
    curation: CurationDep,
    k: Annotated[
        int, Query(ge=0, le=MAX_DISTANCE, description="near duplicates: pHash distance in bits")
    ] = 6,
) -> Response:
    """Exact and near-duplicate groups whose images are in more than one split."""
    groups, leaks, items = await curation.leakage(dataset_id, k)
    body = {"dataset_id": dataset_id, "k": k, "groups": groups, "leaks": leaks, "items": items}
    return Response(to_json(body), media_type="application/json")
