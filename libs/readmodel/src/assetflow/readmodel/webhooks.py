"""Webhooks and their deliveries: written by the API (webhooks, test pings) and by the
notifier (deliveries: an outbox it fills from Kafka and sends from)."""

import hashlib
from datetime import datetime
from typing import Any, Final, Literal, TypedDict

from pydantic_core import to_json
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

COLLECTION: Final = "webhooks"
DELIVERIES: Final = "webhook_deliveries"
MAX_PER_DATASET: Final = 20
RETENTION_S: Final = 30 * 24 * 3600
"""A finished delivery (delivered or failed) is kept this long for the log, then dropped."""
ATTEMPTS_KEPT: Final = 20

DeliveryStatus = Literal["pending", "delivered", "failed"]


class W:
    """Field names of a webhook document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    URL: Final = "url"
    EVENTS: Final = "events"
    ACTIVE: Final = "active"
    SECRET: Final = "secret"  # sealed (domain.webhooks.SecretBox), never returned
    NEXT_SEQ: Final = "next_seq"  # the last sequence number given to one of its deliveries
    CREATED_AT: Final = "created_at"
    UPDATED_AT: Final = "updated_at"


class D:
    """Field names of a delivery document."""

    ID: Final = "_id"  # deterministic: a redelivered fact makes no second delivery
    WEBHOOK_ID: Final = "webhook_id"
    DATASET_ID: Final = "dataset_id"
    SEQ: Final = "seq"  # order within its webhook
    EVENT: Final = "event"
    BODY: Final = "body"  # the exact JSON sent (and signed) on every attempt
    STATUS: Final = "status"
    ATTEMPTS: Final = "attempts"
    LOG: Final = "attempt_log"  # the last ATTEMPTS_KEPT attempts: at, status_code, ms, error
    LAST_STATUS_CODE: Final = "last_status_code"
    LAST_ERROR: Final = "last_error"
    CREATED_AT: Final = "created_at"
    NEXT_ATTEMPT_AT: Final = "next_attempt_at"
    LEASE_UNTIL: Final = "lease_until"  # an instance sends it until then; others leave it
    FINISHED_AT: Final = "finished_at"


class WebhookDocument(TypedDict):
    """A webhook as stored."""

    _id: str
    dataset_id: str
    url: str
    events: list[str]
    active: bool
    secret: str
    next_seq: int
    created_at: datetime
    updated_at: datetime


INDEXES: Final = (
    IndexModel([(W.DATASET_ID, ASCENDING), (W.CREATED_AT, ASCENDING)], name="by_dataset"),
)
DELIVERY_INDEXES: Final = (
    # The sender's queue: each webhook's oldest pending delivery (its head) is one seek.
    IndexModel(
        [(D.STATUS, ASCENDING), (D.WEBHOOK_ID, ASCENDING), (D.SEQ, ASCENDING)], name="queue"
    ),
    # A webhook's log, newest first.
    IndexModel([(D.WEBHOOK_ID, ASCENDING), (D.SEQ, DESCENDING)], name="log"),
    # Finished deliveries expire; pending ones have no finished_at and stay.
    IndexModel([(D.FINISHED_AT, ASCENDING)], name="retention", expireAfterSeconds=RETENTION_S),
)


def delivery_id(webhook_id: str, event_key: str) -> str:
    """A delivery's id from its webhook and the fact it tells (same fact, same id)."""
    return hashlib.blake2b(f"{webhook_id}\n{event_key}".encode(), digest_size=16).hexdigest()


def envelope(
    delivery: str, event: str, dataset_id: str, occurred_at: datetime, data: dict[str, Any]
) -> str:
    """The JSON body a receiver gets (and the signature covers)."""
    return to_json(
        {
            "id": delivery,
            "type": event,
            "dataset_id": dataset_id,
            "occurred_at": occurred_at,
            "data": data,
        }
    ).decode()


class Pending(TypedDict):
    """A delivery to add to a webhook's queue: its id, event and body."""

    id: str
    event: str
    body: str


async def enqueue(
    db: AsyncDatabase[dict[str, Any]],
    webhook_id: str,
    dataset_id: str,
    deliveries: list[Pending],
    now: datetime,
) -> int:
    """Append deliveries to a webhook's queue, in order; ids already queued are left as they
    are (a redelivered fact). Returns how many are new (0 if the webhook is gone)."""
    if not deliveries:
        return 0
    # A block of sequence numbers; a redelivered fact wastes its numbers, gaps are harmless.
    found = await db[COLLECTION].find_one_and_update(
        {W.ID: webhook_id},
        {"$inc": {W.NEXT_SEQ: len(deliveries)}},
        projection={W.NEXT_SEQ: 1},
        return_document=ReturnDocument.AFTER,
    )
    if found is None:
        return 0
    first = found[W.NEXT_SEQ] - len(deliveries) + 1
    writes = [
        UpdateOne(
            {D.ID: item["id"]},
            {
                "$setOnInsert": {
                    D.WEBHOOK_ID: webhook_id,
                    D.DATASET_ID: dataset_id,
                    D.SEQ: first + offset,
                    D.EVENT: item["event"],
                    D.BODY: item["body"],
                    D.STATUS: "pending",
                    D.ATTEMPTS: 0,
                    D.LOG: [],
                    D.CREATED_AT: now,
                    D.NEXT_ATTEMPT_AT: now,
                    D.LEASE_UNTIL: now,
                }
            },
            upsert=True,
        )
        for offset, item in enumerate(deliveries)
    ]
    result = await db[DELIVERIES].bulk_write(writes, ordered=True)
    return result.upserted_count
