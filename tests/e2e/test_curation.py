"""Upload -> thumbnailer (content hashes) -> indexer (sha256 counters) -> API duplicates."""

import hashlib
from typing import Any

import httpx
import pyvips

from tests.support import images
from tests.support.stack import BUCKET, ServiceProcess, put_object, wait_for


def get(api: ServiceProcess, path: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{api.base_url}{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def ready(api: ServiceProcess, dataset_id: str, n: int) -> dict[str, dict[str, Any]] | None:
    """The listing by path once it holds exactly ``n`` images, every one thumbnailed."""
    items = get(api, f"/v1/datasets/{dataset_id}/images", limit=100)["items"]
    if len(items) != n or any(item["status"] != "ready" for item in items):
        return None
    return {item["path"]: item for item in items}


def all_groups(api: ServiceProcess, dataset_id: str) -> list[dict[str, Any]]:
    """Every duplicate group, one group per page (so the cursor is exercised)."""
    groups: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = get(api, f"/v1/datasets/{dataset_id}/duplicates", **params)
        groups += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return groups
    raise AssertionError("paging did not end")


def test_exact_duplicates_are_grouped_and_follow_deletes_and_overwrites(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    original = images.scene_jpeg(11)
    copies = ["a/original.jpg", "b/copy.jpg", "c/another copy.jpg"]
    distinct = {f"other-{seed}.jpg": images.scene_jpeg(seed) for seed in (12, 13)}
    pair = images.scene_jpeg(14)
    for path in copies:
        put_object(s3, f"{dataset_id}/images/{path}", original)
    for path, data in distinct.items():
        put_object(s3, f"{dataset_id}/images/{path}", data)
    for path in ("pair-1.jpg", "pair-2.jpg"):
        put_object(s3, f"{dataset_id}/images/{path}", pair)
    wait_for("7 images thumbnailed", lambda: ready(api, dataset_id, 7), timeout=60)

    sha = hashlib.sha256(original).hexdigest()
    sha_pair = hashlib.sha256(pair).hexdigest()
    groups = all_groups(api, dataset_id)
    assert [(g["sha256"], g["count"]) for g in groups] == [(sha, 3), (sha_pair, 2)]
    assert [item["path"] for item in groups[0]["items"]] == copies
    assert {item["key"] for item in groups[0]["items"]} == {
        f"{dataset_id}/images/{path}" for path in copies
    }
    assert all(item["dataset_id"] == dataset_id for item in groups[0]["items"])

    # Delete one copy, overwrite another with different bytes: the group shrinks to one
    # image (and is no group any more); the counters follow exactly.
    s3.delete_object(Bucket=BUCKET, Key=f"{dataset_id}/images/{copies[1]}")
    put_object(s3, f"{dataset_id}/images/{copies[2]}", images.scene_jpeg(15))

    def only_the_pair() -> list[dict[str, Any]] | None:
        found = all_groups(api, dataset_id)
        return found if [g["sha256"] for g in found] == [sha_pair] else None

    wait_for("the group of three to dissolve", only_the_pair, timeout=60)
    wait_for("6 images thumbnailed", lambda: ready(api, dataset_id, 6), timeout=60)
    assert [(g["sha256"], g["count"]) for g in all_groups(api, dataset_id)] == [(sha_pair, 2)]
    # Overwriting a copy back with the original's bytes regroups them.
    put_object(s3, f"{dataset_id}/images/{copies[2]}", original)

    def regrouped() -> list[dict[str, Any]] | None:
        found = all_groups(api, dataset_id)
        return found if len(found) == 2 else None

    found = wait_for("the copies to regroup", regrouped, timeout=60)
    assert [(g["sha256"], g["count"]) for g in found] == sorted([(sha, 2), (sha_pair, 2)])


def test_duplicates_of_an_unknown_dataset_are_empty_and_bad_cursors_are_problems(
    services: dict[str, ServiceProcess], dataset_id: str
) -> None:
    api = services["api"]
    assert get(api, f"/v1/datasets/{dataset_id}/duplicates") == {"items": [], "next_cursor": None}
    url = f"{api.base_url}/v1/datasets/{dataset_id}/duplicates"
    response = httpx.get(url, params={"cursor": "nope.nope"}, timeout=10)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(url, params={"limit": 0}, timeout=10).status_code == 422


def test_a_reencoded_copy_is_found_similar_and_other_pictures_are_not(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    original = images.scene_jpeg(21, 1000, 750)
    smaller = pyvips.Image.new_from_buffer(original, "").resize(0.7)
    uploads = {
        "original.jpg": original,
        "reencoded.jpg": bytes(smaller.jpegsave_buffer(Q=60)),
        **{f"other-{seed}.jpg": images.scene_jpeg(seed, 1000, 750) for seed in (22, 23, 24)},
    }
    for path, data in uploads.items():
        put_object(s3, f"{dataset_id}/images/{path}", data)
    items = wait_for("5 images thumbnailed", lambda: ready(api, dataset_id, 5), timeout=60)
    source = items["original.jpg"]
    assert source["phash"] is not None and len(source["phash"]) == 16
    assert source["sha256"] == hashlib.sha256(original).hexdigest()

    similar = get(api, f"/v1/images/{source['id']}/similar", k=6)
    assert (similar["image_id"], similar["phash"], similar["k"]) == (
        source["id"],
        source["phash"],
        6,
    )
    [match] = similar["items"]
    assert match["path"] == "reencoded.jpg" and match["id"] == items["reencoded.jpg"]["id"]
    assert 0 <= match["distance"] <= 6
    # The widest search still finds none of the other pictures.
    widest = get(api, f"/v1/images/{source['id']}/similar", k=10)["items"]
    assert [item["path"] for item in widest] == ["reencoded.jpg"]

    url = f"{api.base_url}/v1/images/{source['id']}/similar"
    assert httpx.get(url, params={"k": 11}, timeout=10).status_code == 422
    unknown = httpx.get(f"{api.base_url}/v1/images/{'x' * 22}/similar", timeout=10)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
