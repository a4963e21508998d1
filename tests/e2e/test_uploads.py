"""Direct uploads: presigned PUT with tags; 200 MB multipart with a retried part, resume and
completion; an aborted upload leaves nothing behind; paths, sizes and types validated."""

from typing import Any

import httpx
import pytest

from tests.e2e.test_pipeline import list_all
from tests.support.images import jpeg
from tests.support.stack import BUCKET, ServiceProcess, wait_for

MB = 1024 * 1024


def start(api: ServiceProcess, dataset_id: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{api.base_url}/v1/datasets/{dataset_id}/uploads", json=body, timeout=30)


@pytest.mark.e2e
def test_small_upload_is_one_presigned_put_carrying_its_tags(
    services: dict[str, ServiceProcess], dataset_id: str
) -> None:
    api = services["api"]
    body = jpeg(64, 48)
    started = start(
        api,
        dataset_id,
        path="a/small.jpg",
        size=len(body),
        content_type="image/jpeg",
        tags=["Cat", "dög"],
    )
    assert started.status_code == 201, started.text
    plan = started.json()
    assert plan["method"] == "PUT" and plan["key"] == f"{dataset_id}/images/a/small.jpg"
    put = httpx.put(plan["url"], content=body, headers=plan["headers"], timeout=30)
    assert put.status_code == 200, put.text
    item = wait_for("the upload indexed", lambda: list_all(api, dataset_id, 10), timeout=60)[0]
    assert item["tags"] == ["cat", "dög"] and item["size"] == len(body)


@pytest.mark.e2e
def test_200_mb_multipart_with_a_retried_part_and_a_resume(
    services: dict[str, ServiceProcess], dataset_id: str
) -> None:
    api = services["api"]
    size = 200 * MB
    data = bytes(range(256)) * (size // 256)
    started = start(
        api, dataset_id, path="big/raw.bin", size=size, content_type="application/octet-stream"
    )
    assert started.status_code == 201, started.text
    plan = started.json()
    assert plan["method"] == "MULTIPART" and plan["part_size"] == 64 * MB
    assert [p["number"] for p in plan["parts"]] == [1, 2, 3, 4]
    part_size = plan["part_size"]

    def put_part(number: int, url: str) -> str:
        chunk = data[(number - 1) * part_size : number * part_size]
        response = httpx.put(url, content=chunk, timeout=120)
        assert response.status_code == 200, response.text
        return str(response.headers["etag"]).strip('"')

    urls = {p["number"]: p["url"] for p in plan["parts"]}
    etags = {n: put_part(n, urls[n]) for n in (1, 2, 3)}
    etags[2] = put_part(2, urls[2])  # a part retried (e.g. after a timeout) replaces itself
    # The connection drops; the client asks what storage has and gets URLs for the rest.
    progress = httpx.get(
        f"{api.base_url}/v1/datasets/{dataset_id}/uploads/{plan['upload_id']}", timeout=30
    ).json()
    assert [p["number"] for p in progress["parts"]] == [1, 2, 3]
    assert [p["number"] for p in progress["missing"]] == [4]
    etags[4] = put_part(4, progress["missing"][0]["url"])
    done = httpx.post(
        f"{api.base_url}/v1/datasets/{dataset_id}/uploads/{plan['upload_id']}/complete",
        json={"parts": [{"number": n, "etag": e} for n, e in etags.items()]},
        timeout=120,
    )
    assert done.status_code == 200, done.text

    def indexed() -> list[dict[str, Any]] | None:
        items = list_all(api, dataset_id, 10)
        return items if items and items[0]["size"] == size else None

    wait_for("the 200 MB object indexed", indexed, timeout=60)
    gone = httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/uploads/{plan['upload_id']}")
    assert gone.status_code == 404  # a finished upload has no record left


@pytest.mark.e2e
def test_an_aborted_upload_leaves_nothing(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    plan = start(
        api, dataset_id, path="x.bin", size=70 * MB, content_type="application/octet-stream"
    ).json()
    first = plan["parts"][0]
    assert httpx.put(first["url"], content=b"\1" * (64 * MB), timeout=120).status_code == 200
    url = f"{api.base_url}/v1/datasets/{dataset_id}/uploads/{plan['upload_id']}"
    assert httpx.delete(url, timeout=30).status_code == 204
    assert httpx.get(url, timeout=30).status_code == 404
    pending = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{dataset_id}/")
    assert not pending.get("Uploads")
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{dataset_id}/").get("KeyCount") == 0


@pytest.mark.e2e
def test_paths_sizes_and_types_are_validated(
    services: dict[str, ServiceProcess], dataset_id: str
) -> None:
    api = services["api"]
    ok = {"path": "a.jpg", "size": 10, "content_type": "image/jpeg"}
    # The schema states some rules (a 422); the server checks the rest (a 400 naming it).
    cases = [
        ({"path": "../escape.jpg"}, 400, "'..'"),
        ({"path": "a//b.jpg"}, 400, "empty"),
        ({"path": "/abs.jpg"}, 422, "pattern"),
        ({"path": "dir/"}, 400, "relative"),
        ({"path": "tab\there.jpg"}, 422, "pattern"),
        ({"path": "é" * 600}, 400, "bytes"),
        ({"size": 6 * 1024**3}, 400, "limit"),
        ({"content_type": "text/html"}, 422, "pattern"),
        ({"tags": ["a,b"]}, 400, "comma"),
        ({"size": True}, 422, "boolean"),
    ]
    for change, status, reason in cases:
        response = start(api, dataset_id, **(ok | change))
        assert response.status_code == status, (change, response.text)
        assert reason in response.json()["detail"], (change, response.json())
