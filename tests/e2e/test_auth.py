"""Every route checks the caller's token before data leaves or a URL is signed (API_AUTH=jwt).

The routes come from the API's own OpenAPI document, so a route added later is in the matrix
without anyone remembering to add it here.
"""

import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx
import pytest

from tests.support import images
from tests.support.auth import bearer
from tests.support.stack import BUCKET, ServiceProcess, put_object, wait_for

# Routes that change a dataset although they are GETs: resuming an upload signs part PUTs.
WRITE_GETS = {"/v1/datasets/{dataset_id}/uploads/{upload_id}"}
# Routes only an admin may use, reads included (webhooks hold URLs and delivery logs; share
# links are an admin's to hand out).
ADMIN_ONLY = ("/v1/datasets/{dataset_id}/webhooks", "/v1/datasets/{dataset_id}/shares")
# Routes that name something by its own id: a dataset the caller cannot read is a 404 there.
BY_ID = ("/v1/images/", "/v1/commands/", "/v1/snapshots/", "/v1/imports/")
CATALOG = "/v1/datasets"
# Share links are opened without a bearer token: the link's own token is the credential
# (checked on every request; tests/e2e/test_shares.py). Here they must expose nothing to a
# link token that does not exist, whatever bearer token comes with it.
PUBLIC = ("/v1/shares/",)


class Answer(NamedTuple):
    """What a route answered."""

    status_code: int
    headers: httpx.Headers
    text: str


@dataclass(frozen=True)
class Operation:
    """One documented route, with its path filled in."""

    method: str
    template: str
    path: str

    @property
    def writes(self) -> bool:
        return (
            self.method != "GET"
            or self.template in WRITE_GETS
            or self.template.startswith(ADMIN_ONLY)
        )

    @property
    def by_id(self) -> bool:
        return self.template.startswith(BY_ID)

    @property
    def public(self) -> bool:
        return self.template.startswith(PUBLIC)

    def call(self, api: ServiceProcess, headers: dict[str, str]) -> "Answer":
        body = {} if self.method in ("POST", "PUT", "PATCH") else None
        with httpx.Client(timeout=30) as client:
            request = client.build_request(
                self.method, api.base_url + self.path, json=body, headers=headers
            )
            response = client.send(request, stream=True)
            # A live event stream never ends: its status and headers are the answer.
            streaming = response.headers.get("content-type", "").startswith("text/event-stream")
            text = "<event stream>" if streaming else response.read().decode(errors="replace")
            response.close()
            return Answer(response.status_code, response.headers, text)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class World:
    """Two datasets with an image each, and real ids of jobs in the first."""

    mine: str
    other: str
    operations: list[Operation]  # every route that wants a bearer token
    every_operation: list[Operation]


def _listed(api: ServiceProcess, dataset_id: str) -> list[dict[str, Any]]:
    url = f"{api.base_url}/v1/datasets/{dataset_id}/images"
    return httpx.get(url, timeout=10).json()["items"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def world(services: dict[str, ServiceProcess], secured_api: ServiceProcess, s3: Any) -> World:
    open_api = services["api"]
    suffix = uuid.uuid4().hex[:8]
    mine, other = f"auth-mine-{suffix}", f"auth-other-{suffix}"
    for dataset_id in (mine, other):
        put_object(s3, f"{dataset_id}/images/a.jpg", images.jpeg(32, 32))
    image_id = wait_for("the image indexed", lambda: _listed(open_api, mine), timeout=60)[0]["id"]
    wait_for("the other image indexed", lambda: _listed(open_api, other), timeout=60)
    admin = bearer("admin")
    base = secured_api.base_url
    command = httpx.patch(
        f"{base}/v1/images/{image_id}/tags", json={"add": ["seen"]}, headers=admin, timeout=30
    )
    snapshot = httpx.post(f"{base}/v1/datasets/{mine}/snapshots", json={}, headers=admin)
    s3.put_object(Bucket=BUCKET, Key=f"{mine}/imports/x.zip", Body=b"not a zip")
    started = httpx.post(
        f"{base}/v1/datasets/{mine}/imports", json={"key": f"{mine}/imports/x.zip"}, headers=admin
    )
    view = httpx.post(
        f"{base}/v1/datasets/{mine}/views", json={"name": "all"}, headers=admin, timeout=30
    )
    assert view.status_code == 201, view.text
    for accepted in (command, snapshot, started):
        assert accepted.status_code == 202, accepted.text
    values = {
        "dataset_id": mine,
        "image_id": image_id,
        "command_id": command.json()["command_id"],
        "snapshot_id": snapshot.json()["snapshot_id"],
        "import_id": started.json()["import_id"],
        "view_id": view.json()["id"],
        "webhook_id": "no-such-webhook",
        "upload_id": "no-such-upload",
        "share_token": "no-such-link",
        "share_id": "no-such-share",
        "ref": "latest",
        "a": "v1",
        "b": "latest",
    }
    schema = httpx.get(f"{base}/openapi.json", timeout=10).json()
    operations = [
        Operation(method.upper(), template, template.format(**values))
        for template, methods in schema["paths"].items()
        for method in methods
        if template.startswith("/v1/")
    ]
    assert len(operations) >= 30, [str(op) for op in operations]
    return World(mine, other, [op for op in operations if not op.public], operations)


def _failures(results: dict[str, tuple[int, str]], expected: int) -> dict[str, tuple[int, str]]:
    return {op: found for op, found in results.items() if found[0] != expected}


@pytest.mark.e2e
def test_no_token_or_a_bad_one_is_401_on_every_route(
    world: World, secured_api: ServiceProcess
) -> None:
    expired = bearer("admin", ttl_s=-300)  # beyond the 30 s leeway
    tampered = {"Authorization": bearer("admin")["Authorization"][:-4] + "AAAA"}
    for headers, challenge in (
        ({}, 'Bearer realm="assetflow"'),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 'Bearer realm="assetflow"'),
        (expired, 'Bearer realm="assetflow", error="invalid_token"'),
        (tampered, 'Bearer realm="assetflow", error="invalid_token"'),
    ):
        answers = {str(op): op.call(secured_api, headers) for op in world.operations}
        wrong = {
            op: (r.status_code, r.text[:120])
            for op, r in answers.items()
            if r.status_code != 401
            or r.headers.get("www-authenticate") != challenge
            or r.headers["content-type"] != "application/problem+json"
        }
        assert not wrong, (headers, wrong)


