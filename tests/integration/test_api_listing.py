"""The API over a real database seeded through the indexer's own write path."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pymongo import AsyncMongoClient

from assetflow.api.main import create_app
from assetflow.api.settings import ApiSettings
from assetflow.contracts.events import ObjectCreated, ObjectRemoved
from assetflow.contracts.sequencer import normalize_sequencer
from assetflow.indexer.writes import apply_changes, apply_results
from assetflow.platform.settings import MongoSettings
from assetflow.readmodel.migrations import migrate
from tests.support.events import thumbnails_created, thumbnails_failed
from tests.support.stack import MONGO_URL

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def event(key: str, seq: int, at: datetime, removed: bool = False) -> ObjectCreated | ObjectRemoved:
    fields: dict[str, Any] = {
        "bucket": "datasets",
        "key": key,
        "dataset_id": key.split("/")[0],
        "path": key.split("/", 2)[2],
        "event_time": at,
        "sequencer": normalize_sequencer(f"{seq:X}"),
    }
    if removed:
        return ObjectRemoved(**fields)
    return ObjectCreated(**fields, size=seq, etag=f"e{seq}", content_type="image/jpeg")


@pytest.fixture
def seeded() -> Iterator[tuple[TestClient, list[ObjectCreated | ObjectRemoved]]]:
    """An API over a fresh database holding 45 images (15 share one timestamp) and 1 removed."""
    db = f"assetflow_it_api_{uuid.uuid4().hex[:8]}"
    events: list[ObjectCreated | ObjectRemoved] = []
    for i in range(30):
        events.append(
            event(f"ds/images/{'sub/' if i % 2 else ''}{i}.jpg", i + 1, T0 + timedelta(seconds=i))
        )
    for i in range(15):  # identical uploaded_at: order falls back to id
        events.append(event(f"ds/images/same/{i}.jpg", 100 + i, T0 + timedelta(hours=1)))
    events.append(event("ds/images/0.jpg", 999, T0 + timedelta(days=1), removed=True))
    events.append(event("other/images/x.jpg", 5, T0))

    async def seed() -> None:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL, tz_aware=True)
        await migrate(client[db])
        await apply_changes(client[db], events)
        by_key = {e.key: e for e in events if isinstance(e, ObjectCreated)}
        await apply_results(
            client[db],
            [
                thumbnails_created(by_key["ds/images/sub/3.jpg"], 4000, 3000),
                thumbnails_failed(by_key["ds/images/sub/5.jpg"], "rejected", "not an image"),
                thumbnails_failed(by_key["ds/images/sub/7.jpg"], "failed", "cannot decode"),
            ],
        )
        await client.close()

    async def drop() -> None:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL)
        await client.drop_database(db)
        await client.close()

    asyncio.run(seed())
    settings = ApiSettings(mongo=MongoSettings(url=MONGO_URL, db=db))
    try:
        with TestClient(create_app(settings)) as client:
            yield client, events
    finally:
        asyncio.run(drop())


def pages(client: TestClient, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = client.get(path, params=query).json()
        out.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return out


def test_keyset_pages_cover_every_live_image_once_in_order(seeded: Any) -> None:
    client, _ = seeded
    result = pages(client, "/v1/datasets/ds/images", limit=4)
    items = [item for page in result for item in page]
    assert [len(p) for p in result[:-1]] == [4] * (len(result) - 1)
    assert len(items) == 44  # 45 created, one later removed; other dataset excluded
    assert len({i["id"] for i in items}) == 44
    assert "ds/images/0.jpg" not in {i["key"] for i in items}
    keys = [(i["uploaded_at"], i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    same = [i for i in items if i["folder"] == "same"]
    assert [i["id"] for i in same] == sorted((i["id"] for i in same), reverse=True)
    assert items[0]["uploaded_at"] == "2026-01-01T01:00:00.000Z"


def test_default_limit_is_50_and_folder_filters(seeded: Any) -> None:
    client, _ = seeded
    body = client.get("/v1/datasets/ds/images").json()
    assert len(body["items"]) == 44 and body["next_cursor"] is None
    sub = [i for p in pages(client, "/v1/datasets/ds/images", folder="sub", limit=3) for i in p]
    assert sorted(i["key"] for i in sub) == sorted(
        f"ds/images/sub/{i}.jpg" for i in range(1, 30, 2)
    )
    root = [i for p in pages(client, "/v1/datasets/ds/images", folder="", limit=50) for i in p]
    assert {i["folder"] for i in root} == {""} and len(root) == 14


def test_cursor_from_one_listing_is_rejected_by_another(seeded: Any) -> None:
    client, _ = seeded
    cursor = client.get("/v1/datasets/ds/images", params={"limit": 2}).json()["next_cursor"]
    response = client.get(
        "/v1/datasets/ds/images", params={"limit": 2, "cursor": cursor, "folder": "sub"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_item_fields_and_presigned_url(seeded: Any) -> None:
    client, _ = seeded
    [item] = client.get("/v1/datasets/ds/images", params={"limit": 1, "folder": "sub"}).json()[
        "items"
    ]
    assert item["key"] == "ds/images/sub/29.jpg"
    assert (item["path"], item["folder"], item["file_name"]) == ("sub/29.jpg", "sub", "29.jpg")
    assert (item["size"], item["etag"], item["content_type"]) == (30, "e30", "image/jpeg")
    url = urlsplit(item["url"])
    assert url.path == "/datasets/ds/images/sub/29.jpg"
    assert parse_qs(url.query)["X-Amz-Expires"] == ["900"]  # originals: short-lived
    assert client.get(f"/v1/images/{item['id']}").json() == {
        **item,
        "url": client.get(f"/v1/images/{item['id']}").json()["url"],
    }


def test_stats_count_live_images_only(seeded: Any) -> None:
    client, events = seeded
    live = [
        e
        for e in events
        if isinstance(e, ObjectCreated) and e.dataset_id == "ds" and e.key != "ds/images/0.jpg"
    ]
    stats = client.get("/v1/datasets/ds/stats").json()
    assert {k: stats[k] for k in ("dataset_id", "image_count", "total_bytes")} == {
        "dataset_id": "ds",
        "image_count": 44,
        "total_bytes": sum(e.size for e in live),
    }
    assert sum(stats["statuses"].values()) == 44 and stats["updated_at"] is not None


def test_readyz_reports_dependencies(seeded: Any) -> None:
    client, _ = seeded
    body = client.get("/readyz").json()
    assert body == {"status": "ready", "checks": {"mongo": "ok", "s3": "ok"}}


def test_thumbnail_fields_and_status_filter(seeded: Any) -> None:
    client, _ = seeded
    [ready] = client.get("/v1/datasets/ds/images", params={"status": "ready"}).json()["items"]
    assert ready["key"] == "ds/images/sub/3.jpg"
    assert (ready["status"], ready["status_reason"], ready["width"], ready["height"]) == (
        "ready",
        None,
        4000,
        3000,
    )
    assert (ready["camera"], ready["captured_at"]) == ("Canon EOS R5", "2024-05-01T12:30:45")
    assert ready["thumbhash"] == "1QcSHQRnh493V4dIh4eXh1h4kJUI"
    thumb, preview = urlsplit(ready["thumb_url"]), urlsplit(ready["preview_url"])
    assert thumb.path == f"/thumbnails/ds/{ready['id']}/e4/thumb.webp"
    assert preview.path == f"/thumbnails/ds/{ready['id']}/e4/preview.jpg"
    # Renditions are immutable: one URL per hour, signed at the hour, valid 24 h past its end.
    assert parse_qs(thumb.query)["X-Amz-Expires"] == ["90000"]
    assert parse_qs(thumb.query)["X-Amz-Date"][0].endswith("0000Z")

    [rejected] = client.get("/v1/datasets/ds/images", params={"status": "rejected"}).json()["items"]
    assert (rejected["key"], rejected["status_reason"]) == ("ds/images/sub/5.jpg", "not an image")
    assert rejected["thumb_url"] is None and rejected["width"] is None
    [failed] = client.get("/v1/datasets/ds/images", params={"status": "failed"}).json()["items"]
    assert (failed["key"], failed["status_reason"]) == ("ds/images/sub/7.jpg", "cannot decode")

    pending = [
        i for p in pages(client, "/v1/datasets/ds/images", status="pending", limit=7) for i in p
    ]
    assert len(pending) == 41
    assert {i["status"] for i in pending} == {"pending"}
    assert all(i["thumb_url"] is None and i["preview_url"] is None for i in pending)


def test_status_filter_is_validated_and_scopes_cursors(seeded: Any) -> None:
    client, _ = seeded
    bad = client.get("/v1/datasets/ds/images", params={"status": "done"})
    assert bad.status_code in (400, 422)
    assert bad.headers["content-type"] == "application/problem+json"
    assert "status" in bad.json()["detail"]
    cursor = client.get("/v1/datasets/ds/images", params={"status": "pending", "limit": 2}).json()[
        "next_cursor"
    ]
    other = client.get("/v1/datasets/ds/images", params={"cursor": cursor, "limit": 2})
    assert other.status_code == 400
