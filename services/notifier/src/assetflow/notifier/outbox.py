"""The notifier's consumer logic: each fact becomes one delivery per webhook that asks for it.

Deliveries are written to an outbox in MongoDB (ids from the webhook and the fact, so a
redelivered record queues nothing twice) and the batch's offsets are committed after that:
nothing is lost, and the partition never waits for a receiver. The sender (sending.py) sends
from the outbox.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from assetflow.contracts.topics import Topics
from assetflow.notifier.facts import Fact, facts_of
from assetflow.notifier.observability import ENQUEUED
from assetflow.platform.deadletter import SourceRecord
from assetflow.readmodel.webhooks import Pending, delivery_id, envelope

SERVICE = "notifier"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Subscription:
    """An active webhook: which dataset, which events."""

    webhook_id: str
    dataset_id: str
    events: frozenset[str]


class WebhookStore(Protocol):
    """The outbox's database."""

    async def subscriptions(self, dataset_ids: Collection[str]) -> list[Subscription]:
        """The active webhooks of these datasets."""
        ...

    async def enqueue(
        self, webhook_id: str, dataset_id: str, items: list[Pending], now: datetime
    ) -> int:
        """Queue deliveries in order (known ids left alone); returns how many are new."""
        ...


@dataclass(frozen=True, slots=True)
class NotifierContext:
    """What the consumer logic needs, built once by the composition root."""

    store: WebhookStore
    topics: Topics
    wake: Callable[[], None]  # tells the sender there is something new


def deliveries_for(
    facts: Sequence[Fact], hooks: Sequence[Subscription]
) -> dict[str, list[Pending]]:
    """Each webhook's new deliveries, in the facts' order."""
    by_dataset: dict[str, list[Subscription]] = defaultdict(list)
    for hook in hooks:
        by_dataset[hook.dataset_id].append(hook)
    queued: dict[str, list[Pending]] = defaultdict(list)
    for fact in facts:
        for hook in by_dataset.get(fact.dataset_id, ()):
            if fact.event in hook.events:
                did = delivery_id(hook.webhook_id, fact.key)
                body = envelope(did, fact.event, fact.dataset_id, fact.occurred_at, fact.data)
                queued[hook.webhook_id].append(Pending(id=did, event=fact.event, body=body))
    return queued


async def enqueue_batch(records: Sequence[SourceRecord], ctx: NotifierContext) -> int:
    """The subscriber's work: queue the batch's deliveries; returns how many are new.

    Raises InvalidEventError for a record that cannot be read (it is dead-lettered) and a
    transient error when the database is unavailable (the batch is redelivered).
    """
    facts = [fact for record in records for fact in facts_of(record, ctx.topics)]
    if not facts:
        return 0
    hooks = await ctx.store.subscriptions({fact.dataset_id for fact in facts})
    if not hooks:
        return 0
    datasets = {hook.webhook_id: hook.dataset_id for hook in hooks}
    now = datetime.now(UTC)
    new = 0
    for webhook_id, items in deliveries_for(facts, hooks).items():
        new += await ctx.store.enqueue(webhook_id, datasets[webhook_id], items, now)
    if new:
        ENQUEUED.inc(new)
        ctx.wake()
    return new
