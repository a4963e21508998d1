"""Build one snapshot: the manifest from the index, its content id, the zip streamed to storage.

Runs in a worker thread with blocking clients (``zipfile`` writes synchronously). Memory
stays flat whatever the dataset: the manifest goes to the database in chunks, originals
stream through (small ones are fetched a few at a time ahead), and the archive leaves in
multipart parts. Every original is read at exactly the manifest's version (``If-Match``
its etag), so a snapshot holds what its manifest says or fails saying which image moved.
"""

import hashlib
import json
import logging
import time
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, get_args

from botocore.exceptions import BotoCoreError, ClientError

from assetflow.contracts.commands import SnapshotEvent, SnapshotFormat
from assetflow.contracts.errors import InvalidEventError, StorageUnavailableError
from assetflow.domain.zipimport import IMAGE_SUFFIXES
from assetflow.platform.metrics import E2E_LATENCY
from assetflow.readmodel import snapshots
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.snapshots import ContentHasher, S
from assetflow.snapshotter.entries import SnapshotEntry
from assetflow.snapshotter.exporting import Annotations
from assetflow.snapshotter.layout import Layout, TextOut, zip_entry
from assetflow.snapshotter.originals import SnapshotChangedError
from assetflow.snapshotter.settings import SnapshotterOptions
from assetflow.snapshotter.storage import ArchiveStorage, OriginalsSource
from assetflow.snapshotter.store import SnapshotStore
from assetflow.snapshotter.zipsink import MultipartSink, abort_upload, part_size_for

log = logging.getLogger(__name__)
Emit = Callable[[SnapshotEvent], None]
Doc = dict[str, Any]

# Formats that are compressed already: stored as they are (deflating them wastes CPU).
_STORED_SUFFIXES = (IMAGE_SUFFIXES - {".tif", ".tiff", ".bmp"}) | {".zip", ".gz", ".mp4", ".mov"}
_READ_CHUNK = 1 << 20
FETCH_THREADS = 4
FORMATS: Final = frozenset(get_args(SnapshotFormat))
_LATER_FILTERS: Final[Doc] = {"split": None, "duplicates": False}  # their unset values


@dataclass
class Progress:
    """Counts of a running build, reported at most once per interval."""

    images_total: int = 0
    bytes_total: int = 0
    images_done: int = 0
    bytes_done: int = 0
    shapes: int = 0
    groups: Counter[str] = field(default_factory=Counter)  # images per split (or unassigned)
    reported_at: float = field(default_factory=time.monotonic)


