"""An in-memory fake of the notifier's outbox store (outbox.WebhookStore): webhooks, and
deliveries kept like the real one keeps them (known ids left alone, a sequence per webhook)."""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from assetflow.contracts.errors import DatabaseUnavailableError
from assetflow.notifier.outbox import Subscription
from assetflow.readmodel.webhooks import Pending


@dataclass
class FakeWebhookStore:
    """Webhooks by id; deliveries by id with their webhook and sequence number."""

    hooks: dict[str, Subscription] = field(default_factory=dict)
    deliveries: dict[str, tuple[str, int, Pending]] = field(default_factory=dict)
    next_seq: dict[str, int] = field(default_factory=dict)
    unavailable: bool = False

    def add(self, webhook_id: str, dataset_id: str, *events: str) -> None:
        """An active webhook of ``dataset_id`` asking for ``events``."""
        self.hooks[webhook_id] = Subscription(webhook_id, dataset_id, frozenset(events))

    async def subscriptions(self, dataset_ids: Collection[str]) -> list[Subscription]:
        """The active webhooks of these datasets."""
        if self.unavailable:
            raise DatabaseUnavailableError("the fake database is down")
        return [hook for hook in self.hooks.values() if hook.dataset_id in dataset_ids]

    async def enqueue(
        self, webhook_id: str, dataset_id: str, items: list[Pending], now: datetime
    ) -> int:
        """Queue new ids after the webhook's last sequence number."""
        first = self.next_seq.get(webhook_id, 0) + 1
        self.next_seq[webhook_id] = first + len(items) - 1
        new = 0
        for offset, item in enumerate(items):
            if item["id"] not in self.deliveries:
                self.deliveries[item["id"]] = (webhook_id, first + offset, item)
                new += 1
        return new

    def queue(self, webhook_id: str) -> list[Pending]:
        """A webhook's deliveries in their order."""
        mine = [entry for entry in self.deliveries.values() if entry[0] == webhook_id]
        return [item for _, _, item in sorted(mine, key=lambda entry: entry[1])]
