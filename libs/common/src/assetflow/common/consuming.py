"""Helpers every batch consumer shares: raw bodies, source records, retry back-off."""

import asyncio
from typing import Any

from faststream.kafka.message import KafkaMessage
from faststream.message import StreamMessage

from assetflow.common.deadletter import SourceRecord


async def raw_batch_decoder(msg: StreamMessage[Any]) -> Any:
    """Leave message bodies as bytes: parsing (and dead-lettering) is the handler's job."""
    return msg.body


def source_records(msg: KafkaMessage) -> list[SourceRecord]:
    """The consumed records of a batch message, in partition order."""
    raw = msg.raw_message
    records = raw if isinstance(raw, tuple) else (raw,)
    return [
        SourceRecord(
            topic=r.topic, partition=r.partition, offset=r.offset, key=r.key, value=r.value or b""
        )
        for r in records
    ]


class Backoff:
    """Exponential back-off between redeliveries, so a dependency outage is not a hot loop."""

    def __init__(self, initial: float = 0.2, maximum: float = 10.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def delay(self) -> float:
        """Seconds to wait before the next attempt."""
        return min(self.maximum, self.initial * 2.0 ** max(0, self.failures - 1))

    async def failed(self) -> None:
        """Record a failure and wait before the batch is redelivered."""
        self.failures += 1
        await asyncio.sleep(self.delay())

    def succeeded(self) -> None:
        """Reset after a success."""
        self.failures = 0
