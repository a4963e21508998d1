"""Dataset snapshots: the request document, the manifest and the content id.

A snapshot request is one document in ``snapshots`` (written by the API, advanced by the
snapshotter). Its manifest (every selected live image's path, etag, size and annotation
state, in key order) is stored in chunks in ``snapshot_manifests``; its sha256 is the
content id that decides whether a new version is needed, and two manifests give a diff.
"""

import hashlib
import json
from collections.abc import Iterable
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

COLLECTION: Final = "snapshots"
MANIFESTS: Final = "snapshot_manifests"
CHUNK: Final = 1000  # manifest entries per stored chunk
LATEST: Final = "latest"

FINISHED: Final = ("ready", "unchanged", "failed")


class S:
    """Field names of a snapshot document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    FORMAT: Final = "format"
    WHERE: Final = "where"
    STATUS: Final = "status"
    REASON: Final = "reason"
    VERSION: Final = "version"
    BASED_ON: Final = "based_on"  # an unchanged request: the version it equals
    CONTENT_ID: Final = "content_id"
    KEY: Final = "key"
    UPLOAD_ID: Final = "upload_id"
    SIZE: Final = "size"
    IMAGES_TOTAL: Final = "images_total"
    IMAGES_DONE: Final = "images_done"
    BYTES_TOTAL: Final = "bytes_total"
    BYTES_DONE: Final = "bytes_done"
    SHAPES: Final = "shapes"
    CREATED_AT: Final = "created_at"
    UPDATED_AT: Final = "updated_at"
    FINISHED_AT: Final = "finished_at"


INDEXES: Final = (
    IndexModel(
        [(S.DATASET_ID, ASCENDING), (S.STATUS, ASCENDING), (S.VERSION, DESCENDING)],
        name="versions",
    ),
)
MANIFEST_INDEXES: Final = (
    IndexModel([("snapshot_id", ASCENDING), ("n", ASCENDING)], name="chunks"),
)


def zip_key(dataset_id: str, version: int) -> str:
    """Where version ``version`` of a dataset's snapshot is stored."""
    return f"{dataset_id}/snapshots/v{version}.zip"


def latest_key(dataset_id: str) -> str:
    """The object that points at a dataset's newest snapshot version."""
    return f"{dataset_id}/snapshots/latest.json"


def chunk_id(snapshot_id: str, n: int) -> str:
    """Id of the n-th manifest chunk of a snapshot."""
    return f"{snapshot_id}/{n:06d}"


class ManifestEntry(BaseModel):
    """One image as a snapshot holds it."""

    model_config = ConfigDict(extra="forbid")

    path: str
    image_id: str
    key: str
    etag: str
    size: int
    width: int | None = None
    height: int | None = None
    annotation_revision: int = 0
    annotation_hash: str | None = None
    sha256: str | None = Field(default=None, description="of the bytes, computed while zipping")

    def identity(self) -> bytes:
        """What the content id covers: the bytes' version and the annotations' content."""
        fields = (self.path, self.etag, str(self.size), self.annotation_hash or "")
        return ("\t".join(fields) + "\n").encode()


class ContentHasher:
    """The content id: sha256 over the format, the filter and every entry's identity."""

    def __init__(self, format_: str, where: dict[str, Any]) -> None:
        self._hash = hashlib.sha256()
        header = json.dumps({"format": format_, "where": where}, sort_keys=True)
        self._hash.update(header.encode() + b"\n")

    def add(self, entries: Iterable[ManifestEntry]) -> None:
        """Account for entries, in manifest order."""
        for entry in entries:
            self._hash.update(entry.identity())

    def hexdigest(self) -> str:
        """The content id so far."""
        return self._hash.hexdigest()
