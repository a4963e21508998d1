"""Upload to MinIO -> Kafka -> ingest -> indexer -> API, on real components."""

import json
import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from assetflow.contracts import topics
from tests.support.minio_events import minio_message, minio_record
from tests.support.stack import (
    BUCKET,
    TOPICS,
    ServiceProcess,
    consume_matching,
    produce,
    put_object,
    wait_for,
)

NAMES = [
    "plain.jpg",
    "with space.jpg",
    "plus+sign.png",
    "ünïcödé 猫.webp",
    "a%percent.jpg",
    "(paren) & amp=eq.gif",
]
FOLDERS = ["", "2024", "2024/june", "deep/er/still", "spa ce/fol+der"]


def object_keys(dataset_id: str, n: int) -> dict[str, bytes]:
    """n keys over nested folders with awkward names, each with distinct content."""
    keys: dict[str, bytes] = {}
    for i in range(n):
        folder = FOLDERS[i % len(FOLDERS)]
        name = f"{i:04d} {NAMES[i % len(NAMES)]}"
        path = f"{folder}/{name}" if folder else name
        keys[f"{dataset_id}/images/{path}"] = f"object {i} {uuid.uuid4()}".encode() * (i % 7)
    return keys  # every 7th object is empty: MinIO's event then carries no size at all


