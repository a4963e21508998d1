"""The notifier's database: webhooks and the delivery outbox (readmodel.webhooks)."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from assetflow.notifier.outbox import Subscription
from assetflow.readmodel import webhooks
from assetflow.readmodel.webhooks import Pending, W


class MongoWebhookStore:
    """WebhookStore over MongoDB."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._db = db

    async def subscriptions(self, dataset_ids: Collection[str]) -> list[Subscription]:
        """The active webhooks of these datasets (one query on ``by_dataset``)."""
        found = self._db[webhooks.COLLECTION].find(
            {W.DATASET_ID: {"$in": list(dataset_ids)}, W.ACTIVE: True},
            {W.DATASET_ID: 1, W.EVENTS: 1},
        )
        return [
            Subscription(doc[W.ID], doc[W.DATASET_ID], frozenset(doc[W.EVENTS]))
            async for doc in found
        ]

    async def enqueue(
        self, webhook_id: str, dataset_id: str, items: list[Pending], now: datetime
    ) -> int:
        """Queue deliveries (readmodel.webhooks.enqueue)."""
        return await webhooks.enqueue(self._db, webhook_id, dataset_id, items, now)
