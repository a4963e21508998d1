"""Content hashes: computed while the original streams in, carried by ThumbnailsCreated,
stored on the image, and counted per (dataset, sha256) by state difference."""

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assetflow.contracts import topics
from assetflow.contracts.events import ThumbnailsCreated, decode_asset_message
from assetflow.indexer.writes import plan_changes
from assetflow.platform.deadletter import SourceRecord
from assetflow.readmodel import counters, duplicates
from assetflow.readmodel.images import F
from assetflow.thumbnailer import storage as s3storage
from assetflow.thumbnailer.processing import Thumbnailer, thumbnail_batch
from assetflow.thumbnailer.settings import ThumbnailerOptions
from tests.support import images
from tests.support.events import created, removed, thumbnails_created
from tests.support.fakes import FakeObjectStorage, FakeProducer

NOW = datetime(2026, 12, 4, tzinfo=UTC)
A = "a" * 64
B = "b" * 64


class ChunkedBody:
    """An S3 body that hands out its bytes in small chunks, as a network stream does."""

    def __init__(self, data: bytes, chunk: int = 7) -> None:
        self.data, self.chunk, self.reads = data, chunk, 0

    async def read(self, n: int = -1) -> bytes:
        self.reads += 1
        size = self.chunk if n < 0 else min(n, self.chunk)
        out, self.data = self.data[:size], self.data[size:]
        return out


def test_the_s3_adapter_hashes_in_memory_and_spooled_originals_as_they_stream(
    tmp_path: Path,
) -> None:
    data = images.scene_jpeg(1, 64, 48)
    expected = hashlib.sha256(data).hexdigest()
    body = ChunkedBody(data)
    read, digest = asyncio.run(s3storage._read(body))
    assert (read, digest) == (data, expected) and body.reads > 2
    path, digest = asyncio.run(s3storage._spool(ChunkedBody(data), tmp_path))
    assert path.read_bytes() == data and digest == expected


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(1) as executor:
        yield executor


@pytest.mark.asyncio
async def test_thumbnails_created_carries_the_sha256_of_the_bytes_and_the_phash(
    pool: ThreadPoolExecutor,
) -> None:
    storage, producer = FakeObjectStorage(), FakeProducer()
    data = images.scene_jpeg(2, 300, 200)
    etag = storage.put("datasets", "d/images/a.jpg", data)
    event = created("d/images/a.jpg", 1, size=len(data)).model_copy(update={"etag": etag})
    options = ThumbnailerOptions(workers=1)
    ctx = Thumbnailer(storage, producer, pool, options, "thumbnails", asyncio.Semaphore(2))
    record = SourceRecord(topics.ASSET_OBJECTS, 0, 0, None, event.model_dump_json().encode())

    assert await thumbnail_batch([record], ctx) == Counter(ready=1)

    [result] = producer.asset_messages()
    assert isinstance(result, ThumbnailsCreated)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.phash is not None and len(result.phash) == 16
    assert storage.calls["get_original"] == 1  # hashed from the one download


def test_a_result_published_before_the_hashes_still_parses() -> None:
    result = thumbnails_created(created("d/images/a.jpg", 1))
    old = json.loads(result.model_dump_json())
    del old["sha256"], old["phash"]
    parsed = decode_asset_message(json.dumps(old))
    assert isinstance(parsed, ThumbnailsCreated)
    assert (parsed.sha256, parsed.phash) == (None, None)


def _apply(stored: dict[str, dict[str, Any]], *changes: Any) -> counters.CounterDeltas:
    """Plan a batch over ``stored``, write it back into ``stored``; return its deltas."""
    plan = plan_changes(stored, list(changes), NOW)
    for op in plan.inserts:
        stored[op._doc[F.ID]] = dict(op._doc)
    for op in plan.updates:
        target: Any = op._filter
        write: Any = op._doc
        stored[target[F.ID]].update(write["$set"])
    return plan.deltas


def test_sha256_counters_move_by_state_difference() -> None:
    stored: dict[str, dict[str, Any]] = {}
    one, two = created("d/images/1.jpg", 1), created("d/images/2.jpg", 2)
    deltas = _apply(stored, one, two)
    assert deltas.sha256s == Counter()  # no hash until thumbnailed
    deltas = _apply(stored, thumbnails_created(one, sha256=A), thumbnails_created(two, sha256=A))
    assert deltas.sha256s == Counter({("d", A): 2})
    assert stored[one.image_id][F.SHA256] == A
    # A replayed result changes nothing; a result for an older version matches nothing.
    assert +_apply(stored, thumbnails_created(one, sha256=A)).sha256s == Counter()
    # An overwrite takes the old hash out at once; the new version's result puts its own in.
    new = created("d/images/1.jpg", 3, size=99)
    deltas = _apply(stored, new, thumbnails_created(one, sha256=B))
    assert +deltas.sha256s == Counter() and -deltas.sha256s == Counter({("d", A): 1})
    assert stored[one.image_id][F.SHA256] is None
    assert _apply(stored, thumbnails_created(new, sha256=B)).sha256s == Counter({("d", B): 1})
    # A delete takes it out, and the tombstone keeps no hash.
    deltas = _apply(stored, removed("d/images/2.jpg", 4))
    assert deltas.sha256s == Counter({("d", A): -1})
    assert stored[two.image_id][F.SHA256] is None and stored[two.image_id][F.PHASH] is None
    assert _apply(stored, removed("d/images/2.jpg", 4)).sha256s == Counter()  # replayed


def test_sha256_counter_writes_and_repairs() -> None:
    deltas = counters.CounterDeltas()
    deltas.move(None, counters.Contribution("d", 1, frozenset(), "ready", sha256=A))
    deltas.move(
        counters.Contribution("d", 1, frozenset(), "ready", sha256=A),
        counters.Contribution("d", 1, frozenset(), "ready", sha256=A),
    )
    [op] = deltas.sha256_updates()
    assert op._filter == {"_id": f"d/{A}"}
    assert op._doc == {"$inc": {"count": 1}, "$setOnInsert": {"dataset_id": "d", "sha256": A}}
    assert duplicates.drift({A: 3, B: 1}, {A: 2, B: 1}) == {f"sha256:{A}": 1}
    [fix] = duplicates.repair_updates("d", {A: 3, B: 1}, {A: 2, B: 1, "c" * 64: 2})[:1]
    assert fix._doc == {"$set": {"count": 2, "dataset_id": "d", "sha256": A}}
    assert len(duplicates.repair_updates("d", {A: 3}, {A: 2, B: 2})) == 2


def test_a_page_after_a_cursor_is_one_range_of_the_groups_index() -> None:
    assert duplicates.groups_query("d") == {"dataset_id": "d", "count": {"$gte": 2}}
    assert duplicates.groups_query("d", (5, A)) == {
        "dataset_id": "d",
        "count": {"$gte": 2, "$lte": 5},
        "$or": [{"count": {"$lt": 5}}, {"sha256": {"$gt": A}}],
    }
