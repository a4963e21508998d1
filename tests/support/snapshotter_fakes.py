"""In-memory fakes of the snapshotter's ports: object storage, originals, the two stores.

Each keeps what it was given in plain attributes a test can assert on, and can be told to
fail the way the real dependency does (``unavailable``: botocore's connection error, a
``StorageUnavailableError`` or PyMongo's server selection timeout), so the snapshotter's
handler and jobs run in unit tests with no broker, no database and no object storage.
"""

import hashlib
import io
import threading
import uuid
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import IO, Any

import PIL.Image
from botocore.exceptions import ClientError, EndpointConnectionError
from pymongo.errors import ServerSelectionTimeoutError

from assetflow.contracts import layout
from assetflow.contracts.errors import StorageUnavailableError
from assetflow.contracts.events import Split
from assetflow.readmodel.annotations import Shape
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.imports import I
from assetflow.readmodel.snapshots import ManifestEntry, S
from assetflow.snapshotter.entries import SnapshotEntry
from assetflow.snapshotter.originals import SnapshotChangedError
from assetflow.snapshotter.store import StoredAnnotations

Doc = dict[str, Any]


def md5(body: bytes) -> str:
    """The etag S3 gives an object written whole."""
    return hashlib.md5(body).hexdigest()


def _client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class FakeS3:
    """The S3 client calls of ``ArchiveStorage`` and ``ImportStorage``, over a dict of objects
    (bucket, key) -> bytes; multipart uploads are assembled as S3 does."""

    class exceptions:  # boto3's name
        class NoSuchUpload(Exception):
            """The upload is gone already."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.uploads: dict[str, dict[int, bytes]] = {}  # upload id -> parts, while open
        self.unavailable = False
        self._lock = threading.Lock()  # parts arrive from the sink's threads

    def _reachable(self) -> None:
        if self.unavailable:
            raise EndpointConnectionError(endpoint_url="http://fake-s3")

    def create_multipart_upload(self, *, Bucket: str, Key: str, ContentType: str) -> dict[str, Any]:
        self._reachable()
        upload_id = uuid.uuid4().hex
        with self._lock:
            self.uploads[upload_id] = {}
        return {"UploadId": upload_id}

    def upload_part(
        self, *, Bucket: str, Key: str, UploadId: str, PartNumber: int, Body: bytes | bytearray
    ) -> dict[str, Any]:
        self._reachable()
        with self._lock:
            if UploadId not in self.uploads:
                raise self.exceptions.NoSuchUpload(UploadId)
            self.uploads[UploadId][PartNumber] = bytes(Body)
        return {"ETag": f'"{md5(bytes(Body))}"'}

    def complete_multipart_upload(
        self, *, Bucket: str, Key: str, UploadId: str, MultipartUpload: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._reachable()
        with self._lock:
            parts = self.uploads.pop(UploadId)
        numbers = [part["PartNumber"] for part in MultipartUpload["Parts"]]
        self.objects[(Bucket, Key)] = b"".join(parts[n] for n in numbers)
        return {}

    def abort_multipart_upload(self, *, Bucket: str, Key: str, UploadId: str) -> dict[str, Any]:
        self._reachable()
        with self._lock:
            if self.uploads.pop(UploadId, None) is None:
                raise self.exceptions.NoSuchUpload(UploadId)
        return {}

    def put_object(
        self, *, Bucket: str, Key: str, Body: bytes, ContentType: str = ""
    ) -> dict[str, Any]:
        self._reachable()
        self.objects[(Bucket, Key)] = bytes(Body)
        return {"ETag": f'"{md5(Body)}"'}

    def head_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self._reachable()
        body = self.objects.get((Bucket, Key))
        if body is None:
            raise _client_error("404", "HeadObject")
        return {"ContentLength": len(body), "ETag": f'"{md5(body)}"'}

    def get_object(self, *, Bucket: str, Key: str, Range: str, IfMatch: str) -> dict[str, Any]:
        self._reachable()
        body = self.objects.get((Bucket, Key))
        if body is None:
            raise _client_error("NoSuchKey", "GetObject")
        if IfMatch.strip('"') != md5(body):
            raise _client_error("PreconditionFailed", "GetObject")
        first, last = (int(n) for n in Range.removeprefix("bytes=").split("-"))
        return {"Body": io.BytesIO(body[first : last + 1])}

    def upload_fileobj(
        self, Fileobj: IO[bytes], Bucket: str, Key: str, ExtraArgs: Mapping[str, Any] | None = None
    ) -> None:
        self._reachable()
        self.objects[(Bucket, Key)] = Fileobj.read()


@dataclass
class FakeOriginals:
    """``OriginalsSource`` over a FakeS3: the manifest's version or SnapshotChangedError."""

    s3: FakeS3
    bucket: str
    unavailable: bool = False

    def read(self, entry: ManifestEntry) -> bytes:
        if self.unavailable:
            raise StorageUnavailableError(f"GET {entry.key}: connection refused")
        body = self.s3.objects.get((self.bucket, entry.key))
        if body is None or md5(body) != entry.etag:
            raise SnapshotChangedError(f"{entry.path} was overwritten or deleted")
        return body

    def chunks(self, entry: ManifestEntry, size: int) -> Iterator[bytes]:
        body = self.read(entry)
        for at in range(0, len(body), size):
            yield body[at : at + size]