@pytest.mark.e2e
def test_a_token_for_another_dataset_sees_nothing_of_this_one(
    world: World, secured_api: ServiceProcess
) -> None:
    others = bearer(f"datasets:{world.other}:write")
    wrong = {}
    for op in world.operations:
        if op.template == CATALOG:
            continue
        answer = op.call(secured_api, others)
        # An id in a dataset the caller cannot read is as good as unknown: no existence leak.
        expected = 404 if op.by_id else 403
        if answer.status_code != expected:
            wrong[str(op)] = (answer.status_code, answer.text[:120])
    assert not wrong


@pytest.mark.e2e
def test_a_read_only_token_reads_but_never_writes(
    world: World, secured_api: ServiceProcess
) -> None:
    reader = bearer(f"datasets:{world.mine}:read")
    writes, reads = {}, {}
    for op in world.operations:
        answer = op.call(secured_api, reader)
        (writes if op.writes else reads)[str(op)] = (answer.status_code, answer.text[:120])
    assert len(writes) >= 10 and len(reads) >= 15
    assert not _failures(writes, 403)
    # Reads pass the check: what they answer then is the route's business (a 404 for a
    # snapshot version that does not exist yet, a 307 to storage, ...), never 401/403/5xx.
    refused = {op: found for op, found in reads.items() if found[0] in (401, 403, 500, 503)}
    assert not refused


@pytest.mark.e2e
def test_the_catalog_lists_only_what_the_caller_may_read(
    world: World, secured_api: ServiceProcess
) -> None:
    def listed(headers: dict[str, str]) -> set[str]:
        url = f"{secured_api.base_url}/v1/datasets"
        found: set[str] = set()
        cursor = None
        while True:
            params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
            page = httpx.get(url, params=params, headers=headers, timeout=10)
            assert page.status_code == 200, page.text
            found |= {item["dataset_id"] for item in page.json()["items"]}
            if not (cursor := page.json()["next_cursor"]):
                return found

    assert listed(bearer(f"datasets:{world.mine}:read")) == {world.mine}
    both = bearer(f"datasets:{world.mine}:read", f"datasets:{world.other}:write")
    assert listed(both) == {world.mine, world.other}
    assert listed(bearer("datasets:*:read")) >= {world.mine, world.other}
    assert listed(bearer("datasets:nothing-here:read")) == set()


@pytest.mark.e2e
def test_granted_callers_get_data_and_short_lived_urls(
    world: World, secured_api: ServiceProcess
) -> None:
    base = secured_api.base_url
    reader = bearer(f"datasets:{world.mine}:read")
    page = httpx.get(f"{base}/v1/datasets/{world.mine}/images", headers=reader, timeout=10)
    assert page.status_code == 200, page.text
    item = page.json()["items"][0]
    assert "X-Amz-Expires=900" in item["url"]  # originals: 15 minutes by default
    original = httpx.get(f"{base}/v1/images/{item['id']}/original", headers=reader, timeout=10)
    assert original.status_code == 307 and "X-Amz-Expires=900" in original.headers["location"]
    writer = bearer(f"datasets:{world.mine}:write")
    changed = httpx.patch(
        f"{base}/v1/images/{item['id']}/tags", json={"add": ["ok"]}, headers=writer, timeout=30
    )
    assert changed.status_code == 202, changed.text


@pytest.mark.e2e
def test_share_link_routes_need_no_bearer_token_and_expose_nothing_without_a_link(
    world: World, secured_api: ServiceProcess
) -> None:
    public = [op for op in world.every_operation if op.public]
    assert len(public) >= 6, [str(op) for op in public]
    for headers in ({}, bearer("admin"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        answers = {str(op): op.call(secured_api, headers) for op in public}
        # The unknown link's 404 (or the body's 422): never data, a redirect or a 401.
        wrong = {
            op: (r.status_code, r.text[:120])
            for op, r in answers.items()
            if r.status_code not in (404, 422)
            or "location" in r.headers
            or r.headers["content-type"] != "application/problem+json"
        }
        assert not wrong, (headers, wrong)
