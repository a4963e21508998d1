"""Live dataset events: one Kafka reader per API instance, fanned out to SSE subscribers.

Each instance reads ``assets.changes`` (what the indexer committed) and ``assets.snapshots``
from their end when it starts. It joins no consumer group: it commits nothing, and every
instance must see every change. Each subscriber has a bounded queue; one that falls behind
is dropped with a final ``reset`` (the client re-lists), so it never slows the others.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram
from pydantic import ValidationError
from pydantic_core import to_json

from assetflow.api.settings import ApiOptions
from assetflow.contracts.commands import SnapshotEvent
from assetflow.platform.metrics import LATENCY_BUCKETS
from assetflow.platform.settings import KafkaSettings
from assetflow.readmodel.changes import ChangeBatch, ImageChanged
from assetflow.readmodel.filters import ListingFilter

log = logging.getLogger(__name__)

RESET: Final = "reset"
_SNAPSHOT_EVENTS: Final = {
    "SnapshotProgress": "snapshot.progress",
    "SnapshotCreated": "snapshot.ready",
    "SnapshotFailed": "snapshot.failed",
}
Render = Callable[[list[str]], Awaitable[dict[str, dict[str, Any]]]]
"""Image ids -> their public items (listing model, URLs signed); missing ids are left out."""

SUBSCRIBERS = Gauge("assetflow_api_live_subscribers", "Open live event streams")
SENT = Counter("assetflow_api_live_events_total", "Live events queued to subscribers", ["event"])
DROPPED = Counter("assetflow_api_live_dropped_total", "Subscribers dropped for falling behind")
LAG = Histogram(
    "assetflow_api_live_lag_seconds",
    "From the indexer's commit to the fan-out of the change",
    buckets=LATENCY_BUCKETS,
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One server-sent event, ready to write."""

    id: str
    event: str
    data: str


@dataclass(frozen=True, slots=True)
class _Recorded:
    seq: int
    at: float
    item: ImageChanged | SnapshotEvent


def event_for(listing: ListingFilter, change: ImageChanged) -> str | None:
    """The event a stream filtered by ``listing`` gets for ``change``; None: not its business."""
    # A model's __dict__ holds its fields: what matches() reads, without a copy per call.
    was = change.before is not None and listing.matches(change.before.__dict__)
    now = change.after is not None and listing.matches(change.after.__dict__)
    if change.change == "indexed":
        return "image.indexed" if now else None
    if change.change == "removed":
        return "image.removed" if was else None
    if was and now:
        return "image.updated"
    if now:
        return "image.entered"
    return "image.left" if was else None


class Subscriber:
    """One open stream: its filter and a bounded queue of frames."""

    def __init__(self, dataset_id: str, listing: ListingFilter, capacity: int) -> None:
        self.dataset_id = dataset_id
        self.listing = listing
        self.queue: asyncio.Queue[Frame] = asyncio.Queue(capacity)
        self.dropped = False

    def offer(self, frame: Frame, reset: Frame) -> None:
        """Queue a frame; if the queue is full, drop the backlog and leave only ``reset``."""
        if self.dropped:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped = True
            DROPPED.inc()
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(reset)


