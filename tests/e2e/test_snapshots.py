"""Snapshots on the real stack: built, downloaded, unzipped and checked byte for byte."""

import hashlib
import io
import json
import os
import time
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from assetflow.contracts import topics
from assetflow.contracts.commands import CreateSnapshot
from assetflow.readmodel.snapshots import COLLECTION, S
from tests.e2e.test_annotations import labels, ready_images, url
from tests.e2e.test_pipeline import list_all
from tests.support import images
from tests.support.stack import (
    BUCKET,
    MONGO_URL,
    TEST_DB,
    TOPICS,
    ServiceProcess,
    consume_matching,
    produce,
    put_object,
    wait_for,
)


def request(api: ServiceProcess, dataset_id: str, **body: Any) -> str:
    response = httpx.post(url(api, f"/datasets/{dataset_id}/snapshots"), json=body, timeout=10)
    assert response.status_code == 202, response.text
    return str(response.json()["snapshot_id"])


def finished(api: ServiceProcess, snapshot_id: str, timeout: float = 90) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body = httpx.get(url(api, f"/snapshots/{snapshot_id}"), timeout=10).json()
        return body if body["status"] in ("ready", "unchanged", "failed") else None

    return wait_for(f"snapshot {snapshot_id} to finish", done, timeout=timeout)  # type: ignore[no-any-return]


def download(api: ServiceProcess, dataset_id: str, ref: str) -> tuple[dict[str, Any], bytes]:
    meta = httpx.get(url(api, f"/datasets/{dataset_id}/snapshots/{ref}"), timeout=10)
    assert meta.status_code == 200, meta.text
    body = httpx.get(meta.json()["url"], timeout=60)
    assert body.status_code == 200
    return meta.json(), body.content


