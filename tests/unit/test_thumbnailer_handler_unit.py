"""thumbnail_batch on in-memory storage and producer: real decoding, no broker, no MinIO."""

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import pyvips

from assetflow.contracts import topics
from assetflow.contracts.events import ObjectCreated, ThumbnailsCreated, ThumbnailsFailed
from assetflow.platform.consuming import isolate_failures
from assetflow.platform.deadletter import SourceRecord
from assetflow.thumbnailer.processing import Thumbnailer, thumbnail_batch
from assetflow.thumbnailer.settings import ThumbnailerOptions
from tests.support import images
from tests.support.events import change_tags, created, removed, thumbnails_created
from tests.support.fakes import FakeObjectStorage, FakeProducer

BUCKET = "datasets"
THUMBS = "thumbnails"


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(1, thread_name_prefix="render") as executor:
        yield executor


@pytest.fixture
def storage() -> FakeObjectStorage:
    return FakeObjectStorage()


@pytest.fixture
def producer() -> FakeProducer:
    return FakeProducer()


@pytest.fixture
def make_ctx(pool: ThreadPoolExecutor, storage: FakeObjectStorage, producer: FakeProducer) -> Any:
    def build(**options: Any) -> Thumbnailer:
        defaults = {"workers": 1, "retry_initial_s": 0.0, "retry_max_s": 0.0}
        opts = ThumbnailerOptions(**(defaults | options))
        return Thumbnailer(
            storage=storage,
            producer=producer,
            pool=pool,
            options=opts,
            thumbnails_bucket=THUMBS,
            in_flight=asyncio.Semaphore(opts.max_in_flight),
        )

    return build


def upload(storage: FakeObjectStorage, key: str, data: bytes, seq: int) -> ObjectCreated:
    """Store an object and build the event ingest would emit for it (with its etag)."""
    etag = storage.put(BUCKET, key, data)
    return created(key, seq, size=len(data)).model_copy(update={"etag": etag})


def records(*messages: Any) -> list[SourceRecord]:
    return [
        SourceRecord(
            topics.ASSET_OBJECTS,
            0,
            offset,
            None,
            m if isinstance(m, bytes) else m.model_dump_json().encode(),
        )
        for offset, m in enumerate(messages)
    ]


@pytest.mark.asyncio
async def test_a_jpeg_is_rendered_into_storage_and_its_result_published(
    make_ctx: Any, storage: FakeObjectStorage, producer: FakeProducer
) -> None:
    event = upload(storage, "d/images/cat.jpg", images.jpeg(400, 300, orientation=6), 1)
    old = f"d/{event.image_id}/e-old/thumb.webp"  # of an earlier version: garbage now
    storage.objects[(THUMBS, old)] = storage.objects[(BUCKET, event.key)]

    outcomes = await thumbnail_batch(records(event), make_ctx())

    assert outcomes == Counter(ready=1)
    [result] = producer.asset_messages()
    assert isinstance(result, ThumbnailsCreated)
    assert (result.image_id, result.etag, result.sequencer) == (
        event.image_id,
        event.etag,
        event.sequencer,
    )
    assert (result.source_format, result.width, result.height) == ("jpeg", 300, 400)
    assert result.exif.orientation == 6
    prefix = f"d/{event.image_id}/{event.etag}/"
    assert (result.thumb.key, result.preview.key) == (prefix + "thumb.webp", prefix + "preview.jpg")
    assert storage.keys(THUMBS) == [prefix + "preview.jpg", prefix + "thumb.webp"]
    thumb = storage.objects[(THUMBS, result.thumb.key)]
    assert (thumb.content_type, thumb.cache_control) == (
        "image/webp",
        "public, max-age=31536000, immutable",
    )
    assert result.thumb.size == len(thumb.data)
    decoded = pyvips.Image.new_from_buffer(thumb.data, "")
    assert (
        (decoded.width, decoded.height) == (192, 256) == (result.thumb.width, result.thumb.height)
    )
    preview = pyvips.Image.new_from_buffer(storage.objects[(THUMBS, result.preview.key)].data, "")
    assert (preview.width, preview.height) == (300, 400)  # never enlarged
    [sent] = producer.on(topics.ASSET_OBJECTS)
    assert sent.key == b"datasets/d/images/cat.jpg"
    assert sent.headers["event-type"] == "ThumbnailsCreated"
    assert producer.dead_letters() == []


