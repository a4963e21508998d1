"""Dead-lettering: the original bytes go to ``assets.dlq`` with the reason in headers."""

from dataclasses import dataclass

from assetflow.common import topics


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """Where a message came from, so an operator can find and replay it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


def dead_letter_headers(source: SourceRecord, service: str, reason: str) -> dict[str, str]:
    """Headers describing why and from where a message was dead-lettered."""
    return {
        topics.DLQ_REASON_HEADER: reason[:2000],
        topics.DLQ_SERVICE_HEADER: service,
        topics.DLQ_SOURCE_TOPIC_HEADER: source.topic,
        topics.DLQ_SOURCE_PARTITION_HEADER: str(source.partition),
        topics.DLQ_SOURCE_OFFSET_HEADER: str(source.offset),
    }
