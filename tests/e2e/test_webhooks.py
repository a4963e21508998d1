"""Signed webhooks end to end: uploads and jobs -> Kafka -> notifier -> a real HTTP receiver.

The open test API (auth off) and the notifier run with WEBHOOKS_ALLOW_PRIVATE_TARGETS=true
(the receivers listen on 127.0.0.1), NOTIFIER_TIMEOUT_S=2 and retries from 0.2 s; the
secured API keeps private targets refused.
"""

import json
import time
from typing import Any

import httpx
import pytest

from assetflow.notifier.signing import verify
from tests.support import images
from tests.support.auth import bearer
from tests.support.receiver import Receiver, always, failing, hanging
from tests.support.stack import BUCKET, ServiceProcess, put_object, wait_for

EVENTS = ["image.indexed", "image.ready", "image.failed"]


def _hooks(api: ServiceProcess, dataset_id: str) -> str:
    return f"{api.base_url}/v1/datasets/{dataset_id}/webhooks"


def _create(api: ServiceProcess, dataset_id: str, url: str, events: list[str]) -> dict[str, Any]:
    created = httpx.post(_hooks(api, dataset_id), json={"url": url, "events": events}, timeout=10)
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


def _deliveries(api: ServiceProcess, dataset_id: str, webhook_id: str) -> list[dict[str, Any]]:
    url = f"{_hooks(api, dataset_id)}/{webhook_id}/deliveries"
    page = httpx.get(url, params={"limit": 200}, timeout=10)
    assert page.status_code == 200, page.text
    return page.json()["items"]  # type: ignore[no-any-return]


@pytest.mark.e2e
def test_uploads_are_delivered_signed_and_in_order(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    with Receiver(always(204)) as receiver:
        hook = _create(api, dataset_id, receiver.url, EVENTS)
        secret = hook["secret"]
        assert secret.startswith("whsec_") and len(secret) > 40
        paths = ["a.jpg", "b.png", "c.jpg", "notes.jpg"]
        for path in paths:
            body = images.png(24, 24) if path.endswith(".png") else images.jpeg(32, 24)
            put_object(
                s3, f"{dataset_id}/images/{path}", b"not an image" if path == "notes.jpg" else body
            )
        # Each upload: indexed, then ready (or failed, for the text file).
        wait_for("8 deliveries", lambda: receiver.at_least(8), timeout=60)
        time.sleep(1)  # nothing more is sent: no duplicate of a delivered event
        got = receiver.received()
    assert len(got) == 8
    bodies = [json.loads(r.body) for r in got]
    for request, body in zip(got, bodies, strict=True):
        assert verify(secret, request.headers, request.body), request.headers
        assert request.headers["X-Assetflow-Delivery"] == body["id"]
        assert request.headers["X-Assetflow-Event"] == body["type"]
        assert abs(int(request.headers["X-Assetflow-Timestamp"]) - time.time()) < 120
        assert body["dataset_id"] == dataset_id and body["occurred_at"]
    assert len({b["id"] for b in bodies}) == 8
    by_image: dict[str, list[str]] = {}
    for body in bodies:
        by_image.setdefault(body["data"]["image_id"], []).append(body["type"])
    assert sorted(by_image.values()) == sorted(
        [["image.indexed", "image.ready"]] * 3 + [["image.indexed", "image.failed"]]
    )
    # Received in the webhook's order (the log's sequence numbers), one at a time.
    log = _deliveries(api, dataset_id, hook["id"])
    assert [d["id"] for d in sorted(log, key=lambda d: d["seq"])] == [b["id"] for b in bodies]
    assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in log)
    assert log[0]["attempt_log"][0]["status_code"] == 204
    # The secret was shown once: never again.
    shown = httpx.get(f"{_hooks(api, dataset_id)}/{hook['id']}", timeout=10)
    listed = httpx.get(_hooks(api, dataset_id), timeout=10)
    assert "secret" not in shown.json() and secret not in shown.text
    assert [h["id"] for h in listed.json()["items"]] == [hook["id"]]
    assert secret not in listed.text and secret not in json.dumps(log)


@pytest.mark.e2e
def test_a_receiver_that_fails_twice_gets_exactly_one_successful_delivery(
    services: dict[str, ServiceProcess], dataset_id: str
) -> None:
    api = services["api"]
    with Receiver(failing(2, 500)) as receiver:
        hook = _create(api, dataset_id, receiver.url, ["image.ready"])
        test = httpx.post(f"{_hooks(api, dataset_id)}/{hook['id']}/test", timeout=10)
        assert test.status_code == 202, test.text
        delivery_id = test.json()["delivery_id"]

        def delivered() -> dict[str, Any] | None:
            (found,) = _deliveries(api, dataset_id, hook["id"])
            return found if found["status"] == "delivered" else None

        done = wait_for("the ping delivered", delivered, timeout=30)
        time.sleep(1)  # a moment for a (wrong) fourth attempt to show
        got = receiver.received()
    assert [r.answered for r in got] == [500, 500, 200]
    assert {r.headers["X-Assetflow-Delivery"] for r in got} == {delivery_id}
    assert all(verify(hook["secret"], r.headers, r.body) for r in got)
    assert len({r.body for r in got}) == 1  # the same body every time, signed anew
    assert json.loads(got[0].body)["type"] == "ping"
    assert done["id"] == delivery_id and done["attempts"] == 3 and done["last_error"] is None
    newest_first = [a["status_code"] for a in done["attempt_log"]]
    assert newest_first == [200, 500, 500]
    assert [a["error"] for a in done["attempt_log"]] == [None, "HTTP 500", "HTTP 500"]


