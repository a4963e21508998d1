"""The indexer's subscriber wired as in production, on FastStream's test broker, real database."""

from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.contracts import topics
from assetflow.contracts.topics import Topics
from assetflow.indexer.indexing import Indexer
from assetflow.indexer.main import create_app
from assetflow.indexer.store import MongoImageIndex
from assetflow.platform.consuming import WORK_CONTEXT, raw_batch_decoder
from assetflow.platform.producer import BrokerProducer
from tests.support.events import created, removed


@pytest.mark.asyncio
async def test_poison_event_is_dead_lettered_and_the_rest_of_the_batch_is_indexed(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    app = create_app()
    broker = app.broker
    assert broker is not None
    broker.context.set_global(
        WORK_CONTEXT, Indexer(MongoImageIndex(db), BrokerProducer(broker, Topics()))
    )
    dead: list[tuple[bytes, dict[str, str]]] = []

    @broker.subscriber(topics.DLQ, decoder=raw_batch_decoder)
    async def dlq(body: bytes, msg: KafkaMessage) -> None:
        dead.append((body, dict(msg.headers)))

    good = [created(f"d/images/{i}.jpg", 10 + i, size=i) for i in range(6)]
    # Valid JSON and a valid event, but its key is outside the layout: before, this stalled
    # its partition for good (retried forever).
    poison = created("d/not-images/x.jpg", 3).model_dump_json().encode()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(
            *(e.model_dump_json().encode() for e in good[:3]),
            poison,
            b"{not json",
            *(e.model_dump_json().encode() for e in good[3:]),
            removed("d/images/0.jpg", 99).model_dump_json().encode(),
            topic=topics.ASSET_OBJECTS,
        )

    live = {d["key"]: d["size"] async for d in db["images"].find({"deleted": False})}
    assert live == {f"d/images/{i}.jpg": i for i in range(1, 6)}
    reasons = {body: headers[topics.DLQ_REASON_HEADER] for body, headers in dead}
    assert reasons[poison] == "key outside the dataset layout: 'd/not-images/x.jpg'"
    assert reasons[b"{not json"].startswith("invalid asset event")
    # At-least-once: re-running halves of the batch may send a dead letter twice, never none.
    assert set(reasons) == {poison, b"{not json"}
