"""Snapshot requests, versions with presigned downloads, and the diff between two versions."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from pymongo import DESCENDING

from assetflow.api.auth import CallerDep, ReadableDataset, WritableDataset, find_visible
from assetflow.api.deps import DbDep, PresignerDep, PublisherDep, SettingsDep
from assetflow.api.observability import PRESIGNED
from assetflow.api.problems import problem_responses
from assetflow.api.publishing import accept
from assetflow.api.routes.tags import Where
from assetflow.common import snapshots
from assetflow.common.errors import NotFoundError
from assetflow.common.filters import ListingFilter
from assetflow.common.snapshots import CreateSnapshot, ManifestEntry, S, SnapshotFormat

router = APIRouter(prefix="/v1")
Ref = Annotated[
    str,
    Path(
        pattern=r"^(latest|v?[0-9]{1,9})$",
        description="a version number (3 or v3) or 'latest'",
    ),
]


class SnapshotRequest(BaseModel):
    """What to snapshot: every live image the filter selects, with its annotations."""

    model_config = ConfigDict(extra="forbid")

    format: SnapshotFormat = "coco"
    where: Where = Field(default_factory=Where)


class Accepted(BaseModel):
    """A snapshot request was recorded and its command published."""

    snapshot_id: str
    status: Literal["queued"]


class Progress(BaseModel):
    """How far a build is."""

    images_done: int
    images_total: int
    bytes_done: int
    bytes_total: int


class SnapshotPublic(BaseModel):
    """A snapshot request or version; ``url`` (presigned) only on a version's own resource."""

    snapshot_id: str
    dataset_id: str
    status: snapshots.SnapshotStatus
    format: SnapshotFormat
    where: dict[str, Any]
    version: int | None = Field(description="the version built (ready), or being built")
    based_on: int | None = Field(description="unchanged: the existing version it equals")
    content_id: str | None
    images: int
    bytes: int
    shapes: int
    size: int | None = Field(description="bytes of the zip")
    reason: str | None
    progress: Progress
    created_at: datetime
    finished_at: datetime | None
    url: str | None = None


class SnapshotList(BaseModel):
    """Ready versions, newest first."""

    items: list[SnapshotPublic]


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
    dataset_id: WritableDataset, body: SnapshotRequest, db: DbDep, publisher: PublisherDep
) -> Accepted:
    """Request a snapshot; the snapshotter builds it (or finds it unchanged) in the background."""
    where = body.where
    listing = ListingFilter.parse(
        where.folder, where.status, ",".join(where.tags) or None, where.match, where.untagged
    )
    now = datetime.now(UTC)
    snapshot_id = uuid.uuid4().hex
    doc = {S.ID: snapshot_id, S.FORMAT: body.format, S.WHERE: listing.as_json()}
    command = CreateSnapshot(snapshot_id=snapshot_id, dataset_id=dataset_id, requested_at=now)
    await accept(db[snapshots.COLLECTION], doc, publisher, command)
    return Accepted(snapshot_id=snapshot_id, status="queued")


@router.get(
    "/snapshots/{snapshot_id}",
    response_model=SnapshotPublic,
    responses=problem_responses(404, 422, 503),
)
async def snapshot_status(snapshot_id: str, db: DbDep, caller: CallerDep) -> SnapshotPublic:
    """A snapshot request: its status, progress and (once built) version."""
    collection = db[snapshots.COLLECTION]
    return public(
        await find_visible(collection, snapshot_id, caller, f"snapshot request {snapshot_id!r}")
    )


@router.get(
    "/datasets/{dataset_id}/snapshots",
    response_model=SnapshotList,
    responses=problem_responses(422, 503),
)
async def list_snapshots(dataset_id: ReadableDataset, db: DbDep) -> SnapshotList:
    """The dataset's versions, newest first."""
    found = db[snapshots.COLLECTION].find(
        {S.DATASET_ID: dataset_id, S.STATUS: "ready"}, sort=[(S.VERSION, DESCENDING)]
    )
    return SnapshotList(items=[public(doc) async for doc in found])


