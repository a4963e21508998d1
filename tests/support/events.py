"""Object events and thumbnail results for tests, with the sequencer as a plain integer."""

from datetime import UTC, datetime, timedelta
from typing import Any

from assetflow.contracts.events import (
    ChangeSplit,
    ChangeTags,
    ExifSummary,
    ObjectCreated,
    ObjectRemoved,
    Rendition,
    Split,
    ThumbnailsCreated,
    ThumbnailsFailed,
)
from assetflow.contracts.sequencer import normalize_sequencer

T0 = datetime(2026, 11, 22, 1, 0, 0, 123000, tzinfo=UTC)


def _common(key: str, seq: int, at: datetime | None) -> dict[str, object]:
    return {
        "bucket": "datasets",
        "key": key,
        "dataset_id": key.split("/")[0],
        "path": key.split("/", 2)[2],
        "event_time": at or T0 + timedelta(seconds=seq),
        "sequencer": normalize_sequencer(f"{seq:X}"),
    }


def created(
    key: str, seq: int, size: int = 10, at: datetime | None = None, tags: list[str] | None = None
) -> ObjectCreated:
    """An ObjectCreated for ``key`` with sequencer ``seq`` and an etag derived from ``size``."""
    return ObjectCreated(
        **_common(key, seq, at),  # type: ignore[arg-type]
        size=size,
        etag=f"e{size}",
        content_type="image/jpeg",
        tags=tags or [],
    )


def change_tags(
    key: str, command_id: str, add: list[str] | None = None, remove: list[str] | None = None
) -> ChangeTags:
    """A ChangeTags command for the image at ``key``."""
    return ChangeTags(
        command_id=command_id,
        bucket="datasets",
        key=key,
        dataset_id=key.split("/")[0],
        add=add or [],
        remove=remove or [],
        requested_at=T0,
    )


def change_split(key: str, command_id: str, split: Split | None) -> ChangeSplit:
    """A ChangeSplit command for the image at ``key``."""
    return ChangeSplit(
        command_id=command_id,
        bucket="datasets",
        key=key,
        dataset_id=key.split("/")[0],
        split=split,
        requested_at=T0,
    )


def removed(key: str, seq: int, at: datetime | None = None) -> ObjectRemoved:
    """An ObjectRemoved for ``key`` with sequencer ``seq``."""
    return ObjectRemoved(**_common(key, seq, at))  # type: ignore[arg-type]


def thumbnails_created(
    event: ObjectCreated,
    width: int = 640,
    height: int = 480,
    etag: str | None = None,
    sha256: str | None = None,
    phash: str | None = None,
) -> ThumbnailsCreated:
    """The result the thumbnailer would publish for ``event`` (optionally for another etag,
    with content hashes)."""
    etag = etag or event.etag
    prefix = f"{event.dataset_id}/{event.image_id}/{etag}/"
    return ThumbnailsCreated(
        **_result_identity(event, etag),
        thumbnails_bucket="thumbnails",
        source_format="jpeg",
        width=width,
        height=height,
        thumbhash="1QcSHQRnh493V4dIh4eXh1h4kJUI",
        thumb=Rendition(
            key=prefix + "thumb.webp", width=256, height=192, size=900, content_type="image/webp"
        ),
        preview=Rendition(
            key=prefix + "preview.jpg",
            width=640,
            height=480,
            size=9000,
            content_type="image/jpeg",
        ),
        exif=ExifSummary(
            captured_at="2024-05-01T12:30:45", make="Canon", model="Canon EOS R5", orientation=1
        ),
        sha256=sha256,
        phash=phash,
    )


def thumbnails_failed(
    event: ObjectCreated, status: str = "failed", reason: str = "cannot decode"
) -> ThumbnailsFailed:
    """A ThumbnailsFailed for ``event``."""
    return ThumbnailsFailed(**_result_identity(event, event.etag), status=status, reason=reason)  # type: ignore[arg-type]


def _result_identity(event: ObjectCreated, etag: str) -> dict[str, Any]:
    return {
        "image_id": event.image_id,
        "bucket": event.bucket,
        "key": event.key,
        "dataset_id": event.dataset_id,
        "etag": etag,
        "sequencer": event.sequencer,
        "processed_at": event.event_time,
    }
