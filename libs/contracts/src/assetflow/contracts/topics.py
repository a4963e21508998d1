"""Kafka topic names and their partition counts, defined once for every service."""

from dataclasses import dataclass
from typing import Final

MINIO_EVENTS: Final = "minio.events"
"""Raw bucket notifications exactly as MinIO publishes them."""

ASSET_OBJECTS: Final = "assets.objects"
"""Our versioned object events and thumbnail results, all keyed by ``bucket/key``."""

COMMANDS: Final = "assets.commands"
"""Requests for long work (snapshot builds), keyed by dataset."""

SNAPSHOTS: Final = "assets.snapshots"
"""Snapshot progress and outcomes, import outcomes, keyed by dataset."""

CHANGES: Final = "assets.changes"
"""What the indexer committed, per image (ImageChanged), keyed by dataset: live views."""

DLQ: Final = "assets.dlq"
"""Messages no consumer can process, with the reason in headers."""

# Ordering is per object key, so these topics get several partitions for parallelism.
PARTITIONS: Final[dict[str, int]] = {
    MINIO_EVENTS: 3,
    ASSET_OBJECTS: 6,
    COMMANDS: 3,
    SNAPSHOTS: 3,
    CHANGES: 3,
    DLQ: 1,
}

CONSUMERS: Final[dict[str, str]] = {
    "ingest": MINIO_EVENTS,
    "indexer": ASSET_OBJECTS,
    "thumbnailer": ASSET_OBJECTS,
    "snapshotter": COMMANDS,
    "notifier": CHANGES,  # and SNAPSHOTS, whose lag is not sampled
}
"""Each consuming service and the topic its group (``<prefix>.<service>``) reads."""


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names one deployment uses: the defaults above behind an optional prefix.

    A prefix gives a second pipeline (the test suite, a benchmark) topics of its own on the
    same cluster, so neither replays the other's history.
    """

    prefix: str = ""

    @property
    def minio_events(self) -> str:
        """Raw bucket notifications."""
        return self.prefix + MINIO_EVENTS

    @property
    def asset_objects(self) -> str:
        """Object events and thumbnail results."""
        return self.prefix + ASSET_OBJECTS

    @property
    def commands(self) -> str:
        """Snapshot build requests."""
        return self.prefix + COMMANDS

    @property
    def snapshots(self) -> str:
        """Snapshot progress and outcomes."""
        return self.prefix + SNAPSHOTS

    @property
    def changes(self) -> str:
        """Committed image changes."""
        return self.prefix + CHANGES

    @property
    def dlq(self) -> str:
        """Dead letters."""
        return self.prefix + DLQ

    def partitions(self) -> dict[str, int]:
        """Every topic with its partition count."""
        return {self.prefix + name: count for name, count in PARTITIONS.items()}


# Header names carried by dead-lettered messages.
DLQ_REASON_HEADER: Final = "x-dlq-reason"
DLQ_SERVICE_HEADER: Final = "x-dlq-service"
DLQ_SOURCE_TOPIC_HEADER: Final = "x-dlq-source-topic"
DLQ_SOURCE_PARTITION_HEADER: Final = "x-dlq-source-partition"
DLQ_SOURCE_OFFSET_HEADER: Final = "x-dlq-source-offset"
