"""Reports every dataset's usage against its quota: ``assetflow_dataset_quota_usage_ratio``.

The API refuses uploads it signs past a quota; objects written straight to storage (or
uploads that were in flight together) are indexed anyway, and this report is how an operator
learns of it (alert DatasetOverQuota). Series exist only for datasets with a quota, one per
limit set, so the labels are bounded by the quotas admins set, not by the datasets.
"""

import asyncio
import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from assetflow.domain.quotas import quota_of, usage_of
from assetflow.indexer.observability import QUOTA_USAGE
from assetflow.readmodel import datasets

log = logging.getLogger(__name__)
Db = AsyncDatabase[dict[str, Any]]
_PROJECTION = {datasets.F.QUOTA: 1, datasets.F.BYTES: 1, datasets.F.IMAGES: 1}


async def quota_ratios(db: Db) -> dict[tuple[str, str], float]:
    """Usage over limit per (dataset, kind), for every limit set: one read of the datasets
    with a quota, through their partial index."""
    found = db[datasets.COLLECTION].find(datasets.WITH_QUOTA, _PROJECTION)
    ratios: dict[tuple[str, str], float] = {}
    async for doc in found.hint("with_quota"):
        for kind, ratio in quota_of(doc).ratios(usage_of(doc)).items():
            ratios[doc[datasets.F.ID], kind] = ratio
    return ratios


class QuotaReport:
    """Sets the gauge from the ratios, and removes the series of quotas lifted since."""

    def __init__(self) -> None:
        self._reported: set[tuple[str, str]] = set()

    async def refresh(self, db: Db) -> dict[tuple[str, str], float]:
        """Read the ratios and publish them; returns them."""
        ratios = await quota_ratios(db)
        for labels in self._reported - set(ratios):
            QUOTA_USAGE.remove(*labels)
        for labels, ratio in ratios.items():
            QUOTA_USAGE.labels(*labels).set(ratio)
        self._reported = set(ratios)
        return ratios

    async def refresh_forever(self, db: Db, interval_s: float) -> None:
        """Refresh every ``interval_s``; never raises."""
        while True:
            try:
                await self.refresh(db)
            except Exception:  # a failed read must not stop the indexer; the next one retries
                log.exception("quota report failed")
            await asyncio.sleep(interval_s)
