"""Annotations: an image's shapes (conditional writes), label counts, COCO imports."""

from typing import Any

from assetflow.api.services import Database
from assetflow.domain.annotating import Annotated, Annotating, Change, ImportReport
from assetflow.domain.coco import CocoFile
from assetflow.readmodel import annotations
from assetflow.readmodel.annotations import L


class Annotations:
    """The API's side of annotating: reads and conditional writes, counters, imports."""

    def __init__(self, annotating: Annotating, db: Database, bucket: str) -> None:
        self._annotating = annotating
        self._db = db
        self._bucket = bucket

    async def read(self, image_id: str) -> Annotated:
        """The image's shapes and revision."""
        return await self._annotating.read(image_id)

    async def write(self, image_id: str, expected: int | None, change: Change) -> Annotated:
        """Apply ``change`` if the image is at revision ``expected`` (None: whichever it is)."""
        if expected is None:
            expected = (await self._annotating.read(image_id)).revision
        return await self._annotating.write(image_id, expected, change)

    async def labels(self, dataset_id: str) -> list[dict[str, Any]]:
        """Label counters of the dataset's live images, most shapes first (then by label)."""
        found = self._db[annotations.LABEL_COUNTS].find(
            {L.DATASET_ID: dataset_id, L.IMAGES: {"$gt": 0}}
        )
        docs = [doc async for doc in found]
        return sorted(docs, key=lambda doc: (-int(doc[L.SHAPES]), doc[L.LABEL]))

    async def import_coco(self, dataset_id: str, coco: CocoFile) -> ImportReport:
        """Replace the annotations of every image the COCO file lists (matched by path)."""
        return await self._annotating.import_coco(dataset_id, self._bucket, coco)

    async def republish_forever(self, interval_s: float) -> None:
        """Re-publish annotation facts whose publication was interrupted; never returns."""
        await self._annotating.republish_forever(interval_s)
