"""Schema migrations: the indexes every collection needs, ensured idempotently.

``devstack bootstrap`` runs them, and so does each service at start, so no service depends
on another having started first.
"""

import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from assetflow.readmodel import (
    annotations,
    counters,
    datasets,
    duplicates,
    images,
    shares,
    snapshots,
    views,
    webhooks,
)

log = logging.getLogger(__name__)


async def migrate(db: AsyncDatabase[dict[str, Any]]) -> list[str]:
    """Create every missing index; returns the names of all ensured indexes."""
    names: list[str] = []
    for collection, indexes in (
        (images.COLLECTION, images.INDEXES),
        (counters.TAG_COUNTS, counters.INDEXES),
        (counters.FOLDER_COUNTS, counters.FOLDER_INDEXES),
        (duplicates.COLLECTION, duplicates.INDEXES),
        (annotations.COLLECTION, annotations.INDEXES),
        (annotations.LABEL_COUNTS, annotations.LABEL_INDEXES),
        (snapshots.COLLECTION, snapshots.INDEXES),
        (snapshots.MANIFESTS, snapshots.MANIFEST_INDEXES),
        (views.COLLECTION, views.INDEXES),
        (shares.COLLECTION, shares.INDEXES),
        (datasets.COLLECTION, datasets.INDEXES),
        (webhooks.COLLECTION, webhooks.INDEXES),
        (webhooks.DELIVERIES, webhooks.DELIVERY_INDEXES),
    ):
        ensured = await db[collection].create_indexes(list(indexes))
        log.debug("indexes ensured", extra={"collection": collection, "indexes": ensured})
        names += ensured
    return names
