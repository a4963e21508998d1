"""The thumbnailer's batch logic against the real MinIO: fetch, render, store, clean up."""

import asyncio
import dataclasses
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import pyvips

from assetflow.contracts import topics
from assetflow.contracts.events import (
    ObjectCreated,
    ThumbnailsCreated,
    ThumbnailsFailed,
    decode_asset_message,
)
from assetflow.contracts.topics import Topics
from assetflow.platform.deadletter import SourceRecord
from assetflow.platform.settings import S3Settings
from assetflow.storage.clients import make_s3_session, s3_client_kwargs
from assetflow.thumbnailer.processing import Thumbnailer, thumbnail_batch
from assetflow.thumbnailer.settings import ThumbnailerOptions
from assetflow.thumbnailer.storage import S3Storage
from tests.support import images
from tests.support.events import created, removed
from tests.support.stack import (
    BUCKET,
    S3_ACCESS_KEY,
    S3_ENDPOINT,
    S3_SECRET_KEY,
    THUMBNAILS_BUCKET,
    s3_client,
)

THUMBS = THUMBNAILS_BUCKET


class AckedProducer:
    """Collects sends and acknowledges each at once, like a healthy broker."""

    topics = Topics()

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        self.sent.append((topic, value, headers))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    def results(self) -> list[Any]:
        return [decode_asset_message(v) for t, v, _ in self.sent if t == topics.ASSET_OBJECTS]

    def dead_letters(self) -> list[tuple[bytes, dict[str, str]]]:
        return [(v, h) for t, v, h in self.sent if t == topics.DLQ]


@pytest.fixture(scope="module")
def sync_s3() -> Any:
    return s3_client()


@pytest_asyncio.fixture
async def make_ctx(tmp_path: Path) -> AsyncIterator[Any]:
    """Builds a Thumbnailer on the real MinIO (or an endpoint given by the test)."""
    stack: list[Any] = []
    pool = ThreadPoolExecutor(2)

    async def build(endpoint: str = S3_ENDPOINT, **options: Any) -> tuple[Thumbnailer, Any]:
        settings = S3Settings(
            endpoint_url=endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY
        )
        client = make_s3_session().client("s3", **s3_client_kwargs(settings))
        s3 = await client.__aenter__()
        stack.append(client)
        producer = AckedProducer()
        opts = ThumbnailerOptions(**({"retry_initial_s": 0.01, "retry_max_s": 0.02} | options))
        ctx = Thumbnailer(
            storage=S3Storage(s3, spool_dir=tmp_path, spool_bytes=opts.spool_bytes),
            producer=producer,
            pool=pool,
            options=opts,
            thumbnails_bucket=THUMBS,
            in_flight=asyncio.Semaphore(opts.max_in_flight),
        )
        return ctx, producer

    yield build
    for client in stack:
        await client.__aexit__(None, None, None)
    pool.shutdown()


def upload(sync_s3: Any, key: str, body: bytes, seq: int) -> ObjectCreated:
    """PUT an object and build the event ingest would emit for it (with its real etag)."""
    etag = sync_s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"].strip('"')
    return created(key, seq, size=len(body)).model_copy(update={"etag": etag, "bucket": BUCKET})


def records(*events: Any) -> list[SourceRecord]:
    return [
        SourceRecord(topics.ASSET_OBJECTS, 0, offset, None, event.model_dump_json().encode())
        for offset, event in enumerate(events)
    ]


