"""How an object event becomes (part of) an image document."""

from datetime import datetime
from typing import Any

from assetflow.common.events import ObjectCreated, ObjectRemoved
from assetflow.common.layout import parse_object_key


def document_fields(event: ObjectCreated | ObjectRemoved, now: datetime) -> dict[str, Any]:
    """Fields to ``$set`` for an event; a removal leaves a tombstone so replays stay stale."""
    location = parse_object_key(event.key)
    if location is None:  # ingest only emits keys inside the layout
        raise ValueError(f"key outside the dataset layout: {event.key!r}")
    fields: dict[str, Any] = {
        "bucket": event.bucket,
        "key": event.key,
        "dataset_id": event.dataset_id,
        "path": event.path,
        "folder": location.folder,
        "file_name": location.file_name,
        "sequencer": event.sequencer,
        "indexed_at": now,
    }
    if isinstance(event, ObjectCreated):
        fields |= {
            "deleted": False,
            "size": event.size,
            "etag": event.etag,
            "content_type": event.content_type,
            "uploaded_at": event.event_time,
            "deleted_at": None,
        }
    else:
        fields |= {"deleted": True, "deleted_at": event.event_time}
    return fields
