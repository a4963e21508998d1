"""Dead-lettering: the original bytes go to ``assets.dlq`` with the reason in headers."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from assetflow.contracts import topics
from assetflow.platform import metrics
from assetflow.platform.producer import Producer


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """Where a message came from, so an operator can find and replay it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)  # trace context, content type


def dead_letter_headers(source: SourceRecord, service: str, reason: str) -> dict[str, str]:
    """Headers describing why and from where a message was dead-lettered."""
    return {
        topics.DLQ_REASON_HEADER: reason[:2000],
        topics.DLQ_SERVICE_HEADER: service,
        topics.DLQ_SOURCE_TOPIC_HEADER: source.topic,
        topics.DLQ_SOURCE_PARTITION_HEADER: str(source.partition),
        topics.DLQ_SOURCE_OFFSET_HEADER: str(source.offset),
    }


async def send_dead_letter(
    producer: Producer, record: SourceRecord, service: str, reason: str
) -> "asyncio.Future[Any]":
    """Queue the original message on the dead-letter topic; await the result for durability."""
    headers = dead_letter_headers(record, service, reason)
    future = await producer.send(producer.topics.dlq, record.value, key=record.key, headers=headers)
    # The kind only ("invalid asset event", "storage unavailable after 4 attempts"): the
    # detail after the colon varies per message and would make a series per message.
    metrics.DEAD_LETTERED.labels(service, reason.split(":", 1)[0][:64]).inc()
    return future
