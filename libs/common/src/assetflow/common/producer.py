"""A narrow producer interface so consumer logic can be tested without a broker."""

import asyncio
from typing import Any, Protocol

from faststream.kafka import KafkaBroker


class Producer(Protocol):
    """Sends one message and returns a future that resolves once Kafka has it durably."""

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]
    ) -> "asyncio.Future[Any]": ...


class BrokerProducer:
    """Producer over a FastStream KafkaBroker (acks=all, idempotent)."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]
    ) -> "asyncio.Future[Any]":
        """Queue a message; await the returned future for the broker's acknowledgement."""
        result = await self._broker.publish(
            value, topic=topic, key=key, headers=headers, no_confirm=True
        )
        if isinstance(result, asyncio.Future):
            return result
        # FastStream's in-memory test broker delivers synchronously and returns no future.
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(result)
        return done
