"""The dataset catalog and per-dataset stats, served from the indexer's exact counters."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from assetflow.api.cursor import EPOCH, Position
from assetflow.api.deps import CallerDep, CursorsDep, DatasetsDep, ReadableDataset
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.datasets import (
    DatasetFolders,
    DatasetsPage,
    DatasetStats,
    FolderCount,
    StatusCounts,
)
from assetflow.api.schemas.quotas import QuotaLimits
from assetflow.domain.quotas import Quota, quota_of
from assetflow.readmodel import counters, datasets

router = APIRouter(prefix="/v1")
_SCOPE = '["datasets"]'


def to_stats(dataset_id: str, doc: dict[str, Any]) -> DatasetStats:
    """A dataset document's counters as the API shows them."""
    counts = counters.counts_of(doc)
    quota = quota_of(doc)
    return DatasetStats(
        dataset_id=dataset_id,
        image_count=counts.images,
        total_bytes=counts.bytes,
        statuses=StatusCounts(**counts.statuses),
        quota=None
        if quota == Quota()
        else QuotaLimits(max_bytes=quota.max_bytes, max_images=quota.max_images),
        updated_at=doc.get(datasets.F.UPDATED_AT),
    )


@router.get("/datasets", response_model=DatasetsPage, responses=problem_responses(400, 422, 503))
async def list_datasets(
    catalog: DatasetsDep,
    cursors: CursorsDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DatasetsPage:
    """The datasets the caller may read that hold live images, by id, with their counts."""
    after = cursors.decode(cursor, _SCOPE).id if cursor else None
    docs, more = await catalog.page(after, limit, caller.readable())
    next_cursor = None
    if more and docs:
        next_cursor = cursors.encode(Position(EPOCH, docs[-1][datasets.F.ID]), _SCOPE)
    items = [to_stats(doc[datasets.F.ID], doc) for doc in docs]
    return DatasetsPage(items=items, next_cursor=next_cursor)


@router.get(
    "/datasets/{dataset_id}/stats",
    response_model=DatasetStats,
    responses=problem_responses(
        404, 422, 503, descriptions={404: "no route matches, e.g. an id containing '/'"}
    ),
)
async def get_dataset_stats(dataset_id: ReadableDataset, catalog: DatasetsDep) -> DatasetStats:
    """Image count, bytes and status counts of a dataset (exact counters: no image is read)."""
    return to_stats(dataset_id, await catalog.summary(dataset_id))


@router.get(
    "/datasets/{dataset_id}/folders",
    response_model=DatasetFolders,
    responses=problem_responses(404, 422, 503),
)
async def get_dataset_folders(dataset_id: ReadableDataset, catalog: DatasetsDep) -> DatasetFolders:
    """A dataset's folders and their own image counts: O(number of folders), from counters."""
    folders = await catalog.folders(dataset_id)
    return DatasetFolders(
        dataset_id=dataset_id,
        folders=[FolderCount(folder=name, images=n) for name, n in folders.items()],
    )