@pytest.mark.e2e
def test_a_dead_receiver_does_not_delay_another_webhooks_deliveries(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    with Receiver(hanging()) as dead, Receiver(always(200)) as healthy:
        stalled = _create(api, dataset_id, dead.url, ["image.indexed"])
        _create(api, dataset_id, healthy.url, ["image.indexed"])
        for n in range(5):
            put_object(s3, f"{dataset_id}/images/{n}.jpg", images.jpeg(16, 16))
        wait_for(
            "the healthy receiver's 5 deliveries",
            lambda: len(healthy.received()) >= 5,
            timeout=30,
        )
        # While the dead one is still on its first delivery: its queue waits, not the other.
        # (No timed assertion: the proof is the order of events, not a clock on a shared box.)
        log = _deliveries(api, dataset_id, stalled["id"])
    assert len(log) == 5 and all(d["status"] == "pending" for d in log)
    assert len(dead.received()) <= 3  # one in flight at a time: its first, retried


@pytest.mark.e2e
def test_jobs_outcomes_are_delivered(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    put_object(s3, f"{dataset_id}/images/x.jpg", images.jpeg(16, 16))
    wait_for(
        "the image indexed",
        lambda: httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/images", timeout=10).json()[
            "items"
        ],
        timeout=60,
    )
    with Receiver(always(200)) as receiver:
        hook = _create(api, dataset_id, receiver.url, ["snapshot.ready", "import.failed"])
        snapshot = httpx.post(f"{api.base_url}/v1/datasets/{dataset_id}/snapshots", json={})
        assert snapshot.status_code == 202, snapshot.text
        s3.put_object(Bucket=BUCKET, Key=f"{dataset_id}/imports/bad.zip", Body=b"not a zip")
        started = httpx.post(
            f"{api.base_url}/v1/datasets/{dataset_id}/imports",
            json={"key": f"{dataset_id}/imports/bad.zip"},
        )
        assert started.status_code == 202, started.text
        got = wait_for(
            "the snapshot's and the import's outcomes",
            lambda: receiver.at_least(2),
            timeout=60,
        )
    bodies = {json.loads(r.body)["type"]: json.loads(r.body) for r in got}
    assert set(bodies) == {"snapshot.ready", "import.failed"}
    assert all(verify(hook["secret"], r.headers, r.body) for r in got)
    assert bodies["snapshot.ready"]["data"]["snapshot_id"] == snapshot.json()["snapshot_id"]
    assert bodies["snapshot.ready"]["data"]["snapshot_version"] == 1
    failed = bodies["import.failed"]["data"]
    assert failed["import_id"] == started.json()["import_id"] and failed["problems"]


@pytest.mark.e2e
def test_webhook_crud_and_refused_targets(
    services: dict[str, ServiceProcess], secured_api: ServiceProcess, dataset_id: str
) -> None:
    admin = bearer("admin")
    url = _hooks(secured_api, dataset_id)
    # The secured API keeps the default: loopback, private, link-local, ... are refused.
    for target in (
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest",
        "http://user:pw@93.184.215.14/",
    ):
        refused = httpx.post(url, json={"url": target, "events": EVENTS}, headers=admin)
        assert refused.status_code == 400, (target, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    scheme = httpx.post(url, json={"url": "ftp://93.184.215.14/", "events": EVENTS}, headers=admin)
    assert scheme.status_code == 422
    # A public address literal (no DNS needed) is accepted; its secret can be given.
    given = "a-secret-of-my-own-choosing"
    body = {"url": "https://93.184.215.14/hook", "events": ["image.ready"], "secret": given}
    created = httpx.post(url, json=body, headers=admin)
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"] == given and hook["active"] is True
    one = f"{url}/{hook['id']}"
    patched = httpx.patch(one, json={"active": False, "events": ["image.removed"]}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["active"], patched.json()["events"]) == (False, ["image.removed"])
    moved = httpx.patch(one, json={"url": "http://127.0.0.1/"}, headers=admin)
    assert moved.status_code == 400
    assert "secret" not in httpx.get(one, headers=admin).json()
    # Only an admin: a writer of the dataset may not see or change its webhooks.
    writer = bearer(f"datasets:{dataset_id}:write")
    assert httpx.get(url, headers=writer).status_code == 403
    assert httpx.get(f"{one}/deliveries", headers=writer).status_code == 403
    # Another dataset's id is unknown here.
    assert (
        httpx.get(
            f"{_hooks(secured_api, dataset_id + 'x')}/{hook['id']}", headers=admin
        ).status_code
        == 404
    )
    assert httpx.delete(one, headers=admin).status_code == 204
    assert httpx.get(one, headers=admin).status_code == 404
    assert httpx.post(f"{one}/test", headers=admin).status_code == 404
