"""Decoding a consumed ``assets.objects`` batch into object changes, results and rejects."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from assetflow.contracts.events import (
    AnnotationsChanged,
    ChangeSplit,
    ChangeTags,
    ObjectCreated,
    ObjectRemoved,
    ThumbnailsCreated,
    ThumbnailsFailed,
    decode_asset_message,
)
from assetflow.platform.deadletter import SourceRecord

ObjectChange = (
    ObjectCreated | ObjectRemoved | ChangeTags | ChangeSplit | ThumbnailsCreated | ThumbnailsFailed
)
"""What changes an image's state (and so the counters): events, tag and split commands,
results."""


@dataclass
class DecodedBatch:
    """A batch in offset order, each change kept with its record, and the rejects."""

    changes: list[tuple[SourceRecord, ObjectChange]] = field(default_factory=list)
    rejects: list[tuple[SourceRecord, str]] = field(default_factory=list)
    # Facts about data the index does not hold (annotations live in their own collection).
    notices: list[tuple[SourceRecord, AnnotationsChanged]] = field(default_factory=list)

    @property
    def object_changes(self) -> list[ObjectChange]:
        """Every valid message, in offset order."""
        return [change for _, change in self.changes]

    @property
    def results(self) -> list[ThumbnailsCreated | ThumbnailsFailed]:
        """Thumbnail results alone, in offset order."""
        return [c for _, c in self.changes if isinstance(c, ThumbnailsCreated | ThumbnailsFailed)]

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
        if isinstance(message, AnnotationsChanged):
            batch.notices.append((record, message))
        else:
            batch.changes.append((record, message))
    return batch
