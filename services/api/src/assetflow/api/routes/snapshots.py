"""Snapshot requests, versions with presigned downloads, and the diff between two versions."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse

from assetflow.api.deps import (
    CallerDep,
    ReadableDataset,
    SnapshotsDep,
    ViewsDep,
    WritableDataset,
)
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.snapshots import (
    Accepted,
    DiffEntry,
    Progress,
    SnapshotList,
    SnapshotPublic,
    SnapshotRequest,
)
from assetflow.readmodel.snapshots import S

router = APIRouter(prefix="/v1")
Ref = Annotated[
    str,
    Path(
        pattern=r"^(latest|v?[0-9]{1,9})$",
        description="a version number (3 or v3) or 'latest'",
    ),
]


def public(doc: dict[str, Any], url: str | None = None) -> SnapshotPublic:
    """A snapshot document as the API shows it."""
    return SnapshotPublic(
        snapshot_id=doc[S.ID],
        dataset_id=doc[S.DATASET_ID],
        status=doc[S.STATUS],
        format=doc[S.FORMAT],
        where=doc.get(S.WHERE) or {},
        version=doc.get(S.VERSION),
        based_on=doc.get(S.BASED_ON),
        content_id=doc.get(S.CONTENT_ID),
        images=int(doc.get(S.IMAGES_TOTAL) or 0),
        bytes=int(doc.get(S.BYTES_TOTAL) or 0),
        shapes=int(doc.get(S.SHAPES) or 0),
        size=doc.get(S.SIZE),
        reason=doc.get(S.REASON),
        progress=Progress(
            images_done=int(doc.get(S.IMAGES_DONE) or 0),
            images_total=int(doc.get(S.IMAGES_TOTAL) or 0),
            bytes_done=int(doc.get(S.BYTES_DONE) or 0),
            bytes_total=int(doc.get(S.BYTES_TOTAL) or 0),
        ),
        created_at=doc[S.CREATED_AT],
        finished_at=doc.get(S.FINISHED_AT),
        url=url,
    )


@router.post(
    "/datasets/{dataset_id}/snapshots",
    status_code=202,
    response_model=Accepted,
    responses=problem_responses(400, 422, 503),
)
async def request_snapshot(
    dataset_id: WritableDataset, body: SnapshotRequest, snapshots: SnapshotsDep, views: ViewsDep
) -> Accepted:
    """Request a snapshot; the snapshotter builds it (or finds it unchanged) in the background."""
    listing = await views.resolve(dataset_id, body.where.view, body.where.listing())
    snapshot_id = await snapshots.request(dataset_id, body.format, listing)
    return Accepted(snapshot_id=snapshot_id, status="queued")


@router.get(
    "/snapshots/{snapshot_id}",
    response_model=SnapshotPublic,
    responses=problem_responses(404, 422, 503),
)
async def snapshot_status(
    snapshot_id: str, snapshots: SnapshotsDep, caller: CallerDep
) -> SnapshotPublic:
    """A snapshot request: its status, progress and (once built) version."""
    return public(await snapshots.status(snapshot_id, caller))


@router.get(
    "/datasets/{dataset_id}/snapshots",
    response_model=SnapshotList,
    responses=problem_responses(422, 503),
)
async def list_snapshots(dataset_id: ReadableDataset, snapshots: SnapshotsDep) -> SnapshotList:
    """The dataset's versions, newest first."""
    return SnapshotList(items=[public(doc) for doc in await snapshots.versions(dataset_id)])


@router.get(
    "/datasets/{dataset_id}/snapshots/{ref}",
    response_model=SnapshotPublic,
    responses=problem_responses(404, 422, 503),
)
async def get_snapshot(
    dataset_id: ReadableDataset, ref: Ref, snapshots: SnapshotsDep
) -> SnapshotPublic:
    """A version (or the latest) with a presigned GET of its zip (Range makes it resumable)."""
    doc, url = await snapshots.download(dataset_id, ref)
    return public(doc, url)


@router.get(
    "/datasets/{dataset_id}/snapshots/{a}/diff/{b}",
    response_model=list[DiffEntry],
    responses=problem_responses(404, 422, 503),
)
async def diff_snapshots(
    dataset_id: ReadableDataset, a: Ref, b: Ref, snapshots: SnapshotsDep
) -> StreamingResponse:
    """Images added, removed or changed from version ``a`` to ``b``, streamed in path order."""
    entries = await snapshots.diff(dataset_id, a, b)

    async def body() -> AsyncIterator[bytes]:
        yield b"["
        first = True
        async for entry in entries:
            yield (b"" if first else b",") + entry.model_dump_json().encode()
            first = False
        yield b"]"

    return StreamingResponse(body(), media_type="application/json")
