"""What a job needs of the database: small ports, and their MongoDB adapters.

Jobs run in a worker thread (``zipfile`` writes synchronously), so these are blocking.
``tests/support/snapshotter_fakes.py`` holds in-memory fakes of each port.
"""

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from pymongo import DESCENDING
from pymongo.database import Database

from assetflow.readmodel import annotations, images, imports, snapshots
from assetflow.readmodel.annotations import A, Shape
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import F
from assetflow.readmodel.imports import I
from assetflow.readmodel.snapshots import S
from assetflow.snapshotter.entries import SnapshotEntry

Doc = dict[str, Any]

_ENTRY_FIELDS = {
    F.KEY: 1,
    F.PATH: 1,
    F.FOLDER: 1,
    F.ETAG: 1,
    F.SIZE: 1,
    F.STATUS: 1,
    F.TAGS: 1,
    F.WIDTH: 1,
    F.HEIGHT: 1,
    F.ANNOTATION_REVISION: 1,
    F.ANNOTATION_HASH: 1,
    F.SPLIT: 1,
}


class StoredAnnotations(NamedTuple):
    """An image's annotations as stored: at which revision, and the shapes."""

    image_id: str
    revision: int
    shapes: list[Shape]


class SnapshotStore(Protocol):
    """The database side of a build: its request document, its manifest, what it selects."""

    def request(self, snapshot_id: str) -> Doc | None:
        """The request document (``S`` fields), or None if there is none."""
        ...

    def latest_ready(self, dataset_id: str) -> Doc | None:
        """The dataset's newest built version, if any."""
        ...

    def update(self, snapshot_id: str, fields: Doc) -> None:
        """Set fields of the request document."""
        ...

    def selection(
        self, bucket: str, dataset_id: str, listing: ListingFilter
    ) -> Iterator[SnapshotEntry]:
        """Every live image of the dataset the filter selects, in key order."""
        ...

    def drop_manifest(self, snapshot_id: str) -> None:
        """Delete every stored chunk of the manifest."""
        ...

    def store_chunk(self, snapshot_id: str, n: int, entries: list[SnapshotEntry]) -> None:
        """Store (or replace) the n-th chunk of the manifest."""
        ...

    def chunks(self, snapshot_id: str) -> Iterator[tuple[int, list[SnapshotEntry]]]:
        """The stored manifest, chunk by chunk, in order."""
        ...

    def annotations(self, image_ids: Collection[str]) -> Iterator[StoredAnnotations]:
        """The stored annotations of those images that have any."""
        ...


class ImportStore(Protocol):
    """The database side of a zip import: its request document and the index it waits for."""

    def request(self, import_id: str) -> Doc | None:
        """The import document (``I`` fields), or None if there is none."""
        ...

    def update(self, import_id: str, fields: Doc) -> None:
        """Set fields of the import document."""
        ...

    def indexed_etags(self, bucket: str, keys: Collection[str]) -> dict[str, str]:
        """key -> etag of those keys the index holds as live images."""
        ...

    def decoded_sizes(
        self, bucket: str, keys: Collection[str]
    ) -> dict[str, tuple[int, int] | None]:
        """key -> displayed (width, height) of those live images no longer pending (None:
        rejected or failed, so never sized)."""
        ...


