"""The ingest subscriber wired as in production, on FastStream's in-memory test broker."""

import pytest
from faststream.kafka import TestKafkaBroker

from assetflow.contracts import topics
from assetflow.contracts.events import decode_object_event
from assetflow.ingest.main import create_app
from assetflow.platform.consuming import raw_batch_decoder
from tests.support.minio_events import minio_message, minio_record


@pytest.mark.asyncio
async def test_handler_publishes_object_events_and_dead_letters() -> None:
    app = create_app()
    broker = app.broker
    assert broker is not None
    published: list[bytes] = []
    dead: list[bytes] = []

    @broker.subscriber(topics.ASSET_OBJECTS, batch=True, decoder=raw_batch_decoder)
    async def objects(bodies: list[bytes]) -> None:
        published.extend(bodies)

    @broker.subscriber(topics.DLQ, batch=True, decoder=raw_batch_decoder)
    async def dlq(bodies: list[bytes]) -> None:
        dead.extend(bodies)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(
            minio_message(minio_record("cats/images/a b.jpg", size=7)),
            b"not json",
            topic=topics.MINIO_EVENTS,
        )

    [event] = [decode_object_event(body) for body in published]
    assert (event.key, event.size, event.dataset_id) == ("cats/images/a b.jpg", 7, "cats")
    assert dead == [b"not json"]
