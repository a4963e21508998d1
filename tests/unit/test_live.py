"""Live events: what the indexer reports, which event each filtered stream gets, fan-out."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic_core import to_json

from assetflow.api.services.live import RESET, Frame, LiveEvents, Subscriber, event_for
from assetflow.api.settings import ApiOptions
from assetflow.contracts.commands import SnapshotEvent
from assetflow.platform.settings import KafkaSettings
from assetflow.readmodel.changes import ChangeBatch, ImageChanged, Membership, image_changed
from assetflow.readmodel.filters import ListingFilter

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def stored(**fields: Any) -> dict[str, Any]:
    return {
        "dataset_id": "ds",
        "folder": "a",
        "status": "pending",
        "tags": [],
        "etag": "e1",
        "deleted": False,
    } | fields


def test_the_indexer_reports_what_a_client_can_see() -> None:
    def seen(before: dict[str, Any] | None, after: dict[str, Any]) -> ImageChanged | None:
        found = image_changed("i", "ds", before, after, NOW)
        # What a reader gets: the plain dict the indexer sends, parsed by the model.
        return None if found is None else ImageChanged.model_validate_json(to_json(found))

    new = seen(None, stored())
    assert new is not None and (new.change, new.before) == ("indexed", None)
    assert new.after == Membership(folder="a", status="pending", tags=[])
    ready = seen(stored(), stored(status="ready", renditions={}))
    assert ready is not None and ready.change == "updated"
    assert ready.fields == ["status", "renditions"]
    tagged = seen(stored(), stored(tags=["cat"]))
    assert tagged is not None and tagged.fields == ["tags"] and tagged.after is not None
    gone = seen(stored(), stored(deleted=True))
    assert gone is not None and (gone.change, gone.after) == ("removed", None)
    back = seen(stored(deleted=True), stored(etag="e2"))
    assert back is not None and back.change == "indexed"
    # A duplicate tag command (only its id is remembered) and a tombstone's bookkeeping.
    assert seen(stored(), stored(tag_commands=["c"])) is None
    assert seen(stored(deleted=True), stored(deleted=True)) is None


def change(kind: str, before: list[str] | None, after: list[str] | None) -> ImageChanged:
    def member(tags: list[str] | None) -> Membership | None:
        return None if tags is None else Membership(folder="a", status="ready", tags=tags)

    return ImageChanged(
        image_id="i",
        dataset_id="ds",
        change=kind,  # type: ignore[arg-type]
        fields=["tags"],
        before=member(before),
        after=member(after),
        applied_at=NOW,
    )


@pytest.mark.parametrize(
    ("kind", "before", "after", "everything", "cats"),
    [
        ("indexed", None, [], "image.indexed", None),  # a new upload the cat grid must not show
        ("indexed", None, ["cat"], "image.indexed", "image.indexed"),
        ("updated", [], ["cat"], "image.updated", "image.entered"),
        ("updated", ["cat"], [], "image.updated", "image.left"),
        ("updated", ["cat"], ["cat", "dog"], "image.updated", "image.updated"),
        ("updated", ["dog"], ["dog", "fox"], "image.updated", None),
        ("removed", ["cat"], None, "image.removed", "image.removed"),
        ("removed", ["dog"], None, "image.removed", None),
    ],
)
def test_each_stream_gets_the_event_its_filter_implies(
    kind: str, before: list[str] | None, after: list[str] | None, everything: str, cats: str
) -> None:
    assert event_for(ListingFilter(), change(kind, before, after)) == everything
    assert event_for(ListingFilter.parse(tags="cat"), change(kind, before, after)) == cats


def test_a_full_queue_drops_its_backlog_for_a_final_reset() -> None:
    subscriber = Subscriber("ds", ListingFilter(), capacity=2)
    reset = Frame("x-9", RESET, "{}")
    for n in range(5):
        subscriber.offer(Frame(f"x-{n}", "image.updated", "{}"), reset)
    assert subscriber.dropped
    assert subscriber.queue.get_nowait() == reset and subscriber.queue.empty()


def options(**overrides: Any) -> ApiOptions:
    return ApiOptions(**({"live_queue": 100} | overrides))


async def render(ids: list[str]) -> dict[str, dict[str, Any]]:
    return {image_id: {"id": image_id, "url": f"https://s3/{image_id}"} for image_id in ids}


def raw(image_id: str, tags: list[str], dataset_id: str = "ds") -> bytes:
    after = Membership(folder="a", status="ready", tags=tags)
    change = ImageChanged(
        image_id=image_id,
        dataset_id=dataset_id,
        change="updated",
        fields=["tags"],
        before=after,
        after=after,
        applied_at=NOW,
    )
    return ChangeBatch(dataset_id=dataset_id, changes=[change]).model_dump_json().encode()


async def take(stream: Any, n: int) -> list[Frame]:
    return [await asyncio.wait_for(anext(stream), 2) for _ in range(n)]


@pytest.mark.asyncio
async def test_fan_out_replay_within_the_window_and_reset_outside_it() -> None:
    live = LiveEvents(KafkaSettings(), options(live_replay_events=3), render)
    everything = aiter(live.open("ds", ListingFilter(), None))
    cats = aiter(live.open("ds", ListingFilter.parse(tags="cat"), None))
    first = asyncio.ensure_future(take(everything, 2))
    first_cat = asyncio.ensure_future(take(cats, 1))
    await asyncio.sleep(0)  # both streams are open before anything happens
    snapshot = SnapshotEvent(
        type="SnapshotProgress", snapshot_id="s", dataset_id="ds", status="running", at=NOW
    )
    await live.dispatch(
        [
            raw("i1", ["dog"]),
            b"not json",
            raw("x", [], "other"),
            snapshot.model_dump_json().encode(),
        ]
    )
    frames = await first
    assert [f.event for f in frames] == ["image.updated", "snapshot.progress"]
    assert '"url":"https://s3/i1"' in frames[0].data
    assert [f.event for f in await first_cat] == ["snapshot.progress"]  # i1 is no cat
    # A client that saw the first event resumes from it: it gets only what it missed.
    resumed = aiter(live.open("ds", ListingFilter(), frames[0].id))
    assert [f.id for f in await take(resumed, 1)] == [frames[1].id]
    # Four more changes overflow the three-event window: that id can no longer resume.
    await live.dispatch([raw(f"j{n}", []) for n in range(4)])
    late = aiter(live.open("ds", ListingFilter(), frames[0].id))
    assert [f.event for f in await take(late, 1)] == [RESET]
    stranger = aiter(live.open("ds", ListingFilter(), "another-instance-7"))
    assert [f.event for f in await take(stranger, 1)] == [RESET]
    for stream in (everything, cats, resumed, late, stranger):
        await stream.aclose()
    assert not live._subscribers  # every closed stream unsubscribed


@pytest.mark.asyncio
async def test_a_slow_subscriber_is_dropped_and_the_others_get_everything() -> None:
    live = LiveEvents(KafkaSettings(), options(live_queue=4), render)
    slow = aiter(live.open("ds", ListingFilter(), None))
    fast = aiter(live.open("ds", ListingFilter(), None))
    waiting = asyncio.ensure_future(take(slow, 1))  # reads one frame, then nothing
    first = asyncio.ensure_future(take(fast, 1))
    await asyncio.sleep(0)  # both are subscribed
    await live.dispatch([raw("i0", [])])
    read = await first
    for n in range(1, 20):
        await live.dispatch([raw(f"i{n}", [])])
        read += await take(fast, 1)  # the fast reader keeps up
    assert [f.event for f in read] == ["image.updated"] * 20
    assert (await waiting)[0].event == "image.updated"
    rest = [frame async for frame in slow]  # the backlog is gone; a reset ends the stream
    assert [f.event for f in rest] == [RESET]
    await fast.aclose()