@dataclass
class Builder:
    """What a build needs; one per snapshotter process (a ``Job`` of the handler)."""

    store: SnapshotStore
    storage: ArchiveStorage
    originals: OriginalsSource
    bucket: str
    options: SnapshotterOptions
    emit: Emit

    def run(self, snapshot_id: str) -> str:
        """Build (or finish, or skip) one requested snapshot; returns its final status.

        Raises StorageUnavailableError (and database errors) for the consumer to retry the
        command, and InvalidEventError for a request that can never be built; a changed
        selection fails the snapshot with the reason instead.
        """
        doc = self.store.request(snapshot_id)
        if doc is None:
            log.warning("snapshot request not found", extra={"snapshot_id": snapshot_id})
            return "missing"
        if doc[S.STATUS] in snapshots.FINISHED:
            return str(doc[S.STATUS])  # a redelivered command: already done
        try:
            return self._build(doc)
        except SnapshotChangedError as exc:
            self._finish(doc, "failed", {S.REASON: str(exc)}, "SnapshotFailed")
            return "failed"
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailableError(f"snapshot {snapshot_id}: {exc}") from exc

    def fail(self, snapshot_id: str, reason: str) -> None:
        """Fail a request for good with the reason (unless it is finished), dropping any
        parts of its upload; the handler calls this for an error that retrying cannot cure."""
        doc = self.store.request(snapshot_id)
        if doc is None or doc.get(S.STATUS) in snapshots.FINISHED:
            return
        try:
            if doc.get(S.UPLOAD_ID):
                abort_upload(self.storage, self.bucket, doc[S.KEY], doc[S.UPLOAD_ID])
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailableError(f"snapshot {snapshot_id}: {exc}") from exc
        self._finish(doc, "failed", {S.REASON: reason, S.UPLOAD_ID: None}, "SnapshotFailed")

    def _build(self, doc: Doc) -> str:
        snapshot_id, dataset = doc[S.ID], doc[S.DATASET_ID]
        if doc.get(S.UPLOAD_ID):  # an earlier attempt died mid-build: drop its parts
            abort_upload(self.storage, self.bucket, doc[S.KEY], doc[S.UPLOAD_ID])
        progress = Progress()
        content_id = self._plan(doc, progress)
        layout = Layout(doc[S.FORMAT], progress.groups)
        latest = self.store.latest_ready(dataset)
        if latest is not None and latest[S.CONTENT_ID] == content_id:
            self.store.drop_manifest(snapshot_id)
            done = {S.BASED_ON: latest[S.VERSION], S.CONTENT_ID: content_id}
            self._finish(doc, "unchanged", done, "SnapshotCreated", progress)
            return "unchanged"
        version = int(doc.get(S.VERSION) or (latest[S.VERSION] + 1 if latest else 1))
        key = snapshots.zip_key(dataset, version)
        upload_id = self.storage.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType="application/zip"
        )["UploadId"]
        self.store.update(
            snapshot_id,
            {
                S.STATUS: "running",
                S.VERSION: version,
                S.KEY: key,
                S.UPLOAD_ID: upload_id,
                S.CONTENT_ID: content_id,
                S.IMAGES_TOTAL: progress.images_total,
                S.BYTES_TOTAL: progress.bytes_total,
                S.UPDATED_AT: datetime.now(UTC),
            },
        )
        doc |= {S.VERSION: version, S.KEY: key, S.CONTENT_ID: content_id}
        part_size = part_size_for(progress.bytes_total, self.options.part_size)
        sink = MultipartSink(
            self.storage, self.bucket, key, upload_id, part_size, self.options.parts_in_flight
        )
        try:
            with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
                self._write_images(archive, doc, progress, layout)
                notes = Annotations(self.store, snapshot_id, dataset, layout)
                notes.write(archive)
                progress.shapes += notes.shapes
                self._write_manifest(archive, snapshot_id, layout)
                archive.writestr(
                    zip_entry("snapshot.json", deflate=True), json.dumps(_summary(doc, progress))
                )
            size = sink.complete()
        except BaseException:
            sink.abort()
            raise
        pointer = {"version": version, "key": key, "content_id": content_id}
        self.storage.put_object(
            Bucket=self.bucket,
            Key=snapshots.latest_key(dataset),
            Body=json.dumps(pointer).encode(),
            ContentType="application/json",
        )
        self._finish(doc, "ready", {S.SIZE: size, S.UPLOAD_ID: None}, "SnapshotCreated", progress)
        return "ready"

    def _plan(self, doc: Doc, progress: Progress) -> str:
        """Store the manifest in chunks; returns the content id."""
        snapshot_id = doc[S.ID]
        listing = _listing(doc)
        self.store.drop_manifest(snapshot_id)  # a restart plans afresh
        hasher = ContentHasher(doc[S.FORMAT], _hashed_where(doc.get(S.WHERE) or {}))
        chunk: list[SnapshotEntry] = []
        n = 0
        for entry in self.store.selection(self.bucket, doc[S.DATASET_ID], listing):
            chunk.append(entry)
            progress.images_total += 1
            progress.bytes_total += entry.size
            progress.groups[entry.group()] += 1
            if len(chunk) == snapshots.CHUNK:
                hasher.add(chunk)
                self.store.store_chunk(snapshot_id, n, chunk)
                chunk, n = [], n + 1
        if chunk:
            hasher.add(chunk)
            self.store.store_chunk(snapshot_id, n, chunk)
        return hasher.hexdigest()

    def _write_images(
        self, archive: zipfile.ZipFile, doc: Doc, progress: Progress, layout: Layout
    ) -> None:
        with ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="fetch") as pool:
            for n, entries in self.store.chunks(doc[S.ID]):
                for entry, body in self._fetched(pool, entries):
                    name = layout.image(entry)
                    entry.sha256 = self._write_image(archive, name, entry, body)
                    progress.images_done += 1
                    progress.bytes_done += entry.size
                    self._report(doc, progress)
                self.store.store_chunk(doc[S.ID], n, entries)  # with the sha256s

    def _fetched(
        self, pool: ThreadPoolExecutor, entries: list[SnapshotEntry]
    ) -> Iterator[tuple[SnapshotEntry, bytes | Iterator[bytes]]]:
        """Entries with their bytes (small ones fetched ahead) or a stream (large ones)."""
        small = min(self.options.prefetch_bytes // 4, 8 << 20)
        window: deque[tuple[SnapshotEntry, Future[bytes] | None]] = deque()
        held = 0
        for entry in entries:
            ahead = pool.submit(self.originals.read, entry) if entry.size <= small else None
            window.append((entry, ahead))
            held += entry.size if ahead else 0
            while window and (
                len(window) > self.options.prefetch_objects or held > self.options.prefetch_bytes
            ):
                first, future = window.popleft()
                held -= first.size if future else 0
                yield first, self._body(first, future)
        for first, future in window:
            yield first, self._body(first, future)

    def _body(self, entry: SnapshotEntry, ahead: Future[bytes] | None) -> bytes | Iterator[bytes]:
        """The prefetched bytes, or a stream of a large original (read as it is written)."""
        return ahead.result() if ahead else self.originals.chunks(entry, _READ_CHUNK)

    def _write_image(
        self,
        archive: zipfile.ZipFile,
        name: str,
        entry: SnapshotEntry,
        body: bytes | Iterator[bytes],
    ) -> str:
        info = zip_entry(name, deflate=not _is_compressed(entry.path))
        info.file_size = entry.size  # lets zipfile choose ZIP64 for entries over 4 GiB
        digest = hashlib.sha256()
        written = 0
        with archive.open(info, "w", force_zip64=entry.size >= 1 << 31) as out:
            for chunk in [body] if isinstance(body, bytes) else body:
                digest.update(chunk)
                out.write(chunk)
                written += len(chunk)
        if written != entry.size:
            raise SnapshotChangedError(
                f"{entry.path}: read {written} bytes, the manifest says {entry.size}"
            )
        return digest.hexdigest()

    def _write_manifest(self, archive: zipfile.ZipFile, snapshot_id: str, layout: Layout) -> None:
        with archive.open(zip_entry("manifest.jsonl", deflate=True), "w") as raw:
            out = TextOut(raw)
            for _, entries in self.store.chunks(snapshot_id):
                for entry in entries:
                    line = entry.model_dump(
                        include={"path", "size", "etag", "sha256", "annotation_revision"}
                    )
                    if layout.by_split:
                        line |= {"split": entry.split}
                    if layout.by_split or layout.moves_images:  # not (only) images/<path>
                        line |= {"file": layout.image(entry)}
                    out.write(json.dumps(line) + "\n")

    def _report(self, doc: Doc, progress: Progress, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - progress.reported_at < self.options.progress_interval_s:
            return
        progress.reported_at = now
        self.store.update(
            doc[S.ID],
            {
                S.IMAGES_DONE: progress.images_done,
                S.BYTES_DONE: progress.bytes_done,
                S.UPDATED_AT: datetime.now(UTC),
            },
        )
        self.emit(_event(doc, "SnapshotProgress", "running", progress))

    def _finish(
        self,
        doc: Doc,
        status: str,
        fields: Doc,
        kind: str,
        progress: Progress | None = None,
    ) -> None:
        progress = progress or Progress()
        now = datetime.now(UTC)
        done = {
            S.STATUS: status,
            S.FINISHED_AT: now,
            S.UPDATED_AT: now,
            S.IMAGES_TOTAL: progress.images_total,
            S.IMAGES_DONE: progress.images_done,
            S.BYTES_TOTAL: progress.bytes_total,
            S.BYTES_DONE: progress.bytes_done,
            S.SHAPES: progress.shapes,
        }
        self.store.update(doc[S.ID], done | fields)
        if requested := doc.get(S.CREATED_AT):
            seconds = (now - requested.replace(tzinfo=UTC)).total_seconds()
            E2E_LATENCY.labels("snapshot", status).observe(max(0.0, seconds))
        event = _event(doc | fields, kind, status, progress)
        self.emit(event)
        log.info(
            "snapshot %s", status, extra={"snapshot_id": doc[S.ID], "reason": fields.get(S.REASON)}
        )


def _listing(doc: Doc) -> ListingFilter:
    """The request's selection; a request this snapshotter cannot build fails for good."""
    if doc.get(S.FORMAT) not in FORMATS:
        raise InvalidEventError(
            f"snapshot {doc[S.ID]}: cannot build format {doc.get(S.FORMAT)!r} "
            f"(one of {', '.join(sorted(FORMATS))})"
        )
    where = doc.get(S.WHERE) or {}
    try:
        return ListingFilter(**where)
    except TypeError as exc:  # a field this snapshotter does not know
        raise InvalidEventError(f"snapshot {doc[S.ID]}: cannot select {where!r}: {exc}") from None


def _hashed_where(where: Doc) -> Doc:
    """The filter as the content id covers it: later filters only when set."""
    # A request stored with them unset selects what one stored before them did: equal ids.
    return {k: v for k, v in where.items() if k not in _LATER_FILTERS or v != _LATER_FILTERS[k]}


def _is_compressed(path: str) -> bool:
    dot = path.rfind(".")
    return dot >= 0 and path[dot:].lower() in _STORED_SUFFIXES


def _summary(doc: Doc, progress: Progress) -> Doc:
    return {
        "version": doc[S.VERSION],
        "created_at": datetime.now(UTC).isoformat(),
        "content_id": doc[S.CONTENT_ID],
        "dataset_id": doc[S.DATASET_ID],
        "format": doc[S.FORMAT],
        "filter": doc.get(S.WHERE) or {},
        "counts": {
            "images": progress.images_total,
            "bytes": progress.bytes_total,
            "shapes": progress.shapes,
        },
    }


def _event(doc: Doc, kind: str, status: str, progress: Progress) -> SnapshotEvent:
    return SnapshotEvent(
        type=kind,
        snapshot_id=doc[S.ID],
        dataset_id=doc[S.DATASET_ID],
        status=status,
        snapshot_version=doc.get(S.VERSION) or doc.get(S.BASED_ON),
        images_done=progress.images_done,
        images_total=progress.images_total,
        bytes_done=progress.bytes_done,
        bytes_total=progress.bytes_total,
        reason=doc.get(S.REASON),
        at=datetime.now(UTC),
    )
