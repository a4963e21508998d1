"""How an object event becomes (part of) an image document."""

from datetime import datetime
from typing import Any

from assetflow.common.events import (
    ObjectCreated,
    ObjectRemoved,
    ThumbnailsCreated,
    ThumbnailsFailed,
)
from assetflow.common.layout import parse_object_key

# What the thumbnailer adds; a new version of the object starts again without them.
NOT_THUMBNAILED: dict[str, Any] = {
    "status": "pending",
    "status_reason": None,
    "width": None,
    "height": None,
    "thumbhash": None,
    "source_format": None,
    "renditions": None,
    "exif": None,
    "thumbnailed_at": None,
}


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
            **NOT_THUMBNAILED,
        }
    else:
        fields |= {"deleted": True, "deleted_at": event.event_time}
    return fields


def thumbnail_fields(result: ThumbnailsCreated | ThumbnailsFailed, now: datetime) -> dict[str, Any]:
    """Fields to ``$set`` when the thumbnailer reports on one object version."""
    if isinstance(result, ThumbnailsFailed):
        return {
            **NOT_THUMBNAILED,
            "status": result.status,
            "status_reason": result.reason,
            "thumbnailed_at": now,
        }
    return {
        "status": "ready",
        "status_reason": None,
        "width": result.width,
        "height": result.height,
        "thumbhash": result.thumbhash,
        "source_format": result.source_format,
        "renditions": {
            "bucket": result.thumbnails_bucket,
            "thumb": result.thumb.model_dump(),
            "preview": result.preview.model_dump(),
        },
        "exif": result.exif.model_dump(),
        "thumbnailed_at": now,
    }
