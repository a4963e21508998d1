"""Direct uploads: presigned PUT, or multipart with per-part URLs, resume, complete, abort."""

from typing import Any

from fastapi import APIRouter, Response

from assetflow.api.deps import UploadsDep, WritableDataset
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.quotas import QuotaProblem
from assetflow.api.schemas.uploads import (
    CompleteBody,
    Completed,
    UploadBody,
    UploadProgress,
    UploadStarted,
)

router = APIRouter(prefix="/v1")
_ERRORS = problem_responses(400, 404, 422, 503)
# 409, not 413 or 403: the request itself is small and allowed (413 is about its own body,
# 403 about the token); it conflicts with the dataset's state, its usage against its quota,
# which a delete or a raised quota resolves, so the same request may succeed later.
_OVER_QUOTA = problem_responses(
    409,
    model=QuotaProblem,
    descriptions={409: "the upload would take the dataset past its quota (quota and usage)"},
)


@router.post(
    "/datasets/{dataset_id}/uploads",
    status_code=201,
    response_model=UploadStarted,
    responses=_ERRORS | _OVER_QUOTA,
)
async def start_upload(
    dataset_id: WritableDataset, body: UploadBody, uploads: UploadsDep
) -> dict[str, Any]:
    """Start an upload: one presigned PUT, or a multipart upload above the threshold; refused
    (409) before anything is signed if it would take the dataset past its quota."""
    return await uploads.start(
        dataset_id, body.path, body.size, body.content_type, body.tags, body.target
    )


@router.get(
    "/datasets/{dataset_id}/uploads/{upload_id}",
    response_model=UploadProgress,
    responses=_ERRORS,
)
async def get_upload(
    dataset_id: WritableDataset, upload_id: str, uploads: UploadsDep
) -> dict[str, Any]:
    """The parts stored so far (resume after a dropped connection)."""
    return await uploads.parts(dataset_id, upload_id)


@router.post(
    "/datasets/{dataset_id}/uploads/{upload_id}/complete",
    response_model=Completed,
    responses=_ERRORS,
)
async def complete_upload(
    dataset_id: WritableDataset, upload_id: str, body: CompleteBody, uploads: UploadsDep
) -> Completed:
    """Assemble the parts into the object."""
    etags = {part.number: part.etag for part in body.parts}
    return Completed(key=await uploads.complete(dataset_id, upload_id, etags))


@router.delete(
    "/datasets/{dataset_id}/uploads/{upload_id}",
    status_code=204,
    response_class=Response,
    responses=_ERRORS,
)
async def abort_upload(
    dataset_id: WritableDataset, upload_id: str, uploads: UploadsDep
) -> Response:
    """Abort: storage drops every part stored so far."""
    await uploads.abort(dataset_id, upload_id)
    return Response(status_code=204)
