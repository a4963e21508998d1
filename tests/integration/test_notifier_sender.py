"""The notifier's outbox and sender on the real database with a real HTTP receiver: ids and
order kept under redelivery, two senders sharing one outbox send each delivery once and in
order, a lease left by a crashed sender expires and the delivery is sent again."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.domain.webhooks import SecretBox, WebhookSettings
from assetflow.notifier.sending import Sender
from assetflow.notifier.settings import NotifierOptions
from assetflow.notifier.signing import verify
from assetflow.notifier.transport import checked_transport
from assetflow.readmodel import webhooks
from assetflow.readmodel.webhooks import D, Pending, W
from tests.support.receiver import Receiver, always

SECRET = "whsec_integration-secret-0123456789"
OPTIONS = NotifierOptions(timeout_s=2, retry_initial_s=0.1, retry_max_s=0.5, poll_interval_s=0.1)
BOX = SecretBox(WebhookSettings().secret_keys)
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # when facts happened (not when queued)


async def _webhook(db: AsyncDatabase[dict[str, Any]], url: str) -> str:
    await db[webhooks.COLLECTION].insert_one(
        {
            W.ID: "w1",
            W.DATASET_ID: "ds",
            W.URL: url,
            W.EVENTS: ["image.ready"],
            W.ACTIVE: True,
            W.SECRET: BOX.seal(SECRET),
            W.NEXT_SEQ: 0,
            W.CREATED_AT: NOW,
            W.UPDATED_AT: NOW,
        }
    )
    return "w1"


def _pending(n: int) -> Pending:
    delivery = webhooks.delivery_id("w1", f"fact-{n}")
    body = webhooks.envelope(delivery, "image.ready", "ds", NOW, {"n": n})
    return Pending(id=delivery, event="image.ready", body=body)


def _sender(db: AsyncDatabase[dict[str, Any]], client: httpx.AsyncClient) -> Sender:
    return Sender(db, BOX, client, OPTIONS)


def _client() -> httpx.AsyncClient:
    transport = checked_transport(allow_private=True, timeout_s=2, max_connections=4)
    return httpx.AsyncClient(transport=transport, timeout=2)


async def _until(what: str, probe: Any, seconds: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await probe():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_enqueue_keeps_ids_and_order_under_redelivery(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await _webhook(db, "http://127.0.0.1:9/")
    first = [_pending(n) for n in range(3)]
    assert await webhooks.enqueue(db, "w1", "ds", first, NOW) == 3
    # A rewound batch: the same three again, then one new.
    assert await webhooks.enqueue(db, "w1", "ds", [*first, _pending(3)], NOW) == 1
    stored = await db[webhooks.DELIVERIES].find().sort(D.SEQ, 1).to_list()
    assert [json.loads(doc[D.BODY])["data"]["n"] for doc in stored] == [0, 1, 2, 3]
    assert [doc[D.SEQ] for doc in stored] == [1, 2, 3, 7]  # a redelivery leaves a gap
    assert await webhooks.enqueue(db, "gone", "ds", [_pending(9)], NOW) == 0


@pytest.mark.asyncio
async def test_two_senders_send_each_delivery_once_in_order(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    with Receiver(always(200)) as receiver:
        await _webhook(db, receiver.url)
        await webhooks.enqueue(db, "w1", "ds", [_pending(n) for n in range(20)], datetime.now(UTC))
        async with _client() as one, _client() as two:
            tasks = [
                asyncio.create_task(_sender(db, client).run_forever()) for client in (one, two)
            ]
            try:

                async def all_delivered() -> bool:
                    count = await db[webhooks.DELIVERIES].count_documents({D.STATUS: "delivered"})
                    return count == 20

                await _until("20 deliveries", all_delivered)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        got = receiver.received()
    assert [json.loads(r.body)["data"]["n"] for r in got] == list(range(20))
    assert all(verify(SECRET, r.headers, r.body) for r in got)
    docs = await db[webhooks.DELIVERIES].find().to_list()
    assert all(doc[D.ATTEMPTS] == 1 for doc in docs)


@pytest.mark.asyncio
async def test_a_crashed_senders_lease_expires_and_the_delivery_is_sent_again(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    with Receiver(always(200)) as receiver:
        await _webhook(db, receiver.url)
        await webhooks.enqueue(db, "w1", "ds", [_pending(0)], datetime.now(UTC))
        # Leased by a sender that died mid-attempt: nobody may send it until the lease ends.
        lease_end = datetime.now(UTC) + timedelta(seconds=1.5)
        await db[webhooks.DELIVERIES].update_one({}, {"$set": {D.LEASE_UNTIL: lease_end}})
        async with _client() as client:
            sender = _sender(db, client)
            await sender.schedule()
            await asyncio.sleep(0.5)
            assert receiver.received() == []
            task = asyncio.create_task(sender.run_forever())
            try:

                async def delivered() -> bool:
                    doc = await db[webhooks.DELIVERIES].find_one()
                    return doc is not None and doc[D.STATUS] == "delivered"

                await _until("the delivery after its lease", delivered)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        got = receiver.received()
    assert len(got) == 1 and verify(SECRET, got[0].headers, got[0].body)
