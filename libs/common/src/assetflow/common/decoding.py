"""Decoding a consumed ``assets.objects`` batch into object changes, results and rejects."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from assetflow.common.deadletter import SourceRecord
from assetflow.common.events import (
    ChangeTags,
    ObjectCreated,
    ObjectRemoved,
    ThumbnailsCreated,
    ThumbnailsFailed,
    decode_asset_message,
)

ObjectChange = ObjectCreated | ObjectRemoved | ChangeTags
"""What changes an image's own state (and so the counters): its events and tag commands."""


@dataclass
class DecodedBatch:
    """A batch split by kind, each object change kept with the record it came from."""

    changes: list[tuple[SourceRecord, ObjectChange]] = field(default_factory=list)
    results: list[ThumbnailsCreated | ThumbnailsFailed] = field(default_factory=list)
    rejects: list[tuple[SourceRecord, str]] = field(default_factory=list)

    @property
    def object_changes(self) -> list[ObjectChange]:
        """Object events and tag commands alone, in offset order."""
        return [change for _, change in self.changes]

    @property
    def object_events(self) -> list[ObjectCreated | ObjectRemoved]:
        """Object events alone, in offset order."""
        return [c for _, c in self.changes if isinstance(c, ObjectCreated | ObjectRemoved)]


def decode_batch(records: Sequence[SourceRecord]) -> DecodedBatch:
    """Decode every record; one that is not a valid asset message becomes a (record, reason)."""
    batch = DecodedBatch()
    for record in records:
        try:
            message = decode_asset_message(record.value)
        except ValidationError as exc:
            batch.rejects.append((record, f"invalid asset event: {exc.errors()[0]['msg']}"))
            continue
        if isinstance(message, ThumbnailsCreated | ThumbnailsFailed):
            batch.results.append(message)
        else:
            batch.changes.append((record, message))
    return batch