@dataclass(frozen=True)
class FakeImage:
    """An indexed, live image as a snapshot selects it."""

    entry: SnapshotEntry
    bucket: str
    dataset_id: str
    folder: str
    status: str = "ready"
    tags: tuple[str, ...] = ()
    duplicate: bool = False

    def selected_by(self, listing: ListingFilter) -> bool:
        """What ``ListingFilter.conditions`` selects, in Python."""
        if listing.folder is not None and self.folder != listing.folder:
            return False
        if listing.status is not None and self.status != listing.status:
            return False
        if listing.split is not None and (self.entry.split or "none") != listing.split:
            return False
        if listing.duplicates and not self.duplicate:
            return False
        if listing.untagged:
            return not self.tags
        have = set(self.tags)
        if listing.match == "any" and listing.tags:
            return bool(have & set(listing.tags))
        return have >= set(listing.tags)


@dataclass
class FakeSnapshotStore:
    """``SnapshotStore`` in dicts; ``unavailable`` fails every call like a lost primary."""

    requests: dict[str, Doc] = field(default_factory=dict)
    manifests: dict[str, dict[int, list[SnapshotEntry]]] = field(default_factory=dict)
    images: list[FakeImage] = field(default_factory=list)
    stored_annotations: dict[str, StoredAnnotations] = field(default_factory=dict)
    unavailable: bool = False

    def _reachable(self) -> None:
        if self.unavailable:
            raise ServerSelectionTimeoutError("no primary available (fake)")

    def add_request(
        self, snapshot_id: str, dataset_id: str, format_: str = "coco", where: Doc | None = None
    ) -> Doc:
        """A queued request, as the API writes it."""
        now = datetime.now(UTC)
        doc: Doc = {
            S.ID: snapshot_id,
            S.FORMAT: format_,
            S.WHERE: ListingFilter().as_json() if where is None else where,
            S.DATASET_ID: dataset_id,
            S.STATUS: "queued",
            S.CREATED_AT: now,
            S.UPDATED_AT: now,
        }
        self.requests[snapshot_id] = doc
        return doc

    def add_image(
        self,
        s3: FakeS3,
        bucket: str,
        dataset_id: str,
        path: str,
        body: bytes,
        *,
        size: tuple[int, int] | None = None,
        shapes: list[Shape] | None = None,
        split: Split | None = None,
    ) -> SnapshotEntry:
        """Store an original and index it (with its annotations at revision 1, if any)."""
        key = layout.object_key(dataset_id, path)
        s3.objects[(bucket, key)] = body
        image_id = layout.image_id(bucket, key)
        width, height = size or (None, None)
        entry = SnapshotEntry(
            path=path,
            image_id=image_id,
            key=key,
            etag=md5(body),
            size=len(body),
            width=width,
            height=height,
            annotation_revision=1 if shapes else 0,
            annotation_hash=md5(repr(shapes).encode()) if shapes else None,
            split=split,
        )
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        self.images.append(FakeImage(entry, bucket, dataset_id, folder))
        if shapes:
            self.stored_annotations[image_id] = StoredAnnotations(image_id, 1, shapes)
        return entry

    def move(self, path: str, split: Split | None) -> None:
        """Put an indexed image in another split (None: in none), as ``ChangeSplit`` does."""
        self.images = [
            replace(image, entry=image.entry.model_copy(update={"split": split}))
            if image.entry.path == path
            else image
            for image in self.images
        ]

    def request(self, snapshot_id: str) -> Doc | None:
        self._reachable()
        found = self.requests.get(snapshot_id)
        return dict(found) if found is not None else None

    def latest_ready(self, dataset_id: str) -> Doc | None:
        self._reachable()
        ready = [
            doc
            for doc in self.requests.values()
            if doc[S.DATASET_ID] == dataset_id and doc[S.STATUS] == "ready"
        ]
        return dict(max(ready, key=lambda doc: doc[S.VERSION])) if ready else None

    def update(self, snapshot_id: str, fields: Doc) -> None:
        self._reachable()
        self.requests[snapshot_id].update(fields)

    def selection(
        self, bucket: str, dataset_id: str, listing: ListingFilter
    ) -> Iterator[SnapshotEntry]:
        self._reachable()
        chosen = [
            image.entry
            for image in self.images
            if image.bucket == bucket
            and image.dataset_id == dataset_id
            and image.selected_by(listing)
        ]
        for entry in sorted(chosen, key=lambda entry: entry.key):
            yield entry.model_copy()

    def drop_manifest(self, snapshot_id: str) -> None:
        self._reachable()
        self.manifests.pop(snapshot_id, None)

    def store_chunk(self, snapshot_id: str, n: int, entries: list[SnapshotEntry]) -> None:
        self._reachable()
        self.manifests.setdefault(snapshot_id, {})[n] = [e.model_copy() for e in entries]

    def chunks(self, snapshot_id: str) -> Iterator[tuple[int, list[SnapshotEntry]]]:
        self._reachable()
        stored = self.manifests.get(snapshot_id, {})
        for n in sorted(stored):
            yield n, [e.model_copy() for e in stored[n]]

    def annotations(self, image_ids: Collection[str]) -> Iterator[StoredAnnotations]:
        self._reachable()
        for image_id in image_ids:
            if image_id in self.stored_annotations:
                yield self.stored_annotations[image_id]


