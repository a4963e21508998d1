"""Share links on the running pipeline: a link shows exactly its selection, nothing else, and
stops working the moment it is revoked or expires; no bearer token, even with API_AUTH=jwt."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from tests.support import images
from tests.support.auth import bearer
from tests.support.stack import BUCKET, MONGO_URL, TEST_DB, ServiceProcess, wait_for

SESSION = "X-Share-Session"
GONE = "no such share link, or it has expired or been revoked"


@dataclass(frozen=True)
class World:
    """A dataset of 3 cats and 3 dogs (thumbnailed), a saved view of the cats, another dataset."""

    api: str
    dataset_id: str
    view_id: str
    cats: dict[str, bytes]  # image id -> the original's bytes
    dogs: set[str]
    other_image: str  # an image of another dataset

    def share(self, **body: Any) -> dict[str, Any]:
        """Create a link (the test API runs with auth off: the caller is an admin)."""
        created = httpx.post(
            f"{self.api}/v1/datasets/{self.dataset_id}/shares",
            json={"expires_in_s": 3600} | body,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        return created.json()  # type: ignore[no-any-return]


def _seed(s3: Any, api: str, dataset_id: str, files: dict[str, tuple[bytes, str]]) -> None:
    def put(item: tuple[str, tuple[bytes, str]]) -> None:
        path, (body, tag) = item
        s3.put_object(
            Bucket=BUCKET,
            Key=f"{dataset_id}/images/{path}",
            Body=body,
            ContentType="image/jpeg",
            Metadata={"tags": tag},
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(put, files.items()))

    def ready() -> bool:
        stats = httpx.get(f"{api}/v1/datasets/{dataset_id}/stats", timeout=10).json()
        return bool(stats.get("statuses", {}).get("ready") == len(files))

    wait_for(f"{len(files)} images of {dataset_id} thumbnailed", ready, timeout=90)


def _listed(api: str, dataset_id: str, **params: Any) -> dict[str, str]:
    url = f"{api}/v1/datasets/{dataset_id}/images"
    items = httpx.get(url, params={"limit": 500, **params}, timeout=10).json()["items"]
    return {item["id"]: item["path"] for item in items}


@pytest.fixture(scope="module")
def world(services: dict[str, ServiceProcess], s3: Any) -> World:
    api = services["api"].base_url
    suffix = uuid.uuid4().hex[:8]
    dataset_id, other = f"share-{suffix}", f"share-other-{suffix}"
    files = {
        f"pets/{i}.jpg": (images.scene_jpeg(300 + i, 160, 120), "cat" if i < 3 else "dog")
        for i in range(6)
    }
    _seed(s3, api, dataset_id, files)
    _seed(s3, api, other, {"x.jpg": (images.scene_jpeg(399, 160, 120), "cat")})
    view = httpx.post(
        f"{api}/v1/datasets/{dataset_id}/views",
        json={"name": "cats", "where": {"tags": ["cat"]}},
        timeout=10,
    )
    assert view.status_code == 201, view.text
    cats = _listed(api, dataset_id, tags="cat")
    dogs = _listed(api, dataset_id, tags="dog")
    assert len(cats) == 3 and len(dogs) == 3
    [other_image] = _listed(api, other)
    return World(
        api,
        dataset_id,
        view.json()["id"],
        {image_id: files[path][0] for image_id, path in cats.items()},
        set(dogs),
        other_image,
    )


def _pages(base: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every item of a link's listing, two at a time."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = httpx.get(f"{base}/images", params=params, headers=headers, timeout=10)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if not (cursor := page.json()["next_cursor"]):
            return items


def _gone(response: httpx.Response) -> bool:
    """The one 404 every dead link answers: problem+json, no location, no data."""
    return (
        response.status_code == 404
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["detail"] == GONE
        and "location" not in response.headers
    )


@pytest.mark.e2e
def test_a_link_to_a_view_shows_exactly_its_images_and_nothing_else(world: World) -> None:
    created = world.share(view_id=world.view_id)
    assert created["path"] == f"/s/{created['token']}" and len(created["token"]) >= 43
    assert created["view_name"] == "cats" and created["where"]["tags"] == ["cat"]
    base = f"{world.api}/v1/shares/{created['token']}"
    info = httpx.get(base, timeout=10).json()
    assert info["dataset_id"] == world.dataset_id and info["view_name"] == "cats"
    assert info["needs_password"] is False and info["unlocked"] is True

    items = _pages(base)
    assert {item["id"] for item in items} == set(world.cats)  # paged two at a time, exactly
    for item in items:
        assert item["url"] is None  # originals not allowed: none signed
        assert not {"key", "dataset_id", "etag", "sha256", "phash"} & set(item)
        thumb = httpx.get(item["thumb_url"], timeout=10)
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
        assert "X-Amz-Expires=900" in item["thumb_url"]  # short-lived, not the day of the grid

    cat = next(iter(world.cats))
    assert httpx.get(f"{base}/images/{cat}", timeout=10).json()["id"] == cat
    preview = httpx.get(f"{base}/images/{cat}/preview", timeout=10)
    assert preview.status_code == 307
    assert httpx.get(preview.headers["location"], timeout=10).content[:2] == b"\xff\xd8"
    refused = httpx.get(f"{base}/images/{cat}/original", timeout=10)
    assert refused.status_code == 403 and "location" not in refused.headers
    # Outside the selection is as good as unknown: no item, no URL.
    for outside in (*world.dogs, world.other_image, "no-such-image"):
        for suffix in ("", "/thumb", "/preview", "/original"):
            answer = httpx.get(f"{base}/images/{outside}{suffix}", timeout=10)
            assert answer.status_code in (403, 404) and "location" not in answer.headers, suffix
            if suffix != "/original":
                assert answer.status_code == 404
    # A cursor of the dataset's own listing (or of another link) does not page this one.
    other_link = f"{world.api}/v1/shares/{world.share()['token']}"
    foreign = httpx.get(f"{other_link}/images", params={"limit": 1}, timeout=10).json()
    page = httpx.get(f"{base}/images", params={"cursor": foreign["next_cursor"]}, timeout=10)
    assert page.status_code == 400


@pytest.mark.e2e
def test_a_whole_dataset_link_with_originals_signs_them(world: World) -> None:
    created = world.share(allow_originals=True)
    assert created["view_id"] is None and created["allow_originals"] is True
    base = f"{world.api}/v1/shares/{created['token']}"
    items = _pages(base)
    assert {item["id"] for item in items} == set(world.cats) | world.dogs
    cat, body = next(iter(world.cats.items()))
    listed = next(item for item in items if item["id"] == cat)
    assert httpx.get(listed["url"], timeout=10).content == body
    original = httpx.get(f"{base}/images/{cat}/original", timeout=10)
    assert original.status_code == 307
    assert httpx.get(original.headers["location"], timeout=10).content == body
    assert httpx.get(f"{base}/images/{world.other_image}", timeout=10).status_code == 404


@pytest.mark.e2e
def test_a_password_link_shows_nothing_until_unlocked(world: World) -> None:
    created = world.share(view_id=world.view_id, password="correct horse battery")
    assert created["has_password"] is True and "password" not in created
    base = f"{world.api}/v1/shares/{created['token']}"
    info = httpx.get(base, timeout=10).json()
    assert info["needs_password"] is True and info["unlocked"] is False
    assert info["dataset_id"] is None and info["view_name"] is None  # nothing before unlocking
    cat = next(iter(world.cats))
    for path in ("/images", f"/images/{cat}", f"/images/{cat}/thumb"):
        locked = httpx.get(base + path, timeout=10)
        assert locked.status_code == 401 and "location" not in locked.headers, path
        assert locked.headers["www-authenticate"] == 'Share-Password realm="assetflow"'
        assert locked.headers["content-type"] == "application/problem+json"

    wrong = httpx.post(f"{base}/unlock", json={"password": "correct horse"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong password for this link"
    unlocked = httpx.post(f"{base}/unlock", json={"password": "correct horse battery"}, timeout=10)
    assert unlocked.status_code == 200, unlocked.text
    session = {SESSION: unlocked.json()["session"]}
    assert httpx.get(base, headers=session, timeout=10).json()["dataset_id"] == world.dataset_id
    assert {item["id"] for item in _pages(base, session)} == set(world.cats)
    tampered = {SESSION: session[SESSION][:-2] + "AA"}
    assert httpx.get(f"{base}/images", headers=tampered, timeout=10).status_code == 401
    # A session opens its own link only.
    other = world.share(password="another password")
    other_base = f"{world.api}/v1/shares/{other['token']}"
    assert httpx.get(f"{other_base}/images", headers=session, timeout=10).status_code == 401
    # A link without a password has nothing to unlock.
    plain = world.share()
    no_password = httpx.post(
        f"{world.api}/v1/shares/{plain['token']}/unlock", json={"password": "x"}, timeout=10
    )
    assert no_password.status_code == 400


@pytest.mark.e2e
def test_revoked_expired_and_view_deleted_links_are_404_at_once(world: World) -> None:
    cat = next(iter(world.cats))
    revoked, expired = world.share(), world.share()
    view = httpx.post(
        f"{world.api}/v1/datasets/{world.dataset_id}/views",
        json={"name": f"temp-{uuid.uuid4().hex[:6]}", "where": {"tags": ["dog"]}},
        timeout=10,
    ).json()
    unviewed = world.share(view_id=view["id"])
    for link in (revoked, expired, unviewed):
        base = f"{world.api}/v1/shares/{link['token']}"
        assert httpx.get(f"{base}/images", timeout=10).status_code == 200

    shares_url = f"{world.api}/v1/datasets/{world.dataset_id}/shares"
    assert httpx.delete(f"{shares_url}/{revoked['id']}", timeout=10).status_code == 204
    assert httpx.delete(f"{shares_url}/{revoked['id']}", timeout=10).status_code == 204  # again
    assert httpx.delete(f"{shares_url}/nope", timeout=10).status_code == 404
    # Expired: the stored expiry moved into the past (creating one that short is refused).
    with MongoClient(MONGO_URL) as client:
        client[TEST_DB]["shares"].update_one(
            {"_id": expired["id"]},
            {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
        )
    views_url = f"{world.api}/v1/datasets/{world.dataset_id}/views/{view['id']}"
    assert httpx.delete(views_url, timeout=10).status_code == 204

    for link in (revoked, expired, unviewed):
        base = f"{world.api}/v1/shares/{link['token']}"
        for method, path in (
            ("GET", ""),
            ("GET", "/images"),
            ("GET", f"/images/{cat}"),
            ("GET", f"/images/{cat}/thumb"),
            ("POST", "/unlock"),
        ):
            body = {"password": "whatever"} if method == "POST" else None
            answer = httpx.request(method, base + path, json=body, timeout=10)
            assert _gone(answer), (link["id"], path, answer.status_code, answer.text)
    unknown = httpx.get(f"{world.api}/v1/shares/{'A' * 43}/images", timeout=10)
    assert _gone(unknown)  # the same answer as a link that once worked

    listed = {item["id"]: item for item in httpx.get(shares_url, timeout=10).json()["items"]}
    assert listed[revoked["id"]]["state"] == "revoked"
    assert listed[revoked["id"]]["revoked_at"] is not None
    assert listed[expired["id"]]["state"] == "expired"
    assert listed[unviewed["id"]]["view_name"] is None  # its view is gone
    assert all("token" not in item and "token_hash" not in item for item in listed.values())
    with MongoClient(MONGO_URL) as client:
        stored = client[TEST_DB]["shares"].find_one({"_id": revoked["id"]})
    assert stored is not None and revoked["token"] not in str(stored)  # only its hash


@pytest.mark.e2e
def test_expiry_is_required_and_bounded(world: World) -> None:
    url = f"{world.api}/v1/datasets/{world.dataset_id}/shares"
    in_a_day = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for body, status in (
        ({}, 400),  # an expiry is required
        ({"expires_in_s": 3600, "expires_at": in_a_day}, 400),  # one of them
        ({"expires_in_s": 30}, 422),
        ({"expires_in_s": 91 * 86400}, 422),
        ({"expires_at": (datetime.now(UTC) + timedelta(days=100)).isoformat()}, 400),
        ({"expires_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, 400),
        ({"expires_at": in_a_day.removesuffix("+00:00")}, 422),  # no time zone
    ):
        refused = httpx.post(url, json=body, timeout=10)
        assert refused.status_code == status, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert httpx.post(url, json={"expires_at": in_a_day}, timeout=10).status_code == 201
    unknown_view = httpx.post(url, json={"expires_in_s": 600, "view_id": "nope"}, timeout=10)
    assert unknown_view.status_code == 400


@pytest.mark.e2e
def test_with_api_auth_jwt_links_need_no_token_and_open_nothing_else(
    world: World, secured_api: ServiceProcess
) -> None:
    base = secured_api.base_url
    url = f"{base}/v1/datasets/{world.dataset_id}/shares"
    body = {"expires_in_s": 600, "view_id": world.view_id}
    assert httpx.post(url, json=body, timeout=10).status_code == 401
    reader = bearer(f"datasets:{world.dataset_id}:write")  # may write, but is no admin
    assert httpx.post(url, json=body, headers=reader, timeout=10).status_code == 403
    assert httpx.get(url, headers=reader, timeout=10).status_code == 403
    created = httpx.post(url, json=body, headers=bearer("admin", subject="alice"), timeout=10)
    assert created.status_code == 201 and created.json()["created_by"] == "alice"
    token = created.json()["token"]

    link = f"{base}/v1/shares/{token}"
    assert httpx.get(link, timeout=10).status_code == 200  # no Authorization header at all
    assert {item["id"] for item in _pages(link)} == set(world.cats)
    cat = next(iter(world.cats))
    assert httpx.get(f"{link}/images/{cat}/thumb", timeout=10).status_code == 307
    # The link's token is no bearer token: every other route still wants a real one.
    as_bearer = {"Authorization": f"Bearer {token}"}
    for path in (
        f"/v1/datasets/{world.dataset_id}/images",
        f"/v1/images/{cat}",
        f"/v1/images/{cat}/original",
        f"/v1/datasets/{world.dataset_id}/shares",
    ):
        assert httpx.get(base + path, headers=as_bearer, timeout=10).status_code == 401, path
    # A guessed token opens nothing.
    for guess in ("x", token[:-1] + ("A" if token[-1] != "A" else "B"), "A" * 43):
        assert _gone(httpx.get(f"{base}/v1/shares/{guess}/images", timeout=10))
