"""Annotation writes: a revision check, the shapes, the image's summary and the label counts in
one transaction; then an ``AnnotationsChanged`` fact, published at least once.

The annotation document, the image's summary of it and the (dataset, label) counters are
written together, so counts never disagree with the shapes. The indexer, deleting an image,
subtracts that summary in its own transaction; the two writers of an image conflict and
retry. Publishing happens after the commit: a document stays marked ``unpublished`` until
Kafka has its event, and a sweeper republishes what a crash left marked.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.contracts import layout
from assetflow.contracts.errors import InvalidRequestError, NotFoundError, StaleRevisionError
from assetflow.contracts.events import AnnotationsChanged
from assetflow.domain.coco import CocoFile, ImageShapes, orphan_errors, read_coco
from assetflow.readmodel import annotations, counters, images
from assetflow.readmodel.annotations import MAX_SHAPES, A, Shape
from assetflow.readmodel.images import F
from assetflow.readmodel.transactions import in_transaction

Database = AsyncDatabase[dict[str, Any]]


class Publishes(Protocol):
    """Where ``AnnotationsChanged`` goes (the API's Kafka publisher, or a service's own)."""

    async def publish(self, messages: Sequence[AnnotationsChanged]) -> None: ...


Change = Callable[[list[Shape]], list[Shape]]
log = logging.getLogger(__name__)

UNPUBLISHED: Final = "unpublished"
_LOOKUP_PAGE = 500
_IMPORT_WRITERS = 8
REPUBLISH_AFTER = timedelta(seconds=30)
_IMAGE_FIELDS = {
    F.DATASET_ID: 1,
    F.BUCKET: 1,
    F.KEY: 1,
    F.DELETED: 1,
    F.SIZE: 1,
    F.TAGS: 1,
    F.STATUS: 1,
    F.WIDTH: 1,
    F.HEIGHT: 1,
    F.LABELS: 1,
}


@dataclass(frozen=True, slots=True)
class Annotated:
    """An image's annotations at one revision (0: never annotated)."""

    image_id: str
    dataset_id: str
    revision: int
    shapes: list[Shape]


@dataclass
class ImportReport:
    """What an import did: images written (with their shapes), and what it could not use."""

    images: int = 0
    shapes: int = 0
    unmatched: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def validate(shapes: Sequence[Shape], width: int | None, height: int | None) -> None:
    """The rules that need the whole set or the image; raises InvalidRequestError."""
    if len(shapes) > MAX_SHAPES:
        raise InvalidRequestError(f"an image has at most {MAX_SHAPES} shapes, got {len(shapes)}")
    if duplicated := annotations.duplicate_ids(shapes):
        raise InvalidRequestError(f"shape ids must be unique; repeated: {duplicated[:10]}")
    if width and height:
        for shape in shapes:
            if reason := annotations.outside(shape, width, height):
                raise InvalidRequestError(reason)


