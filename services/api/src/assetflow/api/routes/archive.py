"""A zip of a dataset's selection streamed from storage to the client (the "download" button)."""

import re
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from assetflow.api.deps import ArchiveDep, ListingFilterDep, ReadableDataset
from assetflow.api.problems import problem_responses

router = APIRouter(prefix="/v1")


@router.get(
    "/datasets/{dataset_id}/archive",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "images/<path> of each image"},
        **problem_responses(400, 422, 503),
    },
)
async def dataset_archive(
    dataset_id: ReadableDataset, listing: ListingFilterDep, archive: ArchiveDep
) -> StreamingResponse:
    """Every live image the filters select, zipped as it streams from storage.

    Constant memory and no temporary files: one image's chunk at a time passes through, so
    the response has no Content-Length. Entries are deflated at level 0 (stored blocks):
    images are compressed already, and the zip stays a plain stream.
    """
    headers = {"Content-Disposition": attachment(f"{dataset_id}.zip")}
    return StreamingResponse(
        archive.zip(dataset_id, listing),
        media_type="application/zip",
        headers=headers,
    )


def attachment(name: str) -> str:
    """A Content-Disposition for ``name``: an ASCII fallback plus the exact UTF-8 name."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