class LiveEvents:
    """The instance's reader and its subscribers, by dataset."""

    def __init__(self, kafka: KafkaSettings, options: ApiOptions, render: Render) -> None:
        self._kafka = kafka
        self._options = options
        self._render = render
        self._epoch = uuid.uuid4().hex[:12]  # ids from another instance or run cannot resume
        self._seq = 0
        self._ring: deque[_Recorded] = deque(maxlen=options.live_replay_events)
        self._subscribers: dict[str, set[Subscriber]] = defaultdict(set)
        self._reading = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, wait_s: float = 10.0) -> None:
        """Start reading; wait a little for Kafka, then keep trying in the background."""
        self._task = asyncio.create_task(self._run())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reading.wait(), wait_s)

    async def close(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.5
        while True:
            consumer = None
            try:
                consumer = await self._connect()
                self._reading.set()
                delay = 0.5
                while True:
                    batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
                    values = [r.value for records in batches.values() for r in records if r.value]
                    if values:
                        await self.dispatch(values)
            except (KafkaError, OSError) as exc:
                log.warning("live events: Kafka unavailable (%s); retrying in %.1fs", exc, delay)
            finally:
                self._reading.clear()
                if consumer is not None:
                    await consumer.stop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _connect(self) -> AIOKafkaConsumer:
        topics = self._kafka.topics
        # No group: every partition of both topics is ours (and new ones as they appear).
        consumer = AIOKafkaConsumer(
            topics.changes,
            topics.snapshots,
            bootstrap_servers=self._kafka.bootstrap_servers,
            client_id="assetflow-api-live",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        await consumer.start()
        try:
            for _ in range(100):
                if partitions := consumer.assignment():
                    await consumer.seek_to_end(*partitions)
                    return consumer
                await asyncio.sleep(0.1)
            raise KafkaError(f"topics {topics.changes}, {topics.snapshots} do not exist")
        except BaseException:
            await consumer.stop()
            raise

    # Fan-out.

    async def dispatch(self, values: Iterable[bytes]) -> None:
        """Record and deliver a batch of raw change / snapshot messages, in order."""
        recorded = []
        now = time.monotonic()
        for value in values:
            for item in _decode(value):
                self._seq += 1
                recorded.append(_Recorded(self._seq, now, item))
                if isinstance(item, ImageChanged):
                    LAG.observe(max(0.0, time.time() - item.applied_at.timestamp()))
        self._ring.extend(recorded)
        self._trim(now)
        # Who is subscribed now: a stream that opens while this batch renders replays it.
        audience = {ds: set(subs) for ds, subs in self._subscribers.items() if subs}
        await self._deliver(recorded, audience)

    def _trim(self, now: float) -> None:
        horizon = now - self._options.live_replay_s
        while self._ring and self._ring[0].at < horizon:
            self._ring.popleft()

    def _id(self, seq: int) -> str:
        return f"{self._epoch}-{seq}"

    def reset(self) -> Frame:
        """A ``reset`` frame at the current position."""
        return Frame(self._id(self._seq), RESET, '{"reason":"re-list the dataset"}')

    async def _deliver(
        self, recorded: list[_Recorded], audience: dict[str, set[Subscriber]]
    ) -> None:
        by_dataset: dict[str, list[_Recorded]] = defaultdict(list)
        for entry in recorded:
            if entry.item.dataset_id in audience:
                by_dataset[entry.item.dataset_id].append(entry)
        reset = self.reset()
        for dataset_id, entries in by_dataset.items():
            subscribers = audience[dataset_id]
            try:
                items = await self._render(_live_ids(entries))
            except Exception:
                # Without the images the events cannot be told: these streams start over.
                log.exception("live events: cannot read the changed images of %s", dataset_id)
                for subscriber in subscribers:
                    subscriber.offer(reset, reset)
                continue
            for entry in entries:
                self._offer(entry, items, subscribers, reset)

    def _offer(
        self,
        entry: _Recorded,
        items: dict[str, dict[str, Any]],
        subscribers: set[Subscriber],
        reset: Frame,
    ) -> None:
        item = entry.item
        if isinstance(item, SnapshotEvent):
            frame = Frame(self._id(entry.seq), _SNAPSHOT_EVENTS[item.type], item.model_dump_json())
            for subscriber in subscribers:
                subscriber.offer(frame, reset)
            SENT.labels(frame.event).inc(len(subscribers))
            return
        image = items.get(item.image_id) or {"id": item.image_id, "dataset_id": item.dataset_id}
        data = to_json(
            {"image": image, "fields": item.fields, "applied_at": item.applied_at}
        ).decode()
        for subscriber in subscribers:
            if event := event_for(subscriber.listing, item):
                subscriber.offer(Frame(self._id(entry.seq), event, data), reset)
                SENT.labels(event).inc()

    # Streams.

    def subscribe(self, dataset_id: str, listing: ListingFilter) -> Subscriber:
        """Register a stream; pair with ``unsubscribe``."""
        subscriber = Subscriber(dataset_id, listing, self._options.live_queue)
        self._subscribers[dataset_id].add(subscriber)
        SUBSCRIBERS.inc()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a stream."""
        subscribers = self._subscribers.get(subscriber.dataset_id)
        if subscribers is not None and subscriber in subscribers:
            subscribers.discard(subscriber)
            SUBSCRIBERS.dec()
            if not subscribers:
                del self._subscribers[subscriber.dataset_id]

    def _since(self, last_event_id: str, dataset_id: str) -> list[_Recorded] | None:
        """What this dataset missed after ``last_event_id``; None if it is out of the window."""
        epoch, _, number = last_event_id.partition("-")
        if epoch != self._epoch or not number.isdigit():
            return None
        seq = int(number)
        oldest = self._ring[0].seq if self._ring else self._seq + 1
        if seq < oldest - 1 or seq > self._seq:
            return None
        return [e for e in self._ring if e.seq > seq and e.item.dataset_id == dataset_id]

    def open(self, dataset_id: str, listing: ListingFilter, last_event_id: str | None) -> "Stream":
        """Subscribe now (before the response starts, so nothing after it is missed)."""
        subscriber = self.subscribe(dataset_id, listing)
        # Read in the same step as the subscription: live frames queue from here on, so the
        # replay neither misses nor repeats one.
        missed = self._since(last_event_id, dataset_id) if last_event_id else []
        return Stream(self, subscriber, missed)

    async def replay(self, subscriber: Subscriber, missed: list[_Recorded]) -> list[Frame]:
        """The frames ``missed`` holds for this subscriber's filter, rendered now."""
        replay = Subscriber(subscriber.dataset_id, subscriber.listing, len(missed) + 1)
        await self._deliver(missed, {subscriber.dataset_id: {replay}})
        return [replay.queue.get_nowait() for _ in range(replay.queue.qsize())]


class Stream:
    """A subscriber's frames: what it missed (or ``reset``), then live until it is dropped."""

    def __init__(
        self, live: LiveEvents, subscriber: Subscriber, missed: list[_Recorded] | None
    ) -> None:
        self._live = live
        self._subscriber = subscriber
        self._missed = missed

    def close(self) -> None:
        """Unsubscribe (idempotent)."""
        self._live.unsubscribe(self._subscriber)

    async def __aiter__(self) -> AsyncIterator[Frame]:
        subscriber = self._subscriber
        try:
            if self._missed is None:
                yield self._live.reset()
            elif self._missed:
                for frame in await self._live.replay(subscriber, self._missed):
                    yield frame
            while True:
                frame = await subscriber.queue.get()
                yield frame
                if frame.event == RESET and subscriber.dropped:
                    return
        finally:
            self.close()


def _live_ids(entries: list[_Recorded]) -> list[str]:
    return list(
        {
            e.item.image_id: None
            for e in entries
            if isinstance(e.item, ImageChanged) and e.item.after is not None
        }
    )


def _decode(value: bytes) -> list[ImageChanged] | list[SnapshotEvent]:
    try:
        if b'"ChangeBatch"' in value:
            return ChangeBatch.model_validate_json(value).changes
        if b'"ImportFinished"' in value:
            return []  # an import's outcome: webhooks tell it, live listings do not
        return [SnapshotEvent.model_validate_json(value)]
    except ValidationError as exc:
        # Not ours to dead-letter: the producers' own consumers decide about their messages.
        log.warning("live events: skipped a message that is no change: %s", exc.errors()[0])
        return []
