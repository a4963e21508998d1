"""A zip of a dataset's selection streamed from storage to the client (the "download" button)."""

import re
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from stream_zip import ZIP_AUTO, async_stream_zip

from assetflow.api.auth import ReadableDataset
from assetflow.api.deps import DbDep, SettingsDep
from assetflow.api.problems import problem_responses
from assetflow.api.routes.images import ListingFilterDep
from assetflow.api.routes.media import CHUNK, S3Dep
from assetflow.common import images
from assetflow.common.filters import ListingFilter
from assetflow.common.images import F

router = APIRouter(prefix="/v1")
_MODE = stat.S_IFREG | 0o644
_FIELDS = {F.KEY: 1, F.PATH: 1, F.SIZE: 1, F.FOLDER: 1, F.STATUS: 1, F.TAGS: 1, F.UPLOADED_AT: 1}
MemberFile = tuple[str, datetime, int, Any, AsyncIterator[bytes]]


@router.get(
    "/datasets/{dataset_id}/archive",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "images/<path> of each image"},
        **problem_responses(400, 422, 503),
    },
)
async def dataset_archive(
    dataset_id: ReadableDataset,
    listing: ListingFilterDep,
    db: DbDep,
    s3: S3Dep,
    settings: SettingsDep,
) -> StreamingResponse:
    """Every live image the filters select, zipped as it streams from storage.

    Constant memory and no temporary files: one image's chunk at a time passes through, so
    the response has no Content-Length. Entries are deflated at level 0 (stored blocks):
    images are compressed already, and the zip stays a plain stream.
    """
    members = _members(db, s3, settings.s3.bucket, dataset_id, listing)
    headers = {"Content-Disposition": attachment(f"{dataset_id}.zip")}
    return StreamingResponse(
        async_stream_zip(members),
        media_type="application/zip",
        headers=headers,
    )


def attachment(name: str) -> str:
    """A Content-Disposition for ``name``: an ASCII fallback plus the exact UTF-8 name."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def _members(
    db: Any, s3: Any, bucket: str, dataset_id: str, listing: ListingFilter
) -> AsyncIterator[MemberFile]:
    query = images.live_in_key_order(bucket, dataset_id) | listing.conditions()
    async for doc in db[images.COLLECTION].find(query, _FIELDS).sort(F.KEY, 1):
        modified = doc.get(F.UPLOADED_AT) or datetime.now(UTC)
        yield (
            f"images/{doc[F.PATH]}",
            modified,
            _MODE,
            ZIP_AUTO(int(doc[F.SIZE]), level=0),
            _chunks(s3, bucket, doc[F.KEY]),
        )


async def _chunks(s3: Any, bucket: str, key: str) -> AsyncIterator[bytes]:
    try:
        stored = await s3.get_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError):
        return  # deleted since it was listed: an empty entry, the stream goes on
    body = stored["Body"]
    try:
        async for chunk in body.iter_chunks(CHUNK):
            yield chunk
    finally:
        body.close()