async def version_doc(db: Any, dataset_id: str, ref: str) -> dict[str, Any]:
    """The ready snapshot a ref names; raises NotFoundError."""
    query: dict[str, Any] = {S.DATASET_ID: dataset_id, S.STATUS: "ready"}
    if ref != snapshots.LATEST:
        query[S.VERSION] = int(ref.removeprefix("v"))
    doc = await db[snapshots.COLLECTION].find_one(query, sort=[(S.VERSION, DESCENDING)])
    if doc is None:
        raise NotFoundError(f"dataset {dataset_id!r} has no snapshot version {ref!r}")
    return dict(doc)


@router.get(
    "/datasets/{dataset_id}/snapshots/{ref}",
    response_model=SnapshotPublic,
    responses=problem_responses(404, 422, 503),
)
async def get_snapshot(
    dataset_id: ReadableDataset, ref: Ref, db: DbDep, presigner: PresignerDep, settings: SettingsDep
) -> SnapshotPublic:
    """A version (or the latest) with a presigned GET of its zip (Range makes it resumable)."""
    doc = await version_doc(db, dataset_id, ref)
    expires = settings.api.snapshot_url_expires_s
    url = presigner.presign_get(settings.s3.bucket, doc[S.KEY], expires_in=expires)
    PRESIGNED.labels("snapshot").inc()
    return public(doc, url)


class DiffEntry(BaseModel):
    """One image that differs between two versions."""

    path: str
    change: Literal["added", "removed", "changed"]
    bytes: bool = Field(description="the file differs (etag or size)")
    annotations: bool = Field(description="the annotations differ")


@router.get(
    "/datasets/{dataset_id}/snapshots/{a}/diff/{b}",
    response_model=list[DiffEntry],
    responses=problem_responses(404, 422, 503),
)
async def diff_snapshots(
    dataset_id: ReadableDataset, a: Ref, b: Ref, db: DbDep
) -> StreamingResponse:
    """Images added, removed or changed from version ``a`` to ``b``, streamed in path order."""
    old, new = await version_doc(db, dataset_id, a), await version_doc(db, dataset_id, b)

    async def body() -> AsyncIterator[bytes]:
        yield b"["
        first = True
        async for entry in diff(db, old[S.ID], new[S.ID]):
            yield (b"" if first else b",") + entry.model_dump_json().encode()
            first = False
        yield b"]"

    return StreamingResponse(body(), media_type="application/json")


async def _entries(db: Any, snapshot_id: str) -> AsyncIterator[ManifestEntry]:
    found = db[snapshots.MANIFESTS].find({"snapshot_id": snapshot_id}).sort("n", 1)
    async for chunk in found:
        for entry in chunk["entries"]:
            yield ManifestEntry.model_validate(entry)


async def diff(db: Any, old_id: str, new_id: str) -> AsyncIterator[DiffEntry]:
    """Merge the two manifests (both in path order): constant memory, one pass."""
    old_entries, new_entries = _entries(db, old_id), _entries(db, new_id)
    old = await anext(old_entries, None)
    new = await anext(new_entries, None)
    while old is not None or new is not None:
        if new is None or (old is not None and old.path < new.path):
            assert old is not None
            yield DiffEntry(path=old.path, change="removed", bytes=True, annotations=True)
            old = await anext(old_entries, None)
        elif old is None or new.path < old.path:
            yield DiffEntry(path=new.path, change="added", bytes=True, annotations=True)
            new = await anext(new_entries, None)
        else:
            changed_bytes = (old.etag, old.size) != (new.etag, new.size)
            changed_notes = old.annotation_hash != new.annotation_hash
            if changed_bytes or changed_notes:
                yield DiffEntry(
                    path=new.path,
                    change="changed",
                    bytes=changed_bytes,
                    annotations=changed_notes,
                )
            old = await anext(old_entries, None)
            new = await anext(new_entries, None)
