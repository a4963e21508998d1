"""Dataset quotas: read and set them, and check an upload against them before it is signed.

The check is against **indexed** usage (the indexer's exact counters), with no reservation
for uploads signed but not yet indexed: a reservation could only end when the object is
indexed or its URL expires, so a finished upload would count twice for up to the URL's
lifetime and refuse honest uploads. The overshoot this allows is bounded by the uploads a
dataset's clients run at once (each within the quota when signed), and the indexer reports
any dataset over its quota (``assetflow_dataset_quota_usage_ratio``, alert DatasetOverQuota).
"""

from typing import Any

from assetflow.api.services import Database
from assetflow.contracts import layout
from assetflow.contracts.errors import QuotaExceededError
from assetflow.domain.quotas import Quota, Usage, quota_of, upload_adds, usage_of
from assetflow.readmodel import datasets, images
from assetflow.readmodel.images import F


class Quotas:
    """Reads and writes the quota on the dataset document; checks uploads against it."""

    def __init__(self, db: Database, bucket: str) -> None:
        self._db = db
        self._bucket = bucket

    async def get(self, dataset_id: str) -> tuple[Quota, Usage]:
        """The dataset's quota and its indexed usage (unlimited and 0 for an unknown one)."""
        doc = await self._db[datasets.COLLECTION].find_one(
            {datasets.F.ID: dataset_id},
            {datasets.F.QUOTA: 1, datasets.F.BYTES: 1, datasets.F.IMAGES: 1},
        )
        return quota_of(doc or {}), usage_of(doc or {})

    async def set(self, dataset_id: str, quota: Quota) -> tuple[Quota, Usage]:
        """Replace the dataset's quota (creating its document if no image was indexed yet)."""
        await self._db[datasets.COLLECTION].update_one(
            {datasets.F.ID: dataset_id},
            datasets.quota_update(quota.max_bytes, quota.max_images),
            upsert=True,
        )
        return await self.get(dataset_id)

    async def check_upload(self, dataset_id: str, key: str, size: int) -> None:
        """Raise QuotaExceededError if an upload of ``size`` bytes to ``key`` would take the
        dataset past its quota; an overwrite counts only its size difference."""
        quota, usage = await self.get(dataset_id)
        if quota == Quota():
            return  # no quota: not even the overwrite lookup
        added = upload_adds(size, await self._live_size(key))
        if exceeded := quota.exceeded_by(usage, added):
            raise QuotaExceededError(
                list(exceeded),
                {"max_bytes": quota.max_bytes, "max_images": quota.max_images},
                {"bytes": usage.bytes, "images": usage.images},
            )

    async def _live_size(self, key: str) -> int | None:
        """The size of the live image at ``key`` (one lookup by id), None if there is none."""
        image_id = layout.image_id(self._bucket, key)
        doc: dict[str, Any] | None = await self._db[images.COLLECTION].find_one(
            {F.ID: image_id, F.DELETED: False}, {F.SIZE: 1}
        )
        return None if doc is None else int(doc.get(F.SIZE) or 0)
