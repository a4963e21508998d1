"""The dataset catalog: counts from exact counters, paged by cursor, statuses as they move."""

from typing import Any

import httpx
import pytest

from tests.e2e.test_pipeline import put_all
from tests.support.stack import BUCKET, ServiceProcess, wait_for


def catalog(api: ServiceProcess, limit: int) -> list[dict[str, Any]]:
    """Every dataset, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = httpx.get(f"{api.base_url}/v1/datasets", params=params, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.e2e
def test_catalog_counts_follow_uploads_thumbnails_and_deletes(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    names = [f"{dataset_id}-a", f"{dataset_id}-b"]
    objects = {
        f"{name}/images/{i}.jpg": b"not an image" * (i + 1) for name in names for i in range(6)
    }
    put_all(s3, objects)

    def settled() -> dict[str, dict[str, Any]] | None:
        # The bodies are not images: each ends "rejected" once the thumbnailer has seen it.
        found = {
            item["dataset_id"]: item for item in catalog(api, 3) if item["dataset_id"] in names
        }
        done = len(found) == 2 and all(item["statuses"]["rejected"] == 6 for item in found.values())
        return found if done else None

    found = wait_for("both datasets thumbnailed in the catalog", settled, timeout=60)
    a = found[names[0]]
    assert (a["image_count"], a["total_bytes"]) == (
        6,
        sum(len(b"not an image") * (i + 1) for i in range(6)),
    )
    assert a["statuses"] == {"pending": 0, "ready": 0, "rejected": 6, "failed": 0}
    assert a["updated_at"] is not None
    stats = httpx.get(f"{api.base_url}/v1/datasets/{names[0]}/stats", timeout=10).json()
    assert stats == a

    s3.delete_object(Bucket=BUCKET, Key=f"{names[0]}/images/0.jpg")

    def shrunk() -> bool:
        body = httpx.get(f"{api.base_url}/v1/datasets/{names[0]}/stats", timeout=10).json()
        return bool(body["image_count"] == 5 and body["statuses"]["rejected"] == 5)

    wait_for("the delete to leave the counts", shrunk, timeout=30)

    url = f"{api.base_url}/v1/datasets/{names[0]}/sample"
    first = httpx.get(url, params={"n": 3, "seed": 42}, timeout=10).json()
    assert first["seed"] == 42 and len(first["items"]) == 3
    again = httpx.get(url, params={"n": 3, "seed": 42}, timeout=10).json()
    # Ids, not whole bodies: presigned URLs change with the second they are signed in.
    assert [i["id"] for i in again["items"]] == [i["id"] for i in first["items"]]
    everything = httpx.get(url, params={"n": 100}, timeout=10).json()
    assert sorted(i["key"] for i in everything["items"]) == sorted(
        f"{names[0]}/images/{i}.jpg" for i in range(1, 6)
    )
    assert httpx.get(url, params={"n": 101}, timeout=10).status_code == 422
    bad = httpx.get(f"{api.base_url}/v1/datasets", params={"cursor": "garbage"}, timeout=10)
    assert bad.status_code == 400


@pytest.mark.e2e
def test_folder_counts_follow_uploads_and_deletes(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    keys = ["top.jpg", "cats/a.jpg", "cats/b.jpg", "cats/kittens/c.jpg"]
    put_all(s3, {f"{dataset_id}/images/{key}": b"x" for key in keys})
    url = f"{api.base_url}/v1/datasets/{dataset_id}/folders"

    def folders(expected: dict[str, int]) -> bool:
        body = httpx.get(url, timeout=10).json()
        return {row["folder"]: row["images"] for row in body["folders"]} == expected

    wait_for("the folder counts", lambda: folders({"": 1, "cats": 2, "cats/kittens": 1}), 30)
    s3.delete_object(Bucket=BUCKET, Key=f"{dataset_id}/images/cats/kittens/c.jpg")
    # An emptied folder leaves the list.
    wait_for("the delete to leave the counts", lambda: folders({"": 1, "cats": 2}), 30)
