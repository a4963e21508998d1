"""Snapshots: requests, ready versions with presigned downloads, the diff of two versions."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING

from assetflow.api.observability import PRESIGNED
from assetflow.api.publishing import Publisher
from assetflow.api.schemas.snapshots import DiffEntry
from assetflow.api.services import Database
from assetflow.api.services.jobs import accept, find_visible
from assetflow.contracts.commands import CreateSnapshot, SnapshotFormat
from assetflow.contracts.errors import NotFoundError
from assetflow.domain.tokens import Permissions
from assetflow.readmodel import snapshots
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.snapshots import ManifestEntry, S
from assetflow.storage.presign import Presigner


class Snapshots:
    """Records snapshot requests and reads the versions the snapshotter built."""

    def __init__(
        self,
        db: Database,
        publisher: Publisher,
        presigner: Presigner,
        bucket: str,
        url_expires_s: int,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._presigner = presigner
        self._bucket = bucket
        self._expires = url_expires_s

    async def request(
        self, dataset_id: str, snapshot_format: SnapshotFormat, listing: ListingFilter
    ) -> str:
        """Record a request and command its build; returns the snapshot id."""
        now = datetime.now(UTC)
        snapshot_id = uuid.uuid4().hex
        doc = {S.ID: snapshot_id, S.FORMAT: snapshot_format, S.WHERE: listing.as_json()}
        command = CreateSnapshot(snapshot_id=snapshot_id, dataset_id=dataset_id, requested_at=now)
        await accept(self._db[snapshots.COLLECTION], doc, self._publisher, command)
        return snapshot_id

    async def status(self, snapshot_id: str, caller: Permissions) -> dict[str, Any]:
        """A snapshot request's document; 404 if none, or the caller cannot see it."""
        collection = self._db[snapshots.COLLECTION]
        what = f"snapshot request {snapshot_id!r}"
        doc: dict[str, Any] = await find_visible(collection, snapshot_id, caller, what)
        return doc

    async def versions(self, dataset_id: str) -> list[dict[str, Any]]:
        """The dataset's ready versions, newest first."""
        found = self._db[snapshots.COLLECTION].find(
            {S.DATASET_ID: dataset_id, S.STATUS: "ready"}, sort=[(S.VERSION, DESCENDING)]
        )
        return [doc async for doc in found]

    async def version(self, dataset_id: str, ref: str) -> dict[str, Any]:
        """The ready snapshot a ref names; raises NotFoundError."""
        query: dict[str, Any] = {S.DATASET_ID: dataset_id, S.STATUS: "ready"}
        if ref != snapshots.LATEST:
            query[S.VERSION] = int(ref.removeprefix("v"))
        doc = await self._db[snapshots.COLLECTION].find_one(query, sort=[(S.VERSION, DESCENDING)])
        if doc is None:
            raise NotFoundError(f"dataset {dataset_id!r} has no snapshot version {ref!r}")
        return dict(doc)

    async def download(self, dataset_id: str, ref: str) -> tuple[dict[str, Any], str]:
        """A version's document and a presigned GET of its zip."""
        doc = await self.version(dataset_id, ref)
        url = self._presigner.presign_get(self._bucket, doc[S.KEY], expires_in=self._expires)
        PRESIGNED.labels("snapshot").inc()
        return doc, url

    async def diff(self, dataset_id: str, a: str, b: str) -> AsyncIterator[DiffEntry]:
        """Images added, removed or changed from version ``a`` to ``b``, in path order.

        Both versions are looked up now (NotFoundError before any entry); the entries are
        read as the result is iterated.
        """
        old, new = await self.version(dataset_id, a), await self.version(dataset_id, b)
        return diff(self._db, old[S.ID], new[S.ID])


async def _entries(db: Any, snapshot_id: str) -> AsyncIterator[tuple[ManifestEntry, str | None]]:
    """(entry, split) in path order; the splits are stored beside the entries (none before
    splits existed)."""
    found = db[snapshots.MANIFESTS].find({"snapshot_id": snapshot_id}).sort("n", 1)
    async for chunk in found:
        splits = chunk.get("splits") or [None] * len(chunk["entries"])
        for entry, split in zip(chunk["entries"], splits, strict=True):
            yield ManifestEntry.model_validate(entry), split


async def _next(
    entries: AsyncIterator[tuple[ManifestEntry, str | None]],
) -> tuple[ManifestEntry | None, str | None]:
    # Not anext(entries, default): with a tuple default CPython 3.11 raises SystemError.
    try:
        return await anext(entries)
    except StopAsyncIteration:
        return None, None


async def diff(db: Any, old_id: str, new_id: str) -> AsyncIterator[DiffEntry]:
    """Merge the two manifests (both in path order): constant memory, one pass."""
    old_entries, new_entries = _entries(db, old_id), _entries(db, new_id)
    old, old_split = await _next(old_entries)
    new, new_split = await _next(new_entries)
    while old is not None or new is not None:
        if new is None or (old is not None and old.path < new.path):
            assert old is not None
            yield DiffEntry(path=old.path, change="removed", bytes=True, annotations=True)
            old, old_split = await _next(old_entries)
        elif old is None or new.path < old.path:
            yield DiffEntry(path=new.path, change="added", bytes=True, annotations=True)
            new, new_split = await _next(new_entries)
        else:
            changed_bytes = (old.etag, old.size) != (new.etag, new.size)
            changed_notes = old.annotation_hash != new.annotation_hash
            moved = old_split != new_split
            if changed_bytes or changed_notes or moved:
                yield DiffEntry(
                    path=new.path,
                    change="changed",
                    bytes=changed_bytes,
                    annotations=changed_notes,
                    split=moved,
                )
            old, old_split = await _next(old_entries)
            new, new_split = await _next(new_entries)