@dataclass(frozen=True, slots=True)
class MongoSnapshotStore:
    """``SnapshotStore`` over MongoDB."""

    db: Database[Doc]

    def request(self, snapshot_id: str) -> Doc | None:
        """One find by id."""
        return self.db[snapshots.COLLECTION].find_one({S.ID: snapshot_id})

    def latest_ready(self, dataset_id: str) -> Doc | None:
        """The ``versions`` index, newest first."""
        return self.db[snapshots.COLLECTION].find_one(
            {S.DATASET_ID: dataset_id, S.STATUS: "ready"}, sort=[(S.VERSION, DESCENDING)]
        )

    def update(self, snapshot_id: str, fields: Doc) -> None:
        """One ``$set``."""
        self.db[snapshots.COLLECTION].update_one({S.ID: snapshot_id}, {"$set": fields})

    def selection(
        self, bucket: str, dataset_id: str, listing: ListingFilter
    ) -> Iterator[SnapshotEntry]:
        """One query on the by_key index."""
        query = images.live_in_key_order(bucket, dataset_id) | listing.conditions()
        found = self.db[images.COLLECTION].find(query, _ENTRY_FIELDS).sort(F.KEY, 1)
        for image in found:
            yield SnapshotEntry(
                path=image[F.PATH],
                image_id=image[F.ID],
                key=image[F.KEY],
                etag=image[F.ETAG],
                size=int(image[F.SIZE]),
                width=image.get(F.WIDTH),
                height=image.get(F.HEIGHT),
                annotation_revision=int(image.get(F.ANNOTATION_REVISION) or 0),
                annotation_hash=image.get(F.ANNOTATION_HASH),
                split=image.get(F.SPLIT),  # absent on images indexed before splits existed
            )

    def drop_manifest(self, snapshot_id: str) -> None:
        """One ``delete_many`` on the chunks index."""
        self.db[snapshots.MANIFESTS].delete_many({"snapshot_id": snapshot_id})

    def store_chunk(self, snapshot_id: str, n: int, entries: list[SnapshotEntry]) -> None:
        """One upsert by chunk id."""
        # The splits go beside the entries, not in them: the API reads ``entries`` as
        # ``ManifestEntry``, which forbids fields it does not know.
        stored = [e.model_dump(exclude={"split"}) for e in entries]
        splits = [e.split for e in entries]
        self.db[snapshots.MANIFESTS].replace_one(
            {"_id": snapshots.chunk_id(snapshot_id, n)},
            {"snapshot_id": snapshot_id, "n": n, "entries": stored, "splits": splits},
            upsert=True,
        )

    def chunks(self, snapshot_id: str) -> Iterator[tuple[int, list[SnapshotEntry]]]:
        """One query on the chunks index."""
        found = self.db[snapshots.MANIFESTS].find({"snapshot_id": snapshot_id}).sort("n", 1)
        for chunk in found:
            splits = chunk.get("splits") or [None] * len(chunk["entries"])
            entries = [
                SnapshotEntry.model_validate(e | {"split": split})
                for e, split in zip(chunk["entries"], splits, strict=True)
            ]
            yield chunk["n"], entries

    def annotations(self, image_ids: Collection[str]) -> Iterator[StoredAnnotations]:
        """One find by ids."""
        found = self.db[annotations.COLLECTION].find({A.ID: {"$in": list(image_ids)}})
        for doc in found:
            shapes = [Shape.model_validate(s) for s in doc.get(A.SHAPES) or ()]
            yield StoredAnnotations(doc[A.ID], int(doc[A.REVISION]), shapes)


@dataclass(frozen=True, slots=True)
class MongoImportStore:
    """``ImportStore`` over MongoDB."""

    db: Database[Doc]

    def request(self, import_id: str) -> Doc | None:
        """One find by id."""
        return self.db[imports.COLLECTION].find_one({I.ID: import_id})

    def update(self, import_id: str, fields: Doc) -> None:
        """One ``$set``."""
        self.db[imports.COLLECTION].update_one({I.ID: import_id}, {"$set": fields})

    def indexed_etags(self, bucket: str, keys: Collection[str]) -> dict[str, str]:
        """One query by key."""
        found = self.db[images.COLLECTION].find(
            {F.BUCKET: bucket, F.KEY: {"$in": list(keys)}, F.DELETED: False},
            {F.KEY: 1, F.ETAG: 1},
        )
        return {doc[F.KEY]: doc[F.ETAG] for doc in found}

    def decoded_sizes(
        self, bucket: str, keys: Collection[str]
    ) -> dict[str, tuple[int, int] | None]:
        """One query by key."""
        found = self.db[images.COLLECTION].find(
            {
                F.BUCKET: bucket,
                F.KEY: {"$in": list(keys)},
                F.DELETED: False,
                F.STATUS: {"$ne": "pending"},
            },
            {F.KEY: 1, F.WIDTH: 1, F.HEIGHT: 1},
        )
        return {
            doc[F.KEY]: (doc[F.WIDTH], doc[F.HEIGHT])
            if doc.get(F.WIDTH) and doc.get(F.HEIGHT)
            else None
            for doc in found
        }
