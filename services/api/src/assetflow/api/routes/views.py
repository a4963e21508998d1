"""Saved views: named filters of a dataset (CRUD); ``?view=<id>`` opens one anywhere."""

from fastapi import APIRouter, Response

from assetflow.api.deps import ReadableDataset, ViewsDep, WritableDataset
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.tags import Filter
from assetflow.api.schemas.views import ViewList, ViewPublic, ViewRequest
from assetflow.api.services.views import filter_of
from assetflow.readmodel.views import V, ViewDocument

router = APIRouter(prefix="/v1")
_NO_VIEW = "no such dataset, or no view with this id in it"


def _public(doc: ViewDocument, count: int | None = None) -> ViewPublic:
    where = {key: value for key, value in doc[V.WHERE].items() if value is not None}
    return ViewPublic(
        id=doc[V.ID],
        dataset_id=doc[V.DATASET_ID],
        name=doc[V.NAME],
        where=Filter.model_validate(where, strict=False),
        created_at=doc[V.CREATED_AT],
        updated_at=doc[V.UPDATED_AT],
        count=count,
    )


@router.post(
    "/datasets/{dataset_id}/views",
    status_code=201,
    response_model=ViewPublic,
    responses=problem_responses(400, 409, 422, 503),
)
async def create_view(
    dataset_id: WritableDataset, body: ViewRequest, views: ViewsDep
) -> ViewPublic:
    """Save a named filter (names are unique per dataset)."""
    return _public(await views.create(dataset_id, body.name, body.where.listing()))


@router.get(
    "/datasets/{dataset_id}/views",
    response_model=ViewList,
    responses=problem_responses(422, 503),
)
async def list_views(dataset_id: ReadableDataset, views: ViewsDep) -> ViewList:
    """The dataset's saved views, by name."""
    return ViewList(items=[_public(doc) for doc in await views.list(dataset_id)])


@router.get(
    "/datasets/{dataset_id}/views/{view_id}",
    response_model=ViewPublic,
    responses=problem_responses(404, 422, 503, descriptions={404: _NO_VIEW}),
)
async def get_view(dataset_id: ReadableDataset, view_id: str, views: ViewsDep) -> ViewPublic:
    """A saved view, with how many live images it selects now."""
    doc = await views.get(dataset_id, view_id)
    return _public(doc, await views.count(dataset_id, filter_of(doc)))


@router.put(
    "/datasets/{dataset_id}/views/{view_id}",
    response_model=ViewPublic,
    responses=problem_responses(400, 404, 409, 422, 503, descriptions={404: _NO_VIEW}),
)
async def update_view(
    dataset_id: WritableDataset, view_id: str, body: ViewRequest, views: ViewsDep
) -> ViewPublic:
    """Rename a view and/or change its filter."""
    return _public(await views.update(dataset_id, view_id, body.name, body.where.listing()))


@router.delete(
    "/datasets/{dataset_id}/views/{view_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(404, 422, 503, descriptions={404: _NO_VIEW}),
)
async def delete_view(dataset_id: WritableDataset, view_id: str, views: ViewsDep) -> Response:
    """Delete a saved view."""
    await views.delete(dataset_id, view_id)
    return Response(status_code=204)