def put_all(s3: Any, objects: dict[str, bytes]) -> None:
    """Upload concurrently, like a real batch upload."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda kv: put_object(s3, kv[0], kv[1]), objects.items()))


def stats(api: ServiceProcess, dataset_id: str) -> dict[str, Any]:
    response = httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/stats", timeout=10)
    response.raise_for_status()
    return dict(response.json())


def list_all(
    api: ServiceProcess, dataset_id: str, limit: int, **params: str
) -> list[dict[str, Any]]:
    """Follow next_cursor to the end."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10_000):
        query: dict[str, Any] = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        response = httpx.get(
            f"{api.base_url}/v1/datasets/{dataset_id}/images", params=query, timeout=10
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not terminate")


def wait_count(api: ServiceProcess, dataset_id: str, n: int, timeout: float = 30.0) -> None:
    wait_for(
        f"{n} images indexed in {dataset_id}",
        lambda: stats(api, dataset_id)["image_count"] == n or None,
        timeout=timeout,
    )


def test_uploads_are_listed_once_each_with_working_urls(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    objects = object_keys(dataset_id, 210)
    put_all(s3, objects)
    wait_count(api, dataset_id, len(objects))
    assert stats(api, dataset_id)["total_bytes"] == sum(len(b) for b in objects.values())

    items = list_all(api, dataset_id, limit=7)
    assert len(items) == len(objects)
    assert len({item["id"] for item in items}) == len(objects), "an item was returned twice"
    assert {item["key"] for item in items} == set(objects)
    order = [(item["uploaded_at"], item["id"]) for item in items]
    assert order == sorted(order, reverse=True), "not newest first"

    for item in items:
        assert item["dataset_id"] == dataset_id
        assert item["path"] == item["key"].split("/images/", 1)[1]
        assert item["size"] == len(objects[item["key"]])
        assert item["uploaded_at"].endswith("Z")
    with ThreadPoolExecutor(max_workers=16) as pool:
        bodies = list(pool.map(lambda it: httpx.get(it["url"], timeout=10), items))
    for item, response in zip(items, bodies, strict=True):
        assert response.status_code == 200, (item["key"], response.text[:200])
        assert response.content == objects[item["key"]]

    folder = list_all(api, dataset_id, limit=50, folder="spa ce/fol+der")
    expected = {k for k in objects if "/images/spa ce/fol+der/" in k}
    assert {item["key"] for item in folder} == expected and expected


def test_paging_while_uploading_never_repeats_or_skips_older(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    first = object_keys(dataset_id, 60)
    put_all(s3, first)
    wait_count(api, dataset_id, 60)
    seen: list[str] = []
    cursor = None
    later = {f"{dataset_id}/images/later/{i}.jpg": b"x" for i in range(30)}
    uploader = threading.Thread(target=put_all, args=(s3, later))
    started = False
    while True:
        params: dict[str, Any] = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/images", params=params).json()
        seen += [item["key"] for item in page["items"]]
        if not started:  # new objects arrive while we page
            uploader.start()
            started = True
        cursor = page["next_cursor"]
        if cursor is None:
            break
    uploader.join()
    assert len(seen) == len(set(seen)), "an item was returned twice"
    assert set(first) <= set(seen), "an older item was skipped"


def test_overwrite_and_delete(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    key_keep, key_gone = f"{dataset_id}/images/keep.jpg", f"{dataset_id}/images/gone me.jpg"
    s3.put_object(Bucket=BUCKET, Key=key_keep, Body=b"v1")
    s3.put_object(Bucket=BUCKET, Key=key_gone, Body=b"doomed")
    wait_count(api, dataset_id, 2)

    new_etag = s3.put_object(Bucket=BUCKET, Key=key_keep, Body=b"version two")["ETag"].strip('"')
    item = wait_for(
        "overwrite to be indexed",
        lambda: next(
            (
                i
                for i in list_all(api, dataset_id, 50)
                if i["key"] == key_keep and i["etag"] == new_etag
            ),
            None,
        ),
    )
    assert item["size"] == len(b"version two")
    assert [i["key"] for i in list_all(api, dataset_id, 50)].count(key_keep) == 1
    assert httpx.get(item["url"]).content == b"version two"
    single = httpx.get(f"{api.base_url}/v1/images/{item['id']}").json()
    assert single["etag"] == new_etag

    gone_id = next(i["id"] for i in list_all(api, dataset_id, 50) if i["key"] == key_gone)
    s3.delete_object(Bucket=BUCKET, Key=key_gone)
    wait_count(api, dataset_id, 1)
    assert [i["key"] for i in list_all(api, dataset_id, 50)] == [key_keep]
    totals = stats(api, dataset_id)
    assert {k: totals[k] for k in ("dataset_id", "image_count", "total_bytes")} == {
        "dataset_id": dataset_id,
        "image_count": 1,
        "total_bytes": len(b"version two"),
    }
    missing = httpx.get(f"{api.base_url}/v1/images/{gone_id}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def captured_raw_event(key: str) -> bytes:
    """The exact notification MinIO published for an object (Kafka key is bucket/key)."""
    record = consume_matching(TOPICS.minio_events, lambda r: r.key == f"{BUCKET}/{key}".encode())
    return bytes(record.value)


def test_replayed_raw_event_and_stale_remove_change_nothing(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api, ingest, indexer = services["api"], services["ingest"], services["indexer"]
    key = f"{dataset_id}/images/replayed.jpg"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"original")
    wait_count(api, dataset_id, 1)
    # Let the thumbnailer's verdict land first, so only the replays could change the item.
    [before] = wait_for(
        "the thumbnailer's result for the image",
        lambda: [i for i in list_all(api, dataset_id, 10) if i["status"] != "pending"],
    )
    raw = captured_raw_event(key)
    assert json.loads(raw)["Records"][0]["s3"]["object"]["sequencer"]
    stale_before = indexer.metric("assetflow_indexer_stale_events_total")
    applied_before = indexer.metric("assetflow_indexer_events_applied_total")
    dropped = "assetflow_messages_skipped_total"
    dropped_before = ingest.metric(dropped, reason="duplicate")

    sequencer = json.loads(raw)["Records"][0]["s3"]["object"]["sequencer"]
    older = f"{int(sequencer, 16) - 1:X}"
    stale_remove = minio_message(
        minio_record(key, event_name="s3:ObjectRemoved:Delete", sequencer=older, bucket=BUCKET)
    )
    produce(
        TOPICS.minio_events,
        [(f"{BUCKET}/{key}".encode(), raw)] * 2 + [(f"{BUCKET}/{key}".encode(), stale_remove)],
    )
    # Ingest drops the replays (it published that event already: MinIO's two targets deliver
    # every notification twice); the stale remove reaches the indexer, which writes nothing.
    wait_for(
        "ingest to drop the replays and the indexer to find the remove stale",
        lambda: (
            ingest.metric(dropped, reason="duplicate") >= dropped_before + 2
            and indexer.metric("assetflow_indexer_stale_events_total") >= stale_before + 1
        ),
    )
    assert indexer.metric("assetflow_indexer_events_applied_total") >= applied_before + 1
    after = list_all(api, dataset_id, 10)
    assert len(after) == 1
    assert {k: v for k, v in after[0].items() if k != "url"} == {
        k: v for k, v in before.items() if k != "url"
    }
    assert stats(api, dataset_id)["image_count"] == 1


def test_garbage_is_dead_lettered_and_pipeline_continues(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    marker = f"garbage-{uuid.uuid4()}".encode()
    produce(
        TOPICS.minio_events,
        [
            (b"junk", b"\x00\xff not json " + marker),
            (b"junk", json.dumps({"Records": [{"x": marker.decode()}]}).encode()),
        ],
    )
    dead = consume_matching(TOPICS.dlq, lambda r: marker in (r.value or b""))
    headers = {k: v.decode() for k, v in dead.headers}
    assert dead.value == b"\x00\xff not json " + marker, "the original bytes are kept"
    assert headers[topics.DLQ_REASON_HEADER].startswith("not JSON")
    assert headers[topics.DLQ_SOURCE_TOPIC_HEADER] == TOPICS.minio_events
    assert headers[topics.DLQ_SERVICE_HEADER] == "ingest"
    second = consume_matching(
        TOPICS.dlq, lambda r: marker in (r.value or b"") and r.value[0:1] == b"{"
    )
    assert (
        "not an S3 notification"
        in dict((k, v.decode()) for k, v in second.headers)[topics.DLQ_REASON_HEADER]
    )

    s3.put_object(Bucket=BUCKET, Key=f"{dataset_id}/images/after-garbage.jpg", Body=b"ok")
    wait_count(services["api"], dataset_id, 1)


def test_indexer_killed_mid_stream_loses_nothing(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api, indexer = services["api"], services["indexer"]
    objects = object_keys(dataset_id, 300)
    uploader = threading.Thread(target=put_all, args=(s3, objects))
    uploader.start()
    wait_for(
        "indexing to be under way",
        lambda: stats(api, dataset_id)["image_count"] > 0,
        timeout=30,
        interval=0.05,
    )
    indexer.kill(signal.SIGKILL)
    uploader.join()
    indexer.start()
    wait_count(api, dataset_id, len(objects), timeout=60)
    items = list_all(api, dataset_id, limit=100)
    assert sorted(item["key"] for item in items) == sorted(objects)
