"""Webhooks: CRUD per dataset (URL checked against server-side request forgery, secret sealed),
the delivery log, and test pings queued into the notifier's outbox."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from assetflow.api.services import Database
from assetflow.contracts.errors import InvalidRequestError, NotFoundError
from assetflow.domain.targets import resolve_target
from assetflow.domain.webhooks import PING, SecretBox, new_secret
from assetflow.readmodel import webhooks
from assetflow.readmodel.webhooks import MAX_PER_DATASET, D, Pending, W

RESOLVE_TIMEOUT_S = 3.0


class Webhooks:
    """Webhooks of datasets; every method takes the dataset the caller administers."""

    def __init__(self, db: Database, box: SecretBox, *, allow_private: bool) -> None:
        self._db = db
        self._box = box
        self._allow_private = allow_private

    async def create(
        self, dataset_id: str, url: str, events: Sequence[str], active: bool, secret: str | None
    ) -> tuple[dict[str, Any], str]:
        """A new webhook and its secret (the only time it is returned)."""
        collection = self._db[webhooks.COLLECTION]
        if await collection.count_documents({W.DATASET_ID: dataset_id}) >= MAX_PER_DATASET:
            raise InvalidRequestError(f"a dataset has at most {MAX_PER_DATASET} webhooks")
        await self._check(url)
        secret = secret or new_secret()
        now = datetime.now(UTC)
        doc = {
            W.ID: uuid.uuid4().hex,
            W.DATASET_ID: dataset_id,
            W.URL: url,
            W.EVENTS: list(dict.fromkeys(events)),
            W.ACTIVE: active,
            W.SECRET: self._box.seal(secret),
            W.NEXT_SEQ: 0,
            W.CREATED_AT: now,
            W.UPDATED_AT: now,
        }
        await collection.insert_one(doc)
        return doc, secret

    async def of_dataset(self, dataset_id: str) -> list[dict[str, Any]]:
        """The dataset's webhooks, oldest first."""
        found = self._db[webhooks.COLLECTION].find({W.DATASET_ID: dataset_id})
        return await found.sort(W.CREATED_AT, 1).to_list()

    async def get(self, dataset_id: str, webhook_id: str) -> dict[str, Any]:
        """One webhook of the dataset; NotFoundError otherwise."""
        doc = await self._db[webhooks.COLLECTION].find_one(
            {W.ID: webhook_id, W.DATASET_ID: dataset_id}
        )
        if doc is None:
            raise NotFoundError(f"dataset {dataset_id!r} has no webhook {webhook_id!r}")
        return doc

    async def update(
        self,
        dataset_id: str,
        webhook_id: str,
        url: str | None,
        events: Sequence[str] | None,
        active: bool | None,
    ) -> dict[str, Any]:
        """Change a webhook's URL (checked again), events or active flag."""
        await self.get(dataset_id, webhook_id)
        fields: dict[str, Any] = {W.UPDATED_AT: datetime.now(UTC)}
        if url is not None:
            await self._check(url)
            fields[W.URL] = url
        if events is not None:
            fields[W.EVENTS] = list(dict.fromkeys(events))
        if active is not None:
            fields[W.ACTIVE] = active
        await self._db[webhooks.COLLECTION].update_one(
            {W.ID: webhook_id, W.DATASET_ID: dataset_id}, {"$set": fields}
        )
        return await self.get(dataset_id, webhook_id)

    async def delete(self, dataset_id: str, webhook_id: str) -> None:
        """Delete a webhook and its deliveries (pending ones are not sent)."""
        result = await self._db[webhooks.COLLECTION].delete_one(
            {W.ID: webhook_id, W.DATASET_ID: dataset_id}
        )
        if result.deleted_count == 0:
            raise NotFoundError(f"dataset {dataset_id!r} has no webhook {webhook_id!r}")
        await self._db[webhooks.DELIVERIES].delete_many({D.WEBHOOK_ID: webhook_id})

    async def deliveries(
        self, dataset_id: str, webhook_id: str, limit: int, before: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of the webhook's deliveries, newest first, and the next page's ``before``."""
        await self.get(dataset_id, webhook_id)
        query: dict[str, Any] = {D.WEBHOOK_ID: webhook_id}
        if before is not None:
            query[D.SEQ] = {"$lt": before}
        found = self._db[webhooks.DELIVERIES].find(query).sort(D.SEQ, -1).limit(limit + 1)
        items = await found.to_list()
        more = len(items) > limit
        items = items[:limit]
        return items, items[-1][D.SEQ] if more else None

    async def ping(self, dataset_id: str, webhook_id: str) -> str:
        """Queue a ``ping`` behind the webhook's other deliveries, whatever events it asks for
        (a paused webhook sends it when resumed); returns its delivery id."""
        doc = await self.get(dataset_id, webhook_id)
        now = datetime.now(UTC)
        delivery = webhooks.delivery_id(webhook_id, f"ping/{uuid.uuid4().hex}")
        data = {"webhook_id": webhook_id, "url": doc[W.URL]}
        body = webhooks.envelope(delivery, PING, dataset_id, now, data)
        item = Pending(id=delivery, event=PING, body=body)
        if not await webhooks.enqueue(self._db, webhook_id, dataset_id, [item], now):
            raise NotFoundError(f"dataset {dataset_id!r} has no webhook {webhook_id!r}")
        return delivery

    async def _check(self, url: str) -> None:
        """InvalidRequestError (400) for a URL webhooks may not call."""
        await resolve_target(url, allow_private=self._allow_private, timeout_s=RESOLVE_TIMEOUT_S)
