"""Unpack an uploaded dataset zip: check it whole, write its images, then apply its annotations.

The zip is read through ranged GETs (its central directory first), so nothing is written
unless every entry passes (``zipimport.plan_zip``). Each image streams from the zip into
``<dataset>/images/<path>``, where the usual pipeline indexes and thumbnails it; once all of
them are indexed at the versions written, the annotations (COCO, YOLO or VOC: ``zipnotes``)
are imported like ``POST .../annotations/import`` does (whole images or nothing, every
problem reported); YOLO's normalised boxes wait for each image's displayed size.
"""

import logging
import mimetypes
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from assetflow.contracts import layout
from assetflow.contracts.commands import ImportFinished
from assetflow.contracts.errors import StorageUnavailableError
from assetflow.domain.annotating import ImportReport
from assetflow.domain.coco import ImageShapes
from assetflow.domain.zipimport import ZipLimits, open_remote_zip, plan_zip
from assetflow.readmodel.imports import I
from assetflow.snapshotter.storage import ImportStorage
from assetflow.snapshotter.store import ImportStore
from assetflow.snapshotter.zipnotes import AnnotationsRefused, Size, read_annotations

log = logging.getLogger(__name__)
Annotate = Callable[[str, list[ImageShapes]], ImportReport]
Announce = Callable[[ImportFinished], None]
MAX_REPORTED = 100
FINISHED = ("done", "failed")
# Answers that no retry changes: the zip (or an image just written) was deleted or replaced.
_GONE = frozenset({"404", "NoSuchKey", "412", "PreconditionFailed"})