class Annotating:
    """Reads and conditional writes of annotations, with their counters and events."""

    def __init__(self, db: Database, publisher: Publishes) -> None:
        self.db = db
        self.publisher = publisher

    async def read(self, image_id: str) -> Annotated:
        """The current annotations of a live image; raises NotFoundError."""
        image = await self.db[images.COLLECTION].find_one(
            {F.ID: image_id, F.DELETED: False}, {F.DATASET_ID: 1}
        )
        if image is None:
            raise NotFoundError(f"no image with id {image_id!r}")
        doc = await self.db[annotations.COLLECTION].find_one({A.ID: image_id})
        return _annotated(image_id, image[F.DATASET_ID], doc)

    async def write(self, image_id: str, expected: int | None, change: Change) -> Annotated:
        """Apply ``change`` if the current revision is ``expected`` (None: whichever it is).

        Raises NotFoundError, StaleRevisionError (with the current revision) or
        InvalidRequestError. Returns once the change is committed and its event is durable
        in Kafka (or left for the sweeper, if Kafka is down: the write itself stands).
        """
        now = datetime.now(UTC)

        async def transaction(session: AsyncClientSession) -> tuple[Annotated, dict[str, Any]]:
            image = await self.db[images.COLLECTION].find_one(
                {F.ID: image_id}, _IMAGE_FIELDS, session=session
            )
            if image is None or image[F.DELETED]:
                raise NotFoundError(f"no image with id {image_id!r}")
            doc = await self.db[annotations.COLLECTION].find_one({A.ID: image_id}, session=session)
            current = _annotated(image_id, image[F.DATASET_ID], doc)
            if expected is not None and current.revision != expected:
                raise StaleRevisionError(current.revision)
            shapes = change(current.shapes)
            validate(shapes, image.get(F.WIDTH), image.get(F.HEIGHT))
            written = Annotated(image_id, current.dataset_id, current.revision + 1, shapes)
            await self._store(session, image, written, now)
            return written, image

        written, image = await in_transaction(self.db, transaction, what="annotation write failed")
        await self._publish(image, written.revision, len(written.shapes), now)
        return written

    async def import_coco(self, dataset_id: str, bucket: str, coco: CocoFile) -> ImportReport:
        """Replace the annotations of every dataset image the file lists (matched by path).

        An image is written whole or not at all: any bad annotation of it, or a shape that
        does not fit it, skips that image and is reported.
        """
        report = await self.import_shapes(dataset_id, bucket, read_coco(coco))
        report.errors[:0] = orphan_errors(coco)
        return report

    async def import_shapes(
        self, dataset_id: str, bucket: str, items: Iterable[ImageShapes]
    ) -> ImportReport:
        """Replace the annotations of every dataset image ``items`` names (matched by path),
        each image whole or not at all, as ``import_coco`` does."""
        report = ImportReport()
        entries = {layout.object_key(dataset_id, item.file_name): item for item in items}
        found: dict[str, dict[str, Any]] = {}
        keys = list(entries)
        for start in range(0, len(keys), _LOOKUP_PAGE):
            query: dict[str, Any] = {
                F.BUCKET: bucket,
                F.KEY: {"$in": keys[start : start + _LOOKUP_PAGE]},
                F.DELETED: False,
            }
            async for doc in self.db[images.COLLECTION].find(query, {F.KEY: 1}):
                found[doc[F.KEY]] = doc
        limit = asyncio.Semaphore(_IMPORT_WRITERS)

        async def one(key: str, item: ImageShapes) -> None:
            doc = found.get(key)
            if doc is None:
                report.unmatched.append(item.file_name)
                return
            if item.errors:
                report.errors += [f"{item.file_name}: {error}" for error in item.errors]
                return
            async with limit:
                try:
                    await self.write(doc[F.ID], None, replace_with(item.shapes))
                except (InvalidRequestError, NotFoundError) as exc:
                    report.errors.append(f"{item.file_name}: {exc}")
                    return
            report.images += 1
            report.shapes += len(item.shapes)

        await asyncio.gather(*(one(key, item) for key, item in entries.items()))
        report.unmatched.sort()
        return report

    async def _store(
        self, session: AsyncClientSession, image: dict[str, Any], written: Annotated, now: datetime
    ) -> None:
        summary = annotations.label_summary(written.shapes)
        await self.db[annotations.COLLECTION].replace_one(
            {A.ID: written.image_id},
            {
                A.DATASET_ID: written.dataset_id,
                A.REVISION: written.revision,
                A.SHAPES: [shape.model_dump(exclude_none=True) for shape in written.shapes],
                A.UPDATED_AT: now,
                UNPUBLISHED: True,
            },
            upsert=True,
            session=session,
        )
        after = image | {F.LABELS: summary}
        deltas = counters.CounterDeltas()
        deltas.move(counters.contribution(image), counters.contribution(after))
        await self.db[images.COLLECTION].update_one(
            {F.ID: written.image_id},
            {
                "$set": {
                    F.LABELS: summary,
                    F.ANNOTATION_REVISION: written.revision,
                    F.ANNOTATION_HASH: annotations.content_hash(written.shapes),
                }
            },
            session=session,
        )
        if updates := deltas.label_updates():
            await self.db[annotations.LABEL_COUNTS].bulk_write(
                updates, ordered=False, session=session
            )

    async def _publish(
        self, image: dict[str, Any], revision: int, shapes: int, now: datetime
    ) -> None:
        event = AnnotationsChanged(
            bucket=image[F.BUCKET],
            key=image[F.KEY],
            dataset_id=image[F.DATASET_ID],
            revision=revision,
            shapes=shapes,
            changed_at=now,
        )
        try:
            await self.publisher.publish([event])
        except Exception:
            log.warning(
                "AnnotationsChanged not published; the sweeper retries",
                extra={"image_id": image[F.ID], "revision": revision},
                exc_info=True,
            )
            return
        await self.db[annotations.COLLECTION].update_one(
            {A.ID: image[F.ID], A.REVISION: revision}, {"$unset": {UNPUBLISHED: ""}}
        )

    async def republish(self) -> int:
        """Publish every change a crash or an outage left unpublished; returns how many."""
        cutoff = datetime.now(UTC) - REPUBLISH_AFTER
        found = self.db[annotations.COLLECTION].find(
            {UNPUBLISHED: True, A.UPDATED_AT: {"$lt": cutoff}},
            {A.REVISION: 1, A.SHAPES: 1, A.UPDATED_AT: 1},
        )
        published = 0
        async for doc in found:
            image = await self.db[images.COLLECTION].find_one(
                {F.ID: doc[A.ID]}, {F.BUCKET: 1, F.KEY: 1, F.DATASET_ID: 1}
            )
            if image is None:
                continue
            changed_at = doc[A.UPDATED_AT]
            if changed_at.tzinfo is None:
                changed_at = changed_at.replace(tzinfo=UTC)
            await self._publish(image, doc[A.REVISION], len(doc[A.SHAPES]), changed_at)
            published += 1
        return published

    async def republish_forever(self, interval_s: float) -> None:
        """The sweeper: republish what is left marked, every ``interval_s``."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.republish()
            except Exception:
                log.exception("annotation republish sweep failed")


def _annotated(image_id: str, dataset_id: str, doc: dict[str, Any] | None) -> Annotated:
    if doc is None:
        return Annotated(image_id, dataset_id, 0, [])
    shapes = [Shape.model_validate(shape) for shape in doc.get(A.SHAPES) or ()]
    return Annotated(image_id, dataset_id, int(doc[A.REVISION]), shapes)


def replace_with(shapes: Iterable[Shape]) -> Change:
    """A change that replaces every shape (PUT)."""
    new = list(shapes)
    return lambda _current: new


def patch_with(upsert: Iterable[Shape], delete: Iterable[str]) -> Change:
    """A change that upserts some shapes by id and deletes others (PATCH)."""
    to_upsert, to_delete = list(upsert), list(delete)
    return lambda current: annotations.patched(current, to_upsert, to_delete)
