"""A narrow producer interface so consumer logic can be tested without a broker."""

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from faststream.kafka import KafkaBroker

from assetflow.contracts.layout import message_key
from assetflow.contracts.topics import Topics
from assetflow.platform import metrics
from assetflow.platform.tracing import inject


class Producer(Protocol):
    """Sends one message and returns a future that resolves once Kafka has it durably."""

    @property
    def topics(self) -> Topics: ...

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]
    ) -> "asyncio.Future[Any]": ...


class BrokerProducer:
    """Producer over a FastStream KafkaBroker (acks=all, idempotent)."""

    def __init__(self, broker: KafkaBroker, topics: Topics) -> None:
        self._broker = broker
        self._topics = topics

    @property
    def topics(self) -> Topics:
        """The topic names to publish to."""
        return self._topics

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]
    ) -> "asyncio.Future[Any]":
        """Queue a message; await the returned future for the broker's acknowledgement."""
        headers = inject(dict(headers))  # the current span continues in the consumer
        result = await self._broker.publish(
            value, topic=topic, key=key, headers=headers, no_confirm=True
        )
        if isinstance(result, asyncio.Future):
            return result
        # FastStream's in-memory test broker delivers synchronously and returns no future.
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(result)
        return done


class _AssetEvent(Protocol):
    @property
    def bucket(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def type(self) -> str: ...

    def model_dump_json(self) -> str: ...


async def send_asset_event(
    producer: Producer, service: str, event: _AssetEvent
) -> "asyncio.Future[Any]":
    """Queue an event on ``assets.objects`` under its object's key (so per-object order holds)."""
    topic = producer.topics.asset_objects
    future = await producer.send(
        topic,
        event.model_dump_json().encode(),
        key=message_key(event.bucket, event.key),
        headers={"content-type": "application/json", "event-type": event.type},
    )
    metrics.PRODUCED.labels(service, topic).inc()
    return future


async def publish_asset_events(
    producer: Producer, service: str, events: Sequence[_AssetEvent]
) -> None:
    """Send every event; returns once Kafka has all of them durably."""
    sends = [await send_asset_event(producer, service, event) for event in events]
    await asyncio.gather(*sends)
