"""In-memory fakes of the ports consumer logic reaches: producer, image index, object storage.

Each keeps what it was given in plain attributes a test can assert on, and can be told to
fail the way the real dependency does (a TransientError for an outage), so every handler's
logic runs in unit tests with no broker, no database and no object storage.
"""

import asyncio
import hashlib
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from assetflow.contracts import topics
from assetflow.contracts.errors import StorageUnavailableError
from assetflow.contracts.events import decode_asset_message
from assetflow.contracts.topics import Topics
from assetflow.indexer.writes import STATE_FIELDS, BatchResult, plan_changes
from assetflow.platform.decoding import ObjectChange
from assetflow.readmodel.changes import MEMBERSHIP_FIELDS
from assetflow.readmodel.images import F
from assetflow.thumbnailer.rendering import Encoded
from assetflow.thumbnailer.storage import CACHE_CONTROL, Original, VersionGoneError


@dataclass(frozen=True, slots=True)
class Sent:
    """One message a producer was asked to send."""

    topic: str
    value: bytes
    key: bytes | None
    headers: dict[str, str]


class FakeProducer:
    """A Producer that records each send and acknowledges it at once, or fails its ack with
    ``ack_error`` (the broker lost it), or, with ``hold_acks``, only when the test says."""

    def __init__(self, *, hold_acks: bool = False, ack_error: Exception | None = None) -> None:
        self.topics = Topics()
        self.sent: list[Sent] = []
        self.futures: list[asyncio.Future[Any]] = []
        self.hold_acks = hold_acks
        self.ack_error = ack_error

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        """Record the message; its future resolves as configured."""
        self.sent.append(Sent(topic, value, key, dict(headers)))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        if self.ack_error is not None:
            future.set_exception(self.ack_error)
        elif not self.hold_acks:
            future.set_result(None)
        return future

    def ack_all(self) -> None:
        """Acknowledge every held send."""
        for future in self.futures:
            if not future.done():
                future.set_result(None)

    def on(self, topic: str) -> list[Sent]:
        """What was sent to ``topic``, in order."""
        return [sent for sent in self.sent if sent.topic == topic]

    def asset_messages(self) -> list[Any]:
        """The decoded messages sent to ``assets.objects``."""
        return [decode_asset_message(sent.value) for sent in self.on(topics.ASSET_OBJECTS)]

    def dead_letters(self) -> list[tuple[bytes, dict[str, str]]]:
        """(original bytes, headers) of each dead letter."""
        return [(sent.value, sent.headers) for sent in self.on(topics.DLQ)]


class FakeImageIndex:
    """An ImageIndex in memory: the image documents by id.

    A batch is planned by the same pure ``plan_changes`` the MongoDB adapter runs in its
    transaction, over the stored documents projected the same way, and is written all or
    nothing. Counters and annotation documents are not kept. ``fail_with`` makes the next
    ``apply`` raise it (and write nothing), as an outage does.
    """

    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {}
        self.batches: list[list[ObjectChange]] = []
        self.fail_with: Exception | None = None

    async def apply(self, changes: Sequence[ObjectChange]) -> BatchResult:
        """Apply a batch in offset order, all or nothing."""
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        if not changes:
            return BatchResult()
        ids = {change.image_id for change in changes}
        stored = {
            image_id: _project(self.images[image_id], STATE_FIELDS)
            for image_id in ids
            if image_id in self.images
        }
        plan = plan_changes(stored, changes, datetime.now(UTC))  # raises before any write
        for insert in plan.inserts:
            doc = dict(insert._doc)
            self.images[doc[F.ID]] = doc
        for update in plan.updates:
            target: Any = update._filter  # pymongo types it (and _doc) as a mapping or pipeline
            write: Any = update._doc
            self.images[target[F.ID]].update(write["$set"])
        self.batches.append(list(changes))
        return plan.result

    async def memberships(self, image_ids: Collection[str]) -> list[dict[str, Any]]:
        """The stored images among ``image_ids``, projected like the MongoDB query."""
        return [
            _project(self.images[image_id], MEMBERSHIP_FIELDS)
            for image_id in image_ids
            if image_id in self.images
        ]

    def live(self) -> dict[str, dict[str, Any]]:
        """Documents of images that are not deleted, by key."""
        return {doc[F.KEY]: doc for doc in self.images.values() if not doc[F.DELETED]}


def _project(doc: dict[str, Any], fields: dict[str, int]) -> dict[str, Any]:
    return {name: value for name, value in doc.items() if name == F.ID or name in fields}


@dataclass
class StoredObject:
    """One object in the fake storage."""

    data: bytes
    etag: str
    content_type: str | None = None
    cache_control: str | None = None


@dataclass
class FakeObjectStorage:
    """An ObjectStorage in memory, objects by (bucket, key).

    ``fail(operation, times)`` makes the next ``times`` calls of ``get_original``,
    ``put_rendition`` or ``delete_renditions`` raise StorageUnavailableError, as an outage
    does; ``calls`` counts every call, failed or not.
    """

    objects: dict[tuple[str, str], StoredObject] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    def put(self, bucket: str, key: str, data: bytes) -> str:
        """Store an object as an upload would; returns its etag (the MD5 of its bytes)."""
        etag = hashlib.md5(data).hexdigest()
        self.objects[(bucket, key)] = StoredObject(data, etag)
        return etag

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys in ``bucket`` under ``prefix``, sorted like a listing."""
        return sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))

    def fail(self, operation: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` fail as if storage were down."""
        self.failures[operation] += times

    def _call(self, operation: str, what: str) -> None:
        self.calls[operation] += 1
        if self.failures[operation] > 0:
            self.failures[operation] -= 1
            raise StorageUnavailableError(f"{what}: connection refused")

    async def get_original(self, bucket: str, key: str, etag: str) -> Original:
        """The object's bytes if its etag is still ``etag``."""
        self._call("get_original", f"reading {bucket}/{key}")
        stored = self.objects.get((bucket, key))
        if stored is None or stored.etag != etag:
            raise VersionGoneError(f"{bucket}/{key} etag {etag}")
        return Original(stored.data, len(stored.data), hashlib.sha256(stored.data).hexdigest())

    async def put_rendition(self, bucket: str, key: str, rendition: Encoded) -> None:
        """Store one rendition with the headers the S3 adapter sets."""
        self._call("put_rendition", f"writing {bucket}/{key}")
        self.objects[(bucket, key)] = StoredObject(
            rendition.data,
            hashlib.md5(rendition.data).hexdigest(),
            rendition.content_type,
            CACHE_CONTROL,
        )

    async def delete_renditions(self, bucket: str, prefix: str, keep: str | None = None) -> int:
        """Delete the keys under ``prefix`` except those under ``keep``."""
        self._call("delete_renditions", f"deleting {bucket}/{prefix}")
        doomed = [k for k in self.keys(bucket, prefix) if keep is None or not k.startswith(keep)]
        for key in doomed:
            del self.objects[(bucket, key)]
        return len(doomed)
