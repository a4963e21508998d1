"""Recompute counters from the images, report drift, and repair it (`assetflow reconcile`)."""

import asyncio
import logging
import random
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.indexer.observability import DRIFT, DRIFT_CHECKS
from assetflow.readmodel import counters, datasets, duplicates, images

Db = AsyncDatabase[dict[str, Any]]
log = logging.getLogger(__name__)


async def reconcile_dataset(db: Db, dataset_id: str, *, repair: bool) -> dict[str, int]:
    """Drift of one dataset's counters (stored - truth); with ``repair``, set them to the truth.

    Counting, comparing and repairing share one transaction (one snapshot), so an indexer
    batch committed meanwhile makes the repair conflict and retry instead of being undone.
    """

    async def transaction(session: AsyncClientSession) -> dict[str, int]:
        stored = await counters.stored_counts(db, dataset_id, session, folders=True)
        truth = await counters.recount(db, dataset_id, session)
        stored_sha256 = await duplicates.stored(db, dataset_id, session)
        truth_sha256 = await duplicates.recount(db, dataset_id, session)
        flagged = await duplicates.flagged(db, dataset_id, session)
        drift = stored.drift(truth) | duplicates.drift(stored_sha256, truth_sha256)
        drift |= duplicates.flag_drift(flagged, truth_sha256)
        if repair and drift:
            dataset_ops, tag_ops, folder_ops = counters.repair_updates(dataset_id, stored, truth)
            sha256_ops = duplicates.repair_updates(dataset_id, stored_sha256, truth_sha256)
            for collection, ops in (
                (datasets.COLLECTION, dataset_ops),
                (counters.TAG_COUNTS, tag_ops),
                (counters.FOLDER_COUNTS, folder_ops),
                (duplicates.COLLECTION, sha256_ops),
                (images.COLLECTION, duplicates.flag_repairs(dataset_id, flagged, truth_sha256)),
            ):
                if ops:
                    await db[collection].bulk_write(ops, session=session)
        return drift

    async with db.client.start_session() as session:
        return await session.with_transaction(transaction)


async def dataset_ids(db: Db) -> list[str]:
    """Every dataset the indexer has seen."""
    return sorted([doc[datasets.F.ID] async for doc in db[datasets.COLLECTION].find({}, {})])


async def sample_drift(db: Db) -> int:
    """Check one dataset picked at random; sets the drift gauge to its total |drift|."""
    ids = await dataset_ids(db)
    if not ids:
        DRIFT.set(0)
        return 0
    dataset_id = random.choice(ids)
    total = sum(abs(v) for v in (await reconcile_dataset(db, dataset_id, repair=False)).values())
    DRIFT.set(total)
    DRIFT_CHECKS.inc()
    if total:
        log.error("counter drift found", extra={"dataset_id": dataset_id, "drift": total})
    return total


async def check_drift_forever(db: Db, interval_s: float) -> None:
    """The periodic sampled check behind ``assetflow_tag_count_drift``; never raises."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await sample_drift(db)
        except Exception:  # a failed check must not stop the indexer; the next one retries
            log.exception("drift check failed")
