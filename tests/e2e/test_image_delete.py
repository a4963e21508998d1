"""DELETE /v1/images/{id}: storage deletes the original, the index follows the notification."""

from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support import images
from tests.support.auth import bearer
from tests.support.stack import BUCKET, ServiceProcess, put_object, wait_for

PROBLEM_JSON = "application/problem+json"


def _listed(api: ServiceProcess, dataset_id: str) -> dict[str, dict[str, Any]]:
    url = f"{api.base_url}/v1/datasets/{dataset_id}/images"
    response = httpx.get(url, params={"limit": 100}, timeout=10)
    assert response.status_code == 200, response.text
    return {item["path"]: item for item in response.json()["items"]}


def _image_count(api: ServiceProcess, dataset_id: str) -> int:
    response = httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/stats", timeout=10)
    assert response.status_code == 200, response.text
    return int(response.json()["image_count"])


def _delete(api: ServiceProcess, image_id: str, **headers: str) -> httpx.Response:
    return httpx.delete(f"{api.base_url}/v1/images/{image_id}", headers=headers, timeout=30)


def test_deleting_an_image_removes_it_from_storage_and_then_from_the_index(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    for path, seed in (("keep.jpg", 31), ("drop/me.jpg", 32)):
        put_object(s3, f"{dataset_id}/images/{path}", images.scene_jpeg(seed))

    def both() -> dict[str, dict[str, Any]] | None:
        found = _listed(api, dataset_id)
        return found if len(found) == 2 else None

    listed = wait_for("2 images indexed", both, timeout=60)
    doomed = listed["drop/me.jpg"]

    response = _delete(api, doomed["id"])
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == "application/json"
    key = f"{dataset_id}/images/drop/me.jpg"
    assert response.json() == {"image_id": doomed["id"], "key": key}
    with pytest.raises(ClientError) as gone:
        s3.head_object(Bucket=BUCKET, Key=key)
    assert gone.value.response["Error"]["Code"] in ("404", "NoSuchKey")

    # The index follows MinIO's notification: the listing, the counters, the lookup.
    wait_for(
        "the listing to drop it", lambda: list(_listed(api, dataset_id)) == ["keep.jpg"], timeout=60
    )
    wait_for("the stats to count 1", lambda: _image_count(api, dataset_id) == 1, timeout=60)
    lookup = httpx.get(f"{api.base_url}/v1/images/{doomed['id']}", timeout=10)
    assert lookup.status_code == 404

    # A deleted (or never known) image is a 404 problem.
    for image_id in (doomed["id"], "x" * 22):
        again = _delete(api, image_id)
        assert again.status_code == 404, again.text
        assert again.headers["content-type"] == PROBLEM_JSON
        assert again.json()["status"] == 404
    # The other image is untouched.
    assert s3.head_object(Bucket=BUCKET, Key=f"{dataset_id}/images/keep.jpg")


def test_deleting_needs_write_access_to_the_images_dataset(
    services: dict[str, ServiceProcess], secured_api: ServiceProcess, s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    put_object(s3, f"{dataset_id}/images/guarded.jpg", images.jpeg(32, 32))
    [item] = wait_for(
        "the image indexed", lambda: list(_listed(api, dataset_id).values()), timeout=60
    )

    no_token = _delete(secured_api, item["id"])
    assert no_token.status_code == 401 and no_token.headers["content-type"] == PROBLEM_JSON
    reader = _delete(secured_api, item["id"], **bearer(f"datasets:{dataset_id}:read"))
    assert reader.status_code == 403, reader.text
    assert reader.headers["content-type"] == PROBLEM_JSON
    assert f"datasets:{dataset_id}:write" in reader.json()["detail"]
    # A token for another dataset learns nothing: as if the image did not exist.
    stranger = _delete(secured_api, item["id"], **bearer("datasets:someone-else:write"))
    assert stranger.status_code == 404, stranger.text
    # Refused deletes left the object where it was; a writer's delete goes through.
    assert s3.head_object(Bucket=BUCKET, Key=f"{dataset_id}/images/guarded.jpg")
    writer = _delete(secured_api, item["id"], **bearer(f"datasets:{dataset_id}:write"))
    assert writer.status_code == 202, writer.text
    wait_for("the listing to drop it", lambda: not _listed(api, dataset_id), timeout=60)