@dataclass
class Importer:
    """What an import needs; one per snapshotter process (a ``Job`` of the handler)."""

    store: ImportStore
    storage: ImportStorage
    bucket: str
    annotate: Annotate
    limits: ZipLimits = field(default_factory=ZipLimits)
    index_timeout_s: float = 600.0
    progress_interval_s: float = 1.0
    announce: Announce | None = None  # publishes ImportFinished, returns once it is durable

    def run(self, import_id: str) -> str:
        """Run (or skip, if finished) one import; returns its final status.

        Storage errors propagate for the consumer to retry the command; a refused zip, a
        zip that breaks mid-way, or one deleted or replaced meanwhile fails the import with
        the reasons.
        """
        doc = self.store.request(import_id)
        if doc is None:
            return "missing"
        if doc[I.STATUS] in FINISHED:
            # A redelivered command: the outcome may not have been published before a crash.
            self._announce(import_id)
            return str(doc[I.STATUS])
        try:
            status = self._import(doc)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _GONE:
                gone = f"{doc[I.KEY]} (or an image written from it) was deleted or replaced"
                status = self._fail(doc, [f"{gone} while the import ran: {exc}"])
            else:
                raise StorageUnavailableError(f"import {import_id}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailableError(f"import {import_id}: {exc}") from exc
        self._announce(import_id)
        return status

    def fail(self, import_id: str, reason: str) -> None:
        """Fail an import for good with the reason (unless it is finished); the handler calls
        this for an error that retrying cannot cure."""
        doc = self.store.request(import_id)
        if doc is not None and doc.get(I.STATUS) not in FINISHED:
            self._fail(doc, [reason])
            self._announce(import_id)

    def _announce(self, import_id: str) -> None:
        """Publish the finished import's outcome (at least once)."""
        doc = self.store.request(import_id)
        if self.announce is None or doc is None or doc.get(I.STATUS) not in FINISHED:
            return
        self.announce(
            ImportFinished(
                import_id=import_id,
                dataset_id=doc[I.DATASET_ID],
                status=doc[I.STATUS],
                images=doc.get(I.IMAGES_DONE) or 0,
                annotated=doc.get(I.ANNOTATED) or 0,
                problems=list(doc.get(I.PROBLEMS) or [])[:10],
                at=doc.get(I.FINISHED_AT) or datetime.now(UTC),
            )
        )

    def _import(self, doc: dict[str, Any]) -> str:
        self._set(doc, {I.STATUS: "running"})
        try:
            archive = open_remote_zip(self.storage, self.bucket, doc[I.KEY])
        except zipfile.BadZipFile as exc:
            return self._fail(doc, [f"not a readable zip file: {exc}"])
        with archive:
            plan = plan_zip(archive.infolist(), self.limits)
            if plan.problems:
                more = len(plan.problems) - MAX_REPORTED
                tail = [f"... and {more} more"] if more > 0 else []
                return self._fail(doc, plan.problems[:MAX_REPORTED] + tail)
            self._set(doc, {I.IMAGES_TOTAL: len(plan.images)})
            try:
                notes = read_annotations(archive, plan)  # before any image is written
                written = self._write_images(doc, archive, plan.images)
            except AnnotationsRefused as exc:
                return self._fail(doc, exc.problems[:MAX_REPORTED])
            except zipfile.BadZipFile as exc:  # a CRC or size that lies: stop there
                return self._fail(doc, [f"the zip is damaged: {exc}"])
        if isinstance(notes, str):
            self._set(doc, {I.ANNOTATION_ERRORS: [notes]})
        elif notes is not None:
            self._set(doc, {I.STATUS: "indexing"})
            self._wait_indexed(written)
            sizes = self._wait_sized(doc[I.DATASET_ID], notes.sized())
            report = self.annotate(doc[I.DATASET_ID], notes.shapes(sizes))
            errors = notes.errors + report.errors
            errors += [f"{name}: not in the dataset" for name in report.unmatched]
            self._set(doc, {I.ANNOTATED: report.images, I.ANNOTATION_ERRORS: errors[:1000]})
        self._set(doc, {I.STATUS: "done", I.FINISHED_AT: datetime.now(UTC)})
        return "done"

    def _write_images(
        self, doc: dict[str, Any], archive: zipfile.ZipFile, entries: list[tuple[Any, str]]
    ) -> dict[str, str]:
        """Stream each image into the dataset; returns key -> etag written."""
        written: dict[str, str] = {}
        reported = time.monotonic()
        for done, (info, path) in enumerate(entries, start=1):
            key = layout.object_key(doc[I.DATASET_ID], path)
            kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
            with archive.open(info) as source:
                self.storage.upload_fileobj(
                    source, self.bucket, key, ExtraArgs={"ContentType": kind}
                )
            written[key] = self.storage.head_object(Bucket=self.bucket, Key=key)["ETag"].strip('"')
            if time.monotonic() - reported >= self.progress_interval_s or done == len(entries):
                reported = time.monotonic()
                self._set(doc, {I.IMAGES_DONE: done})
        return written

    def _wait_indexed(self, written: dict[str, str]) -> None:
        """Until every written image is indexed at the version written (or the timeout)."""
        deadline = time.monotonic() + self.index_timeout_s
        keys = list(written)
        while time.monotonic() < deadline:
            found = self.store.indexed_etags(self.bucket, keys)
            indexed = {key for key, etag in found.items() if etag == written[key]}
            keys = [key for key in keys if key not in indexed]
            if not keys:
                return
            time.sleep(0.5)
        log.warning("imported images not all indexed in time", extra={"missing": len(keys)})

    def _wait_sized(self, dataset_id: str, paths: list[str]) -> dict[str, Size]:
        """The displayed sizes of those images, once each is decoded (or rejected), until
        the timeout; an image without one maps to None."""
        keys = {layout.object_key(dataset_id, path): path for path in paths}
        sizes: dict[str, Size] = {}
        deadline = time.monotonic() + self.index_timeout_s
        while keys and time.monotonic() < deadline:
            for key, size in self.store.decoded_sizes(self.bucket, list(keys)).items():
                sizes[keys.pop(key)] = size
            if keys:
                time.sleep(0.5)
        return sizes

    def _fail(self, doc: dict[str, Any], problems: list[str]) -> str:
        now = datetime.now(UTC)
        self._set(doc, {I.STATUS: "failed", I.PROBLEMS: problems, I.FINISHED_AT: now})
        log.info("import refused", extra={"import_id": doc[I.ID], "problems": problems[:3]})
        return "failed"

    def _set(self, doc: dict[str, Any], fields: dict[str, Any]) -> None:
        self.store.update(doc[I.ID], fields | {I.UPDATED_AT: datetime.now(UTC)})
