"""The sender: due deliveries from the outbox, per webhook in order, many webhooks at once.

Each webhook is a lane: its oldest pending delivery (its head) is claimed with a lease, sent,
and recorded; then the next. One delivery is in flight per webhook, so a receiver sees its
events in order, and a slow or dead receiver holds only its own lane: between attempts its
head waits in the database (``next_attempt_at``), not in a task. The lease lets several
notifier instances share the outbox: an instance that dies mid-attempt leaves a lease that
expires, and the delivery is sent again (at least once).
"""

import asyncio
import contextlib
import logging
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from assetflow.contracts.errors import ConfigError
from assetflow.domain.targets import RefusedTargetError, UnresolvableTargetError
from assetflow.domain.webhooks import SecretBox
from assetflow.notifier import observability as m
from assetflow.notifier.retries import RETRYABLE_STATUSES, next_attempt_at, retry_after_s
from assetflow.notifier.settings import NotifierOptions
from assetflow.notifier.signing import signed_headers
from assetflow.readmodel import webhooks
from assetflow.readmodel.webhooks import ATTEMPTS_KEPT, D, W

log = logging.getLogger(__name__)
INACTIVE_RECHECK_S = 30.0
"""A paused webhook's queue is looked at again this often (it keeps its deliveries)."""
FAILING_AFTER = 3


