"""Annotations through the real API: conditional writes, label counts, events, COCO import."""

import json
from typing import Any

import httpx
import pytest

from tests.e2e.test_pipeline import list_all
from tests.support import images
from tests.support.stack import (
    BUCKET,
    TOPICS,
    ServiceProcess,
    consume_matching,
    put_object,
    wait_for,
)


def url(api: ServiceProcess, path: str) -> str:
    return f"{api.base_url}/v1{path}"


def labels(api: ServiceProcess, dataset_id: str) -> dict[str, tuple[int, int]]:
    response = httpx.get(url(api, f"/datasets/{dataset_id}/labels"), timeout=10)
    assert response.status_code == 200, response.text
    return {row["label"]: (row["shapes"], row["images"]) for row in response.json()}


def ready_images(api: ServiceProcess, dataset_id: str, n: int) -> list[dict[str, Any]]:
    def settled() -> list[dict[str, Any]] | None:
        items = list_all(api, dataset_id, 100)
        done = len(items) == n and all(item["status"] == "ready" for item in items)
        return items if done else None

    return wait_for(f"{n} images ready", settled, timeout=90)  # type: ignore[no-any-return]


def box(shape_id: str, label: str, x: float = 2) -> dict[str, Any]:
    return {"id": shape_id, "type": "bbox", "label": label, "bbox": [x, 3, 10, 12]}


@pytest.mark.e2e
def test_annotate_50_images_with_revisions_label_counts_and_events(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    for i in range(50):
        put_object(s3, f"{dataset_id}/images/{i:02d}.jpg", images.jpeg(64, 48))
    items = ready_images(api, dataset_id, 50)

    with httpx.Client(timeout=10) as client:
        for n, item in enumerate(items):
            shapes = [box("a", "cat")] + ([box("b", "Dog", x=20)] if n % 2 else [])
            response = client.patch(
                url(api, f"/images/{item['id']}/annotations"),
                json={"upsert": shapes},
                headers={"If-Match": '"0"'},
            )
            assert response.status_code == 200, response.text
            assert response.headers["etag"] == '"1"'
            assert response.json()["revision"] == 1
    assert labels(api, dataset_id) == {"cat": (50, 50), "dog": (25, 25)}

    first = items[0]["id"]
    target = url(api, f"/images/{first}/annotations")
    stale = httpx.patch(target, json={"delete": ["a"]}, headers={"If-Match": '"0"'}, timeout=10)
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["current_revision"] == 1 and stale.headers["etag"] == '"1"'
    missing = httpx.put(target, json={"annotations": []}, timeout=10)
    assert missing.status_code == 428 and missing.json()["status"] == 428
    outside = httpx.patch(
        target, json={"upsert": [box("z", "cat", x=60)]}, headers={"If-Match": '"1"'}, timeout=10
    )
    assert outside.status_code == 400 and "outside the 64x48 image" in outside.json()["detail"]

    read = httpx.get(target, timeout=10)
    assert read.status_code == 200 and read.headers["etag"] == '"1"'
    assert [s["id"] for s in read.json()["annotations"]] == ["a"]
    replaced = httpx.put(
        target,
        json={"annotations": [box("c", "bird")]},
        headers={"If-Match": read.headers["etag"]},
        timeout=10,
    )
    assert replaced.status_code == 200 and replaced.json()["revision"] == 2
    assert labels(api, dataset_id) == {"cat": (49, 49), "dog": (25, 25), "bird": (1, 1)}

    event = consume_matching(
        TOPICS.asset_objects,
        lambda r: (
            (body := json.loads(r.value)).get("type") == "AnnotationsChanged"
            and body["dataset_id"] == dataset_id
            and body["revision"] == 2
        ),
    )
    assert json.loads(event.value)["shapes"] == 1

    # Deleting an annotated image takes its shapes out of the counts.
    s3.delete_object(Bucket=BUCKET, Key=f"{dataset_id}/images/{items[1]['path']}")
    wait_for(
        "the deleted image's labels to leave the counts",
        lambda: labels(api, dataset_id).get("cat") == (48, 48),
        timeout=30,
    )
    assert (
        httpx.get(url(api, f"/images/{items[1]['id']}/annotations"), timeout=10).status_code == 404
    )


@pytest.mark.e2e
def test_coco_import_writes_whole_images_and_reports_the_rest(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    for path in ("a/1.jpg", "a/b/2.jpg", "3.jpg"):
        put_object(s3, f"{dataset_id}/images/{path}", images.jpeg(64, 48))
    ready_images(api, dataset_id, 3)
    coco = {
        "images": [
            {"id": 1, "file_name": "a/1.jpg"},
            {"id": 2, "file_name": "a/b/2.jpg"},
            {"id": 3, "file_name": "3.jpg"},
            {"id": 4, "file_name": "missing.jpg"},
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]},
            {
                "id": 2,
                "image_id": 1,
                "category_id": 2,
                "segmentation": [[0, 0, 20, 0, 20, 20]],
                "bbox": [0, 0, 20, 20],
            },
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [1, 1, 10, 10]},
            {"id": 4, "image_id": 2, "category_id": 1, "bbox": [50, 40, 30, 30]},  # outside
            {"id": 5, "image_id": 3, "category_id": 7, "bbox": [1, 1, 1, 1]},  # no category
        ],
    }
    response = httpx.post(
        url(api, f"/datasets/{dataset_id}/annotations/import"), json=coco, timeout=30
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["images"], result["shapes"], result["unmatched"]) == (1, 2, ["missing.jpg"])
    assert len(result["errors"]) == 2
    assert any("a/b/2.jpg" in e and "outside" in e for e in result["errors"])
    assert any("3.jpg" in e and "category 7" in e for e in result["errors"])
    # Nothing half-applied: a/b/2.jpg has none of its annotations, not even the valid one.
    assert labels(api, dataset_id) == {"cat": (1, 1), "dog": (1, 1)}
    by_path = {item["path"]: item for item in list_all(api, dataset_id, 100)}
    two = httpx.get(url(api, f"/images/{by_path['a/b/2.jpg']['id']}/annotations"), timeout=10)
    assert two.json()["revision"] == 0
    one = httpx.get(url(api, f"/images/{by_path['a/1.jpg']['id']}/annotations"), timeout=10)
    assert [(s["type"], s["label"]) for s in one.json()["annotations"]] == [
        ("bbox", "cat"),
        ("polygon", "dog"),
    ]
