"""Calls from a job's worker thread onto the event loop, where the async clients live."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from assetflow.contracts.commands import ImportFinished, SnapshotEvent
from assetflow.contracts.events import AnnotationsChanged
from assetflow.domain.annotating import Annotating, ImportReport
from assetflow.domain.coco import ImageShapes
from assetflow.platform.producer import Producer, publish_asset_events
from assetflow.snapshotter.handling import SERVICE


@dataclass(frozen=True, slots=True)
class SnapshotEvents:
    """A build's ``emit`` (and an import's ``announce``): publishes on the snapshots topic,
    keyed by dataset, and returns once Kafka has the event durably (a timeout is a
    TimeoutError: transient)."""

    producer: Producer
    loop: asyncio.AbstractEventLoop
    timeout_s: float = 60.0

    def __call__(self, event: SnapshotEvent | ImportFinished) -> None:
        """Publish from the build thread and wait for the acknowledgement."""
        future = asyncio.run_coroutine_threadsafe(self._send(event), self.loop)
        future.result(timeout=self.timeout_s)

    async def _send(self, event: SnapshotEvent | ImportFinished) -> None:
        sent = await self.producer.send(
            self.producer.topics.snapshots,
            event.model_dump_json().encode(),
            key=event.dataset_id.encode(),
            headers={"type": event.type},
        )
        await sent


@dataclass(frozen=True, slots=True)
class AssetPublisher:
    """Publishes facts on ``assets.objects`` under each object's key, waiting until durable."""

    producer: Producer

    async def publish(self, messages: Sequence[AnnotationsChanged]) -> None:
        """Send every message; returns once Kafka has all of them."""
        await publish_asset_events(self.producer, SERVICE, messages)


@dataclass(frozen=True, slots=True)
class ShapesImport:
    """An import's ``annotate``: the API's annotation import, run on the event loop."""

    annotating: Annotating
    bucket: str
    loop: asyncio.AbstractEventLoop

    def __call__(self, dataset_id: str, items: list[ImageShapes]) -> ImportReport:
        """Import from the import thread and wait for the report."""
        work = self.annotating.import_shapes(dataset_id, self.bucket, items)
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()
