"""Kafka topic names and their partition counts, defined once for every service."""

from typing import Final

MINIO_EVENTS: Final = "minio.events"
"""Raw bucket notifications exactly as MinIO publishes them."""

ASSET_OBJECTS: Final = "assets.objects"
"""Our versioned object events and thumbnail results, all keyed by ``bucket/key``."""

DLQ: Final = "assets.dlq"
"""Messages no consumer can process, with the reason in headers."""

# Ordering is per object key, so these topics get several partitions for parallelism.
PARTITIONS: Final[dict[str, int]] = {
    MINIO_EVENTS: 3,
    ASSET_OBJECTS: 6,
    DLQ: 1,
}

# Header names carried by dead-lettered messages.
DLQ_REASON_HEADER: Final = "x-dlq-reason"
DLQ_SERVICE_HEADER: Final = "x-dlq-service"
DLQ_SOURCE_TOPIC_HEADER: Final = "x-dlq-source-topic"
DLQ_SOURCE_PARTITION_HEADER: Final = "x-dlq-source-partition"
DLQ_SOURCE_OFFSET_HEADER: Final = "x-dlq-source-offset"