def thumbnail_keys(sync_s3: Any, prefix: str) -> list[str]:
    listing = sync_s3.list_objects_v2(Bucket=THUMBS, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.fixture
def dataset() -> str:
    return f"it-{uuid.uuid4().hex[:8]}"


@pytest.mark.asyncio
@pytest.mark.parametrize("spool_bytes", [8 << 20, 0], ids=["in-memory", "spooled"])
async def test_created_image_gets_stored_renditions_and_one_result(
    make_ctx: Any, sync_s3: Any, dataset: str, spool_bytes: int, tmp_path: Path
) -> None:
    ctx, producer = await make_ctx(spool_bytes=spool_bytes)
    data = images.jpeg(1600, 1200, orientation=6)
    event = upload(sync_s3, f"{dataset}/images/cat.jpg", data, 1)

    outcomes = await thumbnail_batch(records(event), ctx)

    assert outcomes["ready"] == 1
    [result] = producer.results()
    assert isinstance(result, ThumbnailsCreated)
    assert (result.image_id, result.etag, result.sequencer) == (
        event.image_id,
        event.etag,
        event.sequencer,
    )
    assert (result.width, result.height) == (1200, 1600)
    # Hashed while it streamed in, in memory or to the spool file.
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.phash is not None and len(result.phash) == 16
    prefix = f"{dataset}/{event.image_id}/{event.etag}/"
    assert result.thumb.key == prefix + "thumb.webp"
    assert result.preview.key == prefix + "preview.jpg"
    assert thumbnail_keys(sync_s3, f"{dataset}/") == [result.preview.key, result.thumb.key]
    stored = sync_s3.get_object(Bucket=THUMBS, Key=result.thumb.key)
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"
    assert stored["ContentType"] == "image/webp"
    thumb = pyvips.Image.new_from_buffer(stored["Body"].read(), "")
    assert (thumb.width, thumb.height) == (192, 256) == (result.thumb.width, result.thumb.height)
    assert os.listdir(tmp_path) == []  # a spooled original is deleted after decoding


@pytest.mark.asyncio
async def test_overwrite_replaces_renditions_and_delete_removes_them(
    make_ctx: Any, sync_s3: Any, dataset: str
) -> None:
    ctx, producer = await make_ctx()
    key = f"{dataset}/images/dog.png"
    first = upload(sync_s3, key, images.png(400, 300), 1)
    await thumbnail_batch(records(first), ctx)
    second = upload(sync_s3, key, images.png(300, 400), 2)
    await thumbnail_batch(records(second), ctx)

    old, new = producer.results()
    assert (old.width, new.width) == (400, 300)
    assert thumbnail_keys(sync_s3, f"{dataset}/") == [new.preview.key, new.thumb.key]

    await thumbnail_batch(records(removed(key, 3).model_copy(update={"bucket": BUCKET})), ctx)
    assert thumbnail_keys(sync_s3, f"{dataset}/") == []
    assert len(producer.results()) == 2  # a removal publishes nothing: the indexer has it


@pytest.mark.asyncio
async def test_event_for_a_version_that_is_gone_is_skipped(
    make_ctx: Any, sync_s3: Any, dataset: str
) -> None:
    ctx, producer = await make_ctx()
    key = f"{dataset}/images/a.jpg"
    stale = upload(sync_s3, key, images.jpeg(64, 64), 1)
    upload(sync_s3, key, images.jpeg(80, 80), 2)  # overwritten before we got to it
    gone = upload(sync_s3, f"{dataset}/images/b.jpg", images.jpeg(64, 64), 3)
    sync_s3.delete_object(Bucket=BUCKET, Key=gone.key)

    outcomes = await thumbnail_batch(records(stale, gone), ctx)

    assert outcomes["superseded"] == 2
    assert producer.sent == []
    assert thumbnail_keys(sync_s3, f"{dataset}/") == []


@pytest.mark.asyncio
async def test_bad_files_are_reported_not_retried(
    make_ctx: Any, sync_s3: Any, dataset: str
) -> None:
    ctx, producer = await make_ctx(max_pixels=1_000_000)
    text = upload(sync_s3, f"{dataset}/images/notes.jpg", b"just some text\n", 1)
    corrupt = upload(sync_s3, f"{dataset}/images/bad.jpg", b"\xff\xd8\xff" + bytes(999), 2)
    huge = upload(
        sync_s3,
        f"{dataset}/images/huge.jpg",
        images.with_jpeg_size(images.jpeg(64, 48), 9000, 9000),
        3,
    )

    outcomes = await thumbnail_batch(records(text, corrupt, huge), ctx)

    assert (outcomes["rejected"], outcomes["failed"]) == (2, 1)
    by_key = {r.key: r for r in producer.results()}
    assert all(isinstance(r, ThumbnailsFailed) for r in by_key.values())
    assert by_key[text.key].status == "rejected"
    assert by_key[text.key].reason == "not an image: it looks like text"
    assert by_key[corrupt.key].status == "failed"
    assert by_key[huge.key].reason.startswith("9000x9000 px is 81.0 megapixels")
    assert thumbnail_keys(sync_s3, f"{dataset}/") == []


@pytest.mark.asyncio
async def test_unreachable_storage_is_retried_then_dead_lettered_and_marked_failed(
    make_ctx: Any, dataset: str
) -> None:
    ctx, producer = await make_ctx("http://127.0.0.1:9", attempts=3)  # nothing listens there
    batch = records(created(f"{dataset}/images/x.jpg", 1))

    outcomes = await thumbnail_batch(batch, ctx)

    assert outcomes["dead_lettered"] == 1
    [(value, headers)] = producer.dead_letters()
    assert value == batch[0].value
    assert headers["x-dlq-reason"].startswith("storage unavailable after 3 attempts")
    [result] = producer.results()
    assert isinstance(result, ThumbnailsFailed) and result.status == "failed"
    assert "dead-letter" in result.reason


@pytest.mark.asyncio
async def test_invalid_message_is_dead_lettered_and_results_are_ignored(make_ctx: Any) -> None:
    ctx, producer = await make_ctx()
    garbage = SourceRecord(topics.ASSET_OBJECTS, 0, 7, b"k", b'{"type": "Nonsense"}')
    outcomes = await thumbnail_batch([garbage], ctx)
    assert outcomes["dead_lettered"] == 1
    [(value, headers)] = producer.dead_letters()
    assert value == garbage.value and headers["x-dlq-source-offset"] == "7"


@pytest.mark.asyncio
async def test_handler_on_the_test_broker_publishes_results_and_dead_letters(
    make_ctx: Any, sync_s3: Any, dataset: str
) -> None:
    """The subscriber wired as in production (FastStream's test broker, the real MinIO)."""
    from faststream.kafka import TestKafkaBroker
    from faststream.kafka.annotations import KafkaMessage

    from assetflow.platform.consuming import WORK_CONTEXT, raw_batch_decoder
    from assetflow.platform.producer import BrokerProducer
    from assetflow.thumbnailer.main import create_app

    app = create_app()
    broker = app.broker
    assert broker is not None
    ctx, _ = await make_ctx()
    ctx = dataclasses.replace(ctx, producer=BrokerProducer(broker, Topics()))
    broker.context.set_global(WORK_CONTEXT, ctx)
    results: list[Any] = []
    dead: list[tuple[bytes, dict[str, str]]] = []

    @broker.subscriber(topics.DLQ, decoder=raw_batch_decoder)
    async def dlq(body: bytes, msg: KafkaMessage) -> None:
        dead.append((body, dict(msg.headers)))

    @broker.subscriber(topics.ASSET_OBJECTS, decoder=raw_batch_decoder)
    async def objects(body: bytes, msg: KafkaMessage) -> None:
        if dict(msg.headers).get("event-type", "").startswith("Thumbnails"):
            results.append(decode_asset_message(body))

    event = upload(sync_s3, f"{dataset}/images/cat.png", images.png(300, 200), 1)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(
            b"garbage", event.model_dump_json().encode(), topic=topics.ASSET_OBJECTS
        )

    [result] = results
    assert isinstance(result, ThumbnailsCreated)
    assert (result.image_id, result.width, result.height) == (event.image_id, 300, 200)
    assert {body for body, _ in dead} == {b"garbage"}
    assert dead[0][1][topics.DLQ_SERVICE_HEADER] == "thumbnailer"
