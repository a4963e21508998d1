"""Zip imports on the real stack: uploaded through the API, checked, unpacked, annotated."""

import io
import json
import zipfile
from typing import Any

import httpx
import pytest

from tests.e2e.test_annotations import labels, url
from tests.e2e.test_pipeline import list_all
from tests.support import images
from tests.support.stack import BUCKET, ServiceProcess, wait_for


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def finished(api: ServiceProcess, import_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body = httpx.get(url(api, f"/imports/{import_id}"), timeout=10).json()
        return body if body["status"] in ("done", "failed") else None

    return wait_for(f"import {import_id} to finish", done, timeout=120)  # type: ignore[no-any-return]


def start_import(api: ServiceProcess, dataset_id: str, key: str) -> str:
    response = httpx.post(
        url(api, f"/datasets/{dataset_id}/imports"), json={"key": key}, timeout=10
    )
    assert response.status_code == 202, response.text
    return str(response.json()["import_id"])


@pytest.mark.e2e
def test_a_zip_with_nested_folders_and_coco_is_listed_with_its_annotations(
    services: dict[str, ServiceProcess], dataset_id: str
) -> None:
    api = services["api"]
    coco = {
        "images": [
            {"id": 1, "file_name": "a/1.jpg"},
            {"id": 2, "file_name": "a/b/2.png"},
            {"id": 3, "file_name": "3.jpg"},
        ],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]},
            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [2, 2, 5, 5]},
        ],
    }
    files = {
        "images/a/1.jpg": images.jpeg(64, 48),
        "images/a/b/2.png": images.png(32, 32),
        "images/3.jpg": images.jpeg(40, 30),
        "annotations.json": json.dumps(coco).encode(),
    }
    body = zipped(files)
    # Uploaded through the uploads API, as a client would.
    started = httpx.post(
        url(api, f"/datasets/{dataset_id}/uploads"),
        json={
            "path": "batch.zip",
            "size": len(body),
            "content_type": "application/zip",
            "target": "imports",
        },
        timeout=10,
    )
    assert started.status_code == 201, started.text
    upload = started.json()
    assert upload["key"] == f"{dataset_id}/imports/batch.zip"
    put = httpx.put(upload["url"], content=body, headers=upload["headers"], timeout=30)
    assert put.status_code == 200, put.text

    done = finished(api, start_import(api, dataset_id, upload["key"]))
    assert done["status"] == "done", done
    assert (done["images_total"], done["images_done"], done["annotated"]) == (3, 3, 3)
    assert done["annotation_errors"] == []
    listed = {item["path"]: item for item in list_all(api, dataset_id, 100)}
    assert sorted(listed) == ["3.jpg", "a/1.jpg", "a/b/2.png"]
    assert labels(api, dataset_id) == {"cat": (2, 2)}
    one = httpx.get(url(api, f"/images/{listed['a/1.jpg']['id']}/annotations"), timeout=10)
    assert [s["bbox"] for s in one.json()["annotations"]] == [[1, 1, 10, 10]]


@pytest.mark.e2e
def test_a_zip_bomb_and_a_path_traversal_are_refused_and_nothing_is_written(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    body = zipped(
        {
            "images/ok.jpg": images.jpeg(20, 20),
            "images/../evil.jpg": images.jpeg(20, 20),
            "images/bomb.png": bytes(64 << 20),  # 64 MiB of zeros: ~1000:1
        }
    )
    key = f"{dataset_id}/imports/bad.zip"
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)

    done = finished(api, start_import(api, dataset_id, key))
    assert done["status"] == "failed"
    problems = "\n".join(done["problems"])
    assert "'images/../evil.jpg': an empty, '.' or '..' segment" in problems
    assert "'images/bomb.png': compression ratio" in problems
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{dataset_id}/images/")
    assert listed.get("KeyCount", 0) == 0  # not even the good image

    outside = httpx.post(
        url(api, f"/datasets/{dataset_id}/imports"), json={"key": "other/imports/x.zip"}, timeout=10
    )
    assert outside.status_code == 400 and "not under" in outside.json()["detail"]
    missing = httpx.post(
        url(api, f"/datasets/{dataset_id}/imports"),
        json={"key": f"{dataset_id}/imports/none.zip"},
        timeout=10,
    )
    assert missing.status_code == 404