@pytest.mark.asyncio
async def test_bad_files_are_reported_not_retried(
    make_ctx: Any, storage: FakeObjectStorage, producer: FakeProducer
) -> None:
    text = upload(storage, "d/images/notes.jpg", b"just some text\n", 1)
    corrupt = upload(storage, "d/images/bad.jpg", b"\xff\xd8\xff" + bytes(999), 2)

    outcomes = await thumbnail_batch(records(text, corrupt), make_ctx())

    assert outcomes == Counter(rejected=1, failed=1)
    by_key = {r.key: r for r in producer.asset_messages()}
    assert all(isinstance(r, ThumbnailsFailed) for r in by_key.values())
    assert (by_key[text.key].status, by_key[text.key].reason) == (
        "rejected",
        "not an image: it looks like text",
    )
    assert by_key[corrupt.key].status == "failed"
    assert by_key[corrupt.key].reason.startswith("cannot read the jpeg header: ")
    assert storage.keys(THUMBS) == []
    assert storage.calls == Counter(get_original=2)
    assert producer.dead_letters() == []


@pytest.mark.asyncio
async def test_a_file_over_the_size_limit_is_rejected_without_reading_it(
    make_ctx: Any, storage: FakeObjectStorage, producer: FakeProducer
) -> None:
    event = upload(storage, "d/images/big.jpg", images.jpeg(64, 48), 1)

    outcomes = await thumbnail_batch(records(event), make_ctx(max_bytes=100))

    assert outcomes == Counter(rejected=1)
    [result] = producer.asset_messages()
    assert isinstance(result, ThumbnailsFailed)
    assert result.reason == f"file is {event.size} bytes, over the limit of 100"
    assert storage.calls == Counter()


@pytest.mark.asyncio
async def test_transient_storage_errors_are_retried_until_the_step_succeeds(
    make_ctx: Any, storage: FakeObjectStorage, producer: FakeProducer
) -> None:
    event = upload(storage, "d/images/a.png", images.png(80, 60), 1)
    storage.fail("get_original", 2)
    storage.fail("put_rendition", 1)
    storage.fail("delete_renditions", 2)

    outcomes = await thumbnail_batch(records(event), make_ctx(attempts=3))

    assert outcomes == Counter(ready=1)
    # Two renditions: one PUT failed once and was retried, the other went through.
    assert storage.calls == Counter(get_original=3, put_rendition=3, delete_renditions=3)
    [result] = producer.asset_messages()
    assert isinstance(result, ThumbnailsCreated)
    assert (result.width, result.height) == (80, 60)
    assert len(storage.keys(THUMBS)) == 2
    assert producer.dead_letters() == []


@pytest.mark.asyncio
async def test_storage_down_for_every_attempt_dead_letters_and_marks_the_image_failed(
    make_ctx: Any, storage: FakeObjectStorage, producer: FakeProducer
) -> None:
    event = upload(storage, "d/images/x.jpg", images.jpeg(32, 32), 1)
    storage.fail("get_original", 3)
    batch = records(event)

    outcomes = await thumbnail_batch(batch, make_ctx(attempts=3))

    assert outcomes == Counter(dead_lettered=1)
    assert storage.calls == Counter(get_original=3)
    reason = (
        "storage unavailable after 3 attempts: reading datasets/d/images/x.jpg: connection refused"
    )
    [(value, headers)] = producer.dead_letters()
    assert (value, headers[topics.DLQ_REASON_HEADER]) == (batch[0].value, reason)
    assert headers[topics.DLQ_SERVICE_HEADER] == "thumbnailer"
    [result] = producer.asset_messages()
    assert isinstance(result, ThumbnailsFailed)
    assert (result.status, result.reason) == (
        "failed",
        f"{reason} (the event is on the dead-letter topic)",
    )