@pytest.mark.e2e
def test_snapshot_versions_by_content_with_coco_manifest_and_diff(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    originals = {f"f{i % 3}/{i:02d}.jpg": images.jpeg(64 + i, 48) for i in range(12)}
    originals["notes.png"] = images.png(30, 20)
    for path, body in originals.items():
        put_object(s3, f"{dataset_id}/images/{path}", body)
    items = {item["path"]: item for item in ready_images(api, dataset_id, len(originals))}
    boxes = {"f0/00.jpg": [1, 2, 10, 20], "f1/01.jpg": [5, 5, 30, 30]}
    for path, box in boxes.items():
        response = httpx.put(
            url(api, f"/images/{items[path]['id']}/annotations"),
            json={"annotations": [{"id": "a", "type": "bbox", "label": "cat", "bbox": box}]},
            headers={"If-Match": '"0"'},
            timeout=10,
        )
        assert response.status_code == 200, response.text

    first = finished(api, request(api, dataset_id, format="coco"))
    assert (first["status"], first["version"], first["images"]) == ("ready", 1, len(originals))
    meta, body = download(api, dataset_id, "latest")
    assert meta["version"] == 1 and meta["size"] == len(body)
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    for path, original in originals.items():
        assert archive.read(f"images/{path}") == original, path
    assert archive.getinfo("images/f0/00.jpg").compress_type == zipfile.ZIP_STORED
    manifest = [json.loads(line) for line in archive.read("manifest.jsonl").splitlines()]
    assert [m["path"] for m in manifest] == sorted(originals)
    for line in manifest:
        assert line["sha256"] == hashlib.sha256(originals[line["path"]]).hexdigest()
    coco = json.loads(archive.read("annotations.json"))
    names = {image["id"]: image["file_name"] for image in coco["images"]}
    assert sorted(names.values()) == sorted(originals)
    assert [c["name"] for c in coco["categories"]] == ["cat"]
    got = {names[a["image_id"]]: a["bbox"] for a in coco["annotations"]}
    assert got == boxes
    summary = json.loads(archive.read("snapshot.json"))
    assert summary["version"] == 1 and summary["counts"]["shapes"] == 2
    assert summary["content_id"] == meta["content_id"]

    again = finished(api, request(api, dataset_id, format="coco"))
    assert (again["status"], again["based_on"], again["version"]) == ("unchanged", 1, None)

    changed = items["f1/01.jpg"]["id"]
    response = httpx.patch(
        url(api, f"/images/{changed}/annotations"),
        json={"upsert": [{"id": "b", "type": "tag", "label": "dog"}]},
        headers={"If-Match": '"1"'},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    second = finished(api, request(api, dataset_id, format="coco"))
    assert (second["status"], second["version"]) == ("ready", 2)
    diff = httpx.get(url(api, f"/datasets/{dataset_id}/snapshots/1/diff/2"), timeout=10)
    assert diff.status_code == 200, diff.text
    assert diff.json() == [
        {
            "path": "f1/01.jpg",
            "change": "changed",
            "bytes": False,
            "annotations": True,
            "split": False,
        }
    ]
    versions = httpx.get(url(api, f"/datasets/{dataset_id}/snapshots"), timeout=10).json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    assert labels(api, dataset_id)["cat"] == (2, 2)

    yolo = finished(api, request(api, dataset_id, format="yolo", where={"folder": "f0"}))
    assert (yolo["status"], yolo["version"], yolo["images"]) == ("ready", 3, 4)
    _, body = download(api, dataset_id, "v3")
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert sorted(n for n in archive.namelist() if n.startswith("images/")) == sorted(
        f"images/{p}" for p in originals if p.startswith("f0/")
    )
    cx, cy, w, h = (1 + 10 / 2) / 64, (2 + 20 / 2) / 48, 10 / 64, 20 / 48
    assert archive.read("labels/f0/00.txt").decode() == f"0 {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"
    assert 'names:\n  0: "cat"' in archive.read("data.yaml").decode()


@pytest.mark.e2e
def test_a_build_killed_midway_completes_after_restart_and_leaves_no_broken_version(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api, snapshotter = services["api"], services["snapshotter"]
    bodies = {f"big/{i}.bin": os.urandom(24 << 20) for i in range(8)}  # ~200 MB
    for path, body in bodies.items():
        put_object(s3, f"{dataset_id}/images/{path}", body, content_type="application/octet-stream")
    wait_for(
        "the uploads indexed",
        lambda: len(list_all(api, dataset_id, 100)) == len(bodies),
        timeout=60,
    )
    snapshot_id = request(api, dataset_id, format="coco")

    def running() -> bool:
        body = httpx.get(url(api, f"/snapshots/{snapshot_id}"), timeout=10).json()
        return bool(body["status"] == "running" and body["progress"]["images_done"] >= 1)

    wait_for("the build to be under way", running, timeout=60, interval=0.05)
    snapshotter.kill()
    time.sleep(0.5)
    versions = httpx.get(url(api, f"/datasets/{dataset_id}/snapshots"), timeout=10).json()
    assert versions["items"] == []  # nothing half-built is listed
    snapshotter.start()

    done = finished(api, snapshot_id, timeout=180)
    assert (done["status"], done["version"]) == ("ready", 1)
    _, body = download(api, dataset_id, "latest")
    archive = zipfile.ZipFile(io.BytesIO(body))
    for path, original in bodies.items():
        assert (
            hashlib.sha256(archive.read(f"images/{path}")).digest()
            == hashlib.sha256(original).digest()
        )
    uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{dataset_id}/")
    assert not uploads.get("Uploads"), "the killed build's parts were not aborted"


@pytest.mark.e2e
def test_a_build_that_fails_for_good_is_dead_lettered_and_the_next_command_on_its_partition_runs(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    originals = {f"{i}.jpg": images.jpeg(20 + i, 20) for i in range(2)}
    for path, body in originals.items():
        put_object(s3, f"{dataset_id}/images/{path}", body)
    wait_for(
        "the uploads indexed",
        lambda: len(list_all(api, dataset_id, 100)) == len(originals),
        timeout=60,
    )
    # A well-formed command whose request document no snapshotter can build: it selects by
    # a field this version does not know. Before, its TypeError was retried forever, and
    # every later command of its partition (every dataset hashed there) waited behind it.
    bad_id, now = uuid.uuid4().hex, datetime.now(UTC)
    with MongoClient(MONGO_URL, tz_aware=True) as client:
        client[TEST_DB][COLLECTION].insert_one(
            {
                S.ID: bad_id,
                S.DATASET_ID: dataset_id,
                S.FORMAT: "coco",
                S.WHERE: {"shelf": "top"},
                S.STATUS: "queued",
                S.CREATED_AT: now,
                S.UPDATED_AT: now,
            }
        )
    command = CreateSnapshot(snapshot_id=bad_id, dataset_id=dataset_id, requested_at=now)
    bad = command.model_dump_json().encode()
    produce(TOPICS.commands, [(dataset_id.encode(), bad)])  # acknowledged before the next
    good_id = request(api, dataset_id, format="coco")  # the same key: the same partition

    good = finished(api, good_id)
    assert (good["status"], good["version"], good["images"]) == ("ready", 1, len(originals))
    _, body = download(api, dataset_id, "latest")
    archive = zipfile.ZipFile(io.BytesIO(body))
    for path, original in originals.items():
        assert archive.read(f"images/{path}") == original
    reason = (
        f"snapshot {bad_id}: cannot select {{'shelf': 'top'}}: "
        "ListingFilter.__init__() got an unexpected keyword argument 'shelf'"
    )
    dead = consume_matching(TOPICS.dlq, lambda r: r.value == bad)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers[topics.DLQ_REASON_HEADER] == reason
    assert headers[topics.DLQ_SERVICE_HEADER] == "snapshotter"
    assert headers[topics.DLQ_SOURCE_TOPIC_HEADER] == TOPICS.commands
    assert dead.key == dataset_id.encode()
    with MongoClient(MONGO_URL, tz_aware=True) as client:
        failed = client[TEST_DB][COLLECTION].find_one({S.ID: bad_id})
    assert failed is not None
    assert (failed[S.STATUS], failed[S.REASON]) == ("failed", reason)


@pytest.mark.e2e
def test_archive_streams_the_selection_as_a_zip(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    originals = {f"f{i % 2}/{i}.jpg": images.jpeg(40 + i, 30) for i in range(6)}
    originals["f0/big.bin"] = os.urandom(3 << 20)
    for path, body in originals.items():
        put_object(s3, f"{dataset_id}/images/{path}", body)
    wait_for(
        "the uploads indexed",
        lambda: len(list_all(api, dataset_id, 100)) == len(originals),
        timeout=60,
    )
    with httpx.stream(
        "GET", url(api, f"/datasets/{dataset_id}/archive"), params={"folder": "f0"}, timeout=60
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert f'filename="{dataset_id}.zip"' in response.headers["content-disposition"]
        assert "content-length" not in response.headers  # streamed as it is made
        body = b"".join(response.iter_bytes())
    archive = zipfile.ZipFile(io.BytesIO(body))
    expected = {p: b for p, b in originals.items() if p.startswith("f0/")}
    assert sorted(archive.namelist()) == sorted(f"images/{p}" for p in expected)
    for path, original in expected.items():
        assert archive.read(f"images/{path}") == original
