"""Decoding a consumed ``assets.objects`` batch into object events, results and rejects."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from assetflow.common.deadletter import SourceRecord
from assetflow.common.events import (
    ObjectCreated,
    ObjectRemoved,
    ThumbnailsCreated,
    ThumbnailsFailed,
    decode_asset_event,
)


@dataclass
class DecodedBatch:
    """A batch split by kind, each object event kept with the record it came from."""

    objects: list[tuple[SourceRecord, ObjectCreated | ObjectRemoved]] = field(default_factory=list)
    results: list[ThumbnailsCreated | ThumbnailsFailed] = field(default_factory=list)
    rejects: list[tuple[SourceRecord, str]] = field(default_factory=list)

    @property
    def object_events(self) -> list[ObjectCreated | ObjectRemoved]:
        """The object events alone, in offset order."""
        return [event for _, event in self.objects]


def decode_batch(records: Sequence[SourceRecord]) -> DecodedBatch:
    """Decode every record; one that is not a valid asset event becomes a (record, reason)."""
    batch = DecodedBatch()
    for record in records:
        try:
            event = decode_asset_event(record.value)
        except ValidationError as exc:
            batch.rejects.append((record, f"invalid asset event: {exc.errors()[0]['msg']}"))
            continue
        if isinstance(event, ThumbnailsCreated | ThumbnailsFailed):
            batch.results.append(event)
        else:
            batch.objects.append((record, event))
    return batch