@pytest.mark.asyncio
async def test_a_removal_deletes_every_rendition_and_publishes_nothing(
    make_ctx: Any, storage: FakeObjectStorage, producer: FakeProducer
) -> None:
    ctx = make_ctx()
    event = upload(storage, "d/images/a.png", images.png(40, 30), 1)
    await thumbnail_batch(records(event), ctx)
    other = upload(storage, "d/images/b.png", images.png(40, 30), 2)
    await thumbnail_batch(records(other), ctx)
    assert len(storage.keys(THUMBS)) == 4

    outcomes = await thumbnail_batch(records(removed(event.key, 3)), ctx)

    assert outcomes == Counter(removed=1)
    assert storage.keys(THUMBS) == storage.keys(THUMBS, f"d/{other.image_id}/")
    assert len(storage.keys(THUMBS)) == 2
    assert len(producer.asset_messages()) == 2  # the two results; a removal is the indexer's


@pytest.mark.asyncio
async def test_a_removal_storage_cannot_serve_is_dead_lettered_without_a_result(
    make_ctx: Any, storage: FakeObjectStorage, producer: FakeProducer
) -> None:
    storage.fail("delete_renditions", 2)
    gone = removed("d/images/a.png", 3)

    outcomes = await thumbnail_batch(records(gone), make_ctx(attempts=2))

    assert outcomes == Counter(dead_lettered=1)
    [(value, headers)] = producer.dead_letters()
    assert value == gone.model_dump_json().encode()
    assert headers[topics.DLQ_REASON_HEADER].startswith("storage unavailable after 2 attempts: ")
    assert producer.asset_messages() == []


@pytest.mark.asyncio
async def test_a_version_that_is_gone_or_replaced_in_the_batch_is_superseded(
    make_ctx: Any, storage: FakeObjectStorage, producer: FakeProducer
) -> None:
    stale = upload(storage, "d/images/a.jpg", images.jpeg(32, 32), 1)
    upload(storage, "d/images/a.jpg", images.jpeg(48, 48), 2)  # overwritten before we got to it
    first = upload(storage, "d/images/b.jpg", images.jpeg(32, 32), 3)
    second = upload(storage, "d/images/b.jpg", images.jpeg(40, 40), 4)

    outcomes = await thumbnail_batch(records(stale, first, second), make_ctx())

    assert outcomes == Counter(superseded=2, ready=1)
    [result] = producer.asset_messages()
    assert (result.key, result.etag, result.width) == (second.key, second.etag, 40)
    assert storage.calls["get_original"] == 2  # the older b was never fetched


@pytest.mark.asyncio
async def test_invalid_messages_are_dead_lettered_and_results_and_commands_ignored(
    make_ctx: Any, storage: FakeObjectStorage, producer: FakeProducer
) -> None:
    event = created("d/images/a.jpg", 1)
    batch = records(
        b'{"type": "Nonsense"}', thumbnails_created(event), change_tags(event.key, "c1", ["cat"])
    )

    outcomes = await thumbnail_batch(batch, make_ctx())

    assert outcomes == Counter(dead_lettered=1)
    [(value, headers)] = producer.dead_letters()
    assert (value, headers[topics.DLQ_SOURCE_OFFSET_HEADER]) == (b'{"type": "Nonsense"}', "0")
    assert producer.asset_messages() == []
    assert storage.calls == Counter()


@pytest.mark.asyncio
async def test_a_lost_acknowledgement_propagates_so_the_batch_is_redelivered(
    make_ctx: Any, storage: FakeObjectStorage
) -> None:
    lost = FakeProducer(ack_error=ConnectionError("broker gone"))
    ctx = dataclasses.replace(make_ctx(), producer=lost)
    event = upload(storage, "d/images/a.jpg", images.jpeg(32, 32), 1)
    dead: list[str] = []

    async def dead_letter(record: SourceRecord, reason: str) -> None:
        dead.append(reason)

    async def run(part: list[SourceRecord]) -> object:
        return await thumbnail_batch(part, ctx)

    with pytest.raises(ConnectionError, match="broker gone"):
        await isolate_failures(records(event), run, dead_letter, "thumbnailer")
    assert dead == []  # transient: the whole batch is redelivered, nothing dead-lettered