@dataclass
class FakeImportStore:
    """``ImportStore`` in a dict; the index is instant: it holds what the FakeS3 holds."""

    s3: FakeS3
    requests: dict[str, Doc] = field(default_factory=dict)
    unavailable: bool = False

    def _reachable(self) -> None:
        if self.unavailable:
            raise ServerSelectionTimeoutError("no primary available (fake)")

    def add_request(self, import_id: str, dataset_id: str, key: str) -> Doc:
        """A queued import, as the API writes it."""
        now = datetime.now(UTC)
        doc: Doc = {
            I.ID: import_id,
            I.KEY: key,
            I.DATASET_ID: dataset_id,
            I.STATUS: "queued",
            I.CREATED_AT: now,
            I.UPDATED_AT: now,
        }
        self.requests[import_id] = doc
        return doc

    def request(self, import_id: str) -> Doc | None:
        self._reachable()
        found = self.requests.get(import_id)
        return dict(found) if found is not None else None

    def update(self, import_id: str, fields: Doc) -> None:
        self._reachable()
        self.requests[import_id].update(fields)

    def indexed_etags(self, bucket: str, keys: Collection[str]) -> dict[str, str]:
        self._reachable()
        return {
            key: md5(self.s3.objects[(bucket, key)])
            for key in keys
            if (bucket, key) in self.s3.objects
        }

    def decoded_sizes(
        self, bucket: str, keys: Collection[str]
    ) -> dict[str, tuple[int, int] | None]:
        """Sizes decoded by Pillow, as the thumbnailer would (None: not an image)."""
        self._reachable()
        sizes: dict[str, tuple[int, int] | None] = {}
        for key in keys:
            if (bucket, key) in self.s3.objects:
                try:
                    sizes[key] = PIL.Image.open(io.BytesIO(self.s3.objects[(bucket, key)])).size
                except PIL.UnidentifiedImageError:
                    sizes[key] = None
        return sizes
