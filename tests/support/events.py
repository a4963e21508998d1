"""Object events for tests, with the sequencer given as a plain integer."""

from datetime import UTC, datetime, timedelta

from assetflow.common.events import ObjectCreated, ObjectRemoved
from assetflow.common.sequencer import normalize_sequencer

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


def created(key: str, seq: int, size: int = 10, at: datetime | None = None) -> ObjectCreated:
    """An ObjectCreated for ``key`` with sequencer ``seq`` and an etag derived from ``size``."""
    return ObjectCreated(
        **_common(key, seq, at), size=size, etag=f"e{size}", content_type="image/jpeg"
    )  # type: ignore[arg-type]


def removed(key: str, seq: int, at: datetime | None = None) -> ObjectRemoved:
    """An ObjectRemoved for ``key`` with sequencer ``seq``."""
    return ObjectRemoved(**_common(key, seq, at))  # type: ignore[arg-type]