class Sender:
    """Sends due deliveries until cancelled; ``wake()`` makes it look at once."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        box: SecretBox,
        client: httpx.AsyncClient,
        options: NotifierOptions,
        rng: random.Random | None = None,
    ) -> None:
        self._deliveries = db[webhooks.DELIVERIES]
        self._webhooks = db[webhooks.COLLECTION]
        self._box = box
        self._client = client
        self._options = options
        self._rng = rng or random.Random()
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """New deliveries were queued."""
        self._woken.set()

    async def run_forever(self) -> None:
        """Look at the queue every poll interval (or when woken), start lanes for due heads."""
        try:
            while True:
                self._woken.clear()
                try:
                    await self.schedule()
                except PyMongoError as exc:
                    log.warning("webhook queue unavailable (%s); retrying", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self._options.poll_interval_s)
        finally:
            for lane in list(self._lanes.values()):
                lane.cancel()

    async def schedule(self) -> None:
        """Start a lane for every webhook whose head is due and not leased, within the bound."""
        now = datetime.now(UTC)
        heads = await self._heads()
        pending = sum(head["pending"] for head in heads)
        oldest = min((head["oldest"] for head in heads), default=None)
        m.PENDING.set(pending)
        m.OLDEST_PENDING.set((now - _utc(oldest)).total_seconds() if oldest else 0.0)
        m.FAILING_WEBHOOKS.set(sum(head["attempts"] >= FAILING_AFTER for head in heads))
        for head in heads:
            if len(self._lanes) >= self._options.concurrency:
                break
            webhook_id = head["_id"]
            due = _utc(head["next_attempt_at"]) <= now and _utc(head["lease_until"]) <= now
            if due and webhook_id not in self._lanes:
                lane = asyncio.create_task(self._lane(webhook_id), name=f"webhook {webhook_id}")
                self._lanes[webhook_id] = lane

    async def _heads(self) -> list[dict[str, Any]]:
        """Each webhook with pending deliveries: its head's timing, count and oldest age."""
        # O(pending deliveries) per look, on the `queue` index; the queue is short while
        # receivers keep up (a dead one holds at most what reaches it in max_age_s).
        found = await self._deliveries.aggregate(
            [
                {"$match": {D.STATUS: "pending"}},
                {"$sort": {D.WEBHOOK_ID: 1, D.SEQ: 1}},
                {
                    "$group": {
                        "_id": f"${D.WEBHOOK_ID}",
                        "next_attempt_at": {"$first": f"${D.NEXT_ATTEMPT_AT}"},
                        "lease_until": {"$first": f"${D.LEASE_UNTIL}"},
                        "attempts": {"$first": f"${D.ATTEMPTS}"},
                        "pending": {"$sum": 1},
                        "oldest": {"$min": f"${D.CREATED_AT}"},
                    }
                },
            ]
        )
        return await found.to_list()

    async def _lane(self, webhook_id: str) -> None:
        """Send the webhook's due deliveries in order until none is due."""
        try:
            while (delivery := await self._claim_head(webhook_id)) is not None:
                webhook = await self._webhooks.find_one({W.ID: webhook_id})
                if webhook is None:
                    await self._finish(delivery, "failed", None, "the webhook was deleted")
                    continue
                if not webhook.get(W.ACTIVE, True):
                    await self._postpone(delivery, INACTIVE_RECHECK_S)
                    return
                await self.attempt(webhook, delivery)
        except PyMongoError as exc:
            log.warning("webhook %s: queue unavailable (%s)", webhook_id, exc)
        except Exception:
            log.exception("webhook %s: sending failed", webhook_id)
        finally:
            self._lanes.pop(webhook_id, None)

    async def _claim_head(self, webhook_id: str) -> dict[str, Any] | None:
        """The webhook's oldest pending delivery, leased to us, if it is due and free."""
        head = await self._deliveries.find_one(
            {D.STATUS: "pending", D.WEBHOOK_ID: webhook_id}, sort=[(D.SEQ, 1)]
        )
        now = datetime.now(UTC)
        if head is None or _utc(head[D.NEXT_ATTEMPT_AT]) > now:
            return None
        if _utc(head[D.LEASE_UNTIL]) > now:
            return None  # another instance is sending it
        # Claimed only if nobody claimed it since we read it (the lease is the version).
        return await self._deliveries.find_one_and_update(
            {D.ID: head[D.ID], D.STATUS: "pending", D.LEASE_UNTIL: head[D.LEASE_UNTIL]},
            {"$set": {D.LEASE_UNTIL: now + timedelta(seconds=self._options.lease_s)}},
            return_document=ReturnDocument.AFTER,
        )

    async def attempt(self, webhook: dict[str, Any], delivery: dict[str, Any]) -> str:
        """One attempt of a claimed delivery, recorded; returns delivered, failed or pending."""
        body = delivery[D.BODY].encode()
        status_code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        started = time.monotonic()
        try:
            secret = self._box.open(webhook[W.SECRET])
            headers = signed_headers(
                secret, int(time.time()), body, delivery[D.ID], delivery[D.EVENT]
            )
            response = await self._client.post(webhook[W.URL], content=body, headers=headers)
            status_code = response.status_code
            if not response.is_success:
                error = f"HTTP {status_code}"
                retry_after = retry_after_s(response.headers.get("retry-after"), datetime.now(UTC))
            retryable = status_code in RETRYABLE_STATUSES
        except (RefusedTargetError, ConfigError) as exc:
            error, retryable = str(exc), False
        except (UnresolvableTargetError, httpx.TransportError) as exc:
            error, retryable = (
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                True,
            )
        elapsed = time.monotonic() - started
        m.ATTEMPT_SECONDS.observe(elapsed)
        now = datetime.now(UTC)
        entry = {"at": now, "status_code": status_code, "ms": round(elapsed * 1000), "error": error}
        if error is None:
            m.ATTEMPTS.labels("success").inc()
            return await self._finish(delivery, "delivered", status_code, None, entry)
        attempts = delivery[D.ATTEMPTS] + 1
        again = None
        if retryable:
            again = next_attempt_at(
                attempts=attempts,
                created_at=_utc(delivery[D.CREATED_AT]),
                now=now,
                initial=self._options.retry_initial_s,
                maximum=self._options.retry_max_s,
                max_attempts=self._options.max_attempts,
                max_age_s=self._options.max_age_s,
                retry_after=retry_after,
                rng=self._rng,
            )
        m.ATTEMPTS.labels("retry" if retryable else "refused").inc()
        if again is None:
            return await self._finish(delivery, "failed", status_code, error, entry)
        await self._deliveries.update_one(
            {D.ID: delivery[D.ID], D.STATUS: "pending"},
            {
                "$inc": {D.ATTEMPTS: 1},
                "$push": {D.LOG: {"$each": [entry], "$slice": -ATTEMPTS_KEPT}},
                "$set": {
                    D.LAST_STATUS_CODE: status_code,
                    D.LAST_ERROR: error,
                    D.NEXT_ATTEMPT_AT: again,
                    D.LEASE_UNTIL: now,
                },
            },
        )
        return "pending"

    async def _finish(
        self,
        delivery: dict[str, Any],
        status: str,
        status_code: int | None,
        error: str | None,
        entry: dict[str, Any] | None = None,
    ) -> str:
        now = datetime.now(UTC)
        update: dict[str, Any] = {
            "$set": {
                D.STATUS: status,
                D.LAST_STATUS_CODE: status_code,
                D.LAST_ERROR: error,
                D.FINISHED_AT: now,
                D.LEASE_UNTIL: now,
            }
        }
        if entry is not None:
            update["$inc"] = {D.ATTEMPTS: 1}
            update["$push"] = {D.LOG: {"$each": [entry], "$slice": -ATTEMPTS_KEPT}}
        await self._deliveries.update_one({D.ID: delivery[D.ID], D.STATUS: "pending"}, update)
        m.DELIVERIES.labels(status).inc()
        if status == "failed":
            log.warning(
                "webhook delivery failed for good",
                extra={
                    "delivery": delivery[D.ID],
                    "webhook": delivery[D.WEBHOOK_ID],
                    "error": error,
                },
            )
        return status

    async def _postpone(self, delivery: dict[str, Any], seconds: float) -> None:
        now = datetime.now(UTC)
        await self._deliveries.update_one(
            {D.ID: delivery[D.ID], D.STATUS: "pending"},
            {"$set": {D.NEXT_ATTEMPT_AT: now + timedelta(seconds=seconds), D.LEASE_UNTIL: now}},
        )


def _utc(value: datetime) -> datetime:
    """BSON dates come back naive unless the client is tz-aware; compare in UTC either way."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
