"""Backfill's page comparison and its synthetic sequencers."""

from datetime import UTC, datetime, timedelta
from typing import Any

from assetflow.contracts.events import ObjectCreated, ObjectRemoved
from assetflow.contracts.sequencer import is_newer, normalize_sequencer
from assetflow.indexer.backfill import Report, compare_page, sequencer_at

T = datetime(2026, 11, 22, 12, 0, 0, 123000, tzinfo=UTC)


def listed(key: str, etag: str = "e1", at: datetime = T) -> dict[str, Any]:
    return {"Key": key, "ETag": f'"{etag}"', "Size": 5, "LastModified": at}


def indexed(key: str, etag: str = "e1", deleted: bool = False) -> dict[str, Any]:
    path = key.split("/", 2)[2]
    return {"key": key, "etag": etag, "deleted": deleted, "dataset_id": "d", "path": path}


def test_differences_become_events_and_matches_do_not() -> None:
    report = Report()
    events = compare_page(
        "b",
        [
            listed("d/images/same.jpg"),
            listed("d/images/new.jpg"),
            listed("d/images/changed.jpg", etag="e2"),
            listed("d/images/back.jpg"),
            listed("d/not-images/x.txt"),
        ],
        [
            indexed("d/images/same.jpg"),
            indexed("d/images/changed.jpg"),
            indexed("d/images/back.jpg", deleted=True),
            indexed("d/images/gone.jpg"),
            indexed("d/images/gone-already.jpg", deleted=True),
        ],
        T,
        report,
    )
    kinds = {(type(e).__name__, e.key) for e in events}
    assert kinds == {
        ("ObjectCreated", "d/images/new.jpg"),
        ("ObjectCreated", "d/images/changed.jpg"),
        ("ObjectCreated", "d/images/back.jpg"),
        ("ObjectRemoved", "d/images/gone.jpg"),
    }
    assert (report.missing, report.changed, report.gone, report.skipped) == (2, 1, 1, 1)
    created = next(e for e in events if isinstance(e, ObjectCreated))
    assert created.etag in {"e1", "e2"} and created.size == 5


def test_the_real_event_of_a_listed_version_and_anything_later_win() -> None:
    report = Report()
    (event,) = compare_page("b", [listed("d/images/a.jpg", at=T)], [], T, report)
    nanos = int((T - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1e9)
    real = normalize_sequencer(f"{nanos:X}")  # MinIO: the event's Unix time in ns
    assert is_newer(real, event.sequencer)
    older = normalize_sequencer(f"{nanos - 5_000_000:X}")  # a version 5 ms older
    assert not is_newer(older, event.sequencer)


def test_a_removal_never_beats_an_upload_made_after_the_page_was_read() -> None:
    report = Report()
    (removal,) = compare_page("b", [], [indexed("d/images/a.jpg")], T, report)
    assert isinstance(removal, ObjectRemoved)
    assert is_newer(sequencer_at(T + timedelta(milliseconds=1)), removal.sequencer)
    assert removal.sequencer == sequencer_at(T)
