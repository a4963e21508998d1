"""The object events ingest published lately, so a notification's second copy is dropped.

MinIO notifies two Kafka targets of every object event (one at once, one through its queue
directory, replayed up to 3 s later: docs/architecture.md). Both copies carry the same key,
so they land on one partition and reach one ingest instance; the second is a no-op downstream
too, but dropping it here saves the thumbnailer a second render.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Iterable

from assetflow.contracts.events import ObjectCreated, ObjectRemoved


def identity(event: ObjectCreated | ObjectRemoved) -> bytes:
    """One object version's one event: equal for two copies of a notification, else not."""
    etag = event.etag if isinstance(event, ObjectCreated) else ""
    text = "\0".join((event.type, event.bucket, event.key, event.sequencer, etag))
    # 16 bytes instead of the strings: ~150 bytes an entry, ~15 MB for 100k.
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class RecentEvents:
    """The identities of the last ``capacity`` events published, the oldest forgotten first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    def __contains__(self, event_identity: object) -> bool:
        return event_identity in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def remember(self, identities: Iterable[bytes]) -> None:
        """Add what a batch published, once its outputs are durable."""
        if self._capacity == 0:
            return
        for event_identity in identities:
            self._seen[event_identity] = None
            self._seen.move_to_end(event_identity)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
