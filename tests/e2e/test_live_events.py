"""Live dataset events (SSE) through the gateway: order, filters, resume, slow clients."""

import socket
from typing import Any

import httpx
import pytest

from tests.support import images
from tests.support.sse import Event, EventStream
from tests.support.stack import BUCKET, GatewayProcess, ServiceProcess, put_object, wait_for


def _events_url(gateway: GatewayProcess, dataset_id: str) -> str:
    return f"{gateway.base_url}/v1/datasets/{dataset_id}/events"


def _of(image_id: str) -> Any:
    return lambda seen: [e for e in seen if e.data.get("image", {}).get("id") == image_id]


def _ready(seen: list[Event]) -> set[str]:
    return {e.data["image"]["path"] for e in seen if e.data["image"].get("status") == "ready"}


@pytest.mark.e2e
def test_an_upload_arrives_indexed_then_ready_in_order(
    gateway: GatewayProcess, s3: Any, dataset_id: str
) -> None:
    with EventStream(_events_url(gateway, dataset_id)) as stream:
        assert stream.status == 200
        put_object(s3, f"{dataset_id}/images/cat.jpg", images.jpeg(64, 48))
        seen = stream.collect(
            lambda seen: any(e.data["image"].get("status") == "ready" for e in seen)
        )
    assert [e.event for e in seen] == ["image.indexed", "image.updated"]
    indexed, ready = seen
    assert indexed.data["image"]["status"] == "pending"
    assert indexed.data["image"]["id"] == ready.data["image"]["id"]
    assert ready.data["fields"] == ["status", "renditions"]
    item = ready.data["image"]  # the listing's item: same fields, URLs signed
    assert item["path"] == "cat.jpg" and item["width"] == 64 and item["thumbhash"]
    assert item["thumb_url"].startswith("http") and "X-Amz-Signature" in item["url"]
    first, second = (int(e.id.rsplit("-", 1)[1]) for e in seen)
    assert first < second


@pytest.mark.e2e
def test_a_filtered_stream_gets_entered_and_left(
    gateway: GatewayProcess, services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"].base_url
    cats = EventStream(_events_url(gateway, dataset_id), params={"tags": "cat"})
    everything = EventStream(_events_url(gateway, dataset_id))
    with cats, everything:
        for name, tag in (("a.jpg", "dog"), ("b.jpg", "cat")):
            s3.put_object(
                Bucket=BUCKET,
                Key=f"{dataset_id}/images/{name}",
                Body=images.jpeg(32, 32),
                ContentType="image/jpeg",
                Metadata={"tags": tag},  # upload-time tags
            )
        # Both ready first: a's thumbnails landing while a is a cat would be a third event.
        ready = everything.collect(lambda seen: len(_ready(seen)) == 2)
        ids = {e.data["image"]["path"]: e.data["image"]["id"] for e in ready}
        a, b = ids["a.jpg"], ids["b.jpg"]
        # b matches from the start; a is no cat, so the cat grid never hears of its upload.
        assert cats.collect(_of(b))[0].event == "image.indexed"
        for change in ({"add": ["cat"]}, {"remove": ["cat"]}):
            answer = httpx.patch(f"{api}/v1/images/{a}/tags", json=change, timeout=10)
            assert answer.status_code == 202
            wait_for("the tag change", lambda: everything.collect(_of(a), timeout=30))
        # Events about b may interleave; a's are exactly these, in order.
        about_a = cats.collect(lambda seen: len(_of(a)(seen)) >= 2)
        assert [e.event for e in _of(a)(about_a)] == ["image.entered", "image.left"]
        left = _of(a)(about_a)[1]
        assert left.data["image"]["tags"] == ["dog"] and left.data["fields"] == ["tags"]


@pytest.mark.e2e
def test_last_event_id_resumes_within_the_window_and_resets_outside_it(
    gateway: GatewayProcess, s3: Any, dataset_id: str
) -> None:
    url = _events_url(gateway, dataset_id)
    with EventStream(url) as stream:
        put_object(s3, f"{dataset_id}/images/one.jpg", images.jpeg(16, 16))
        first = stream.next()
    # While no one listens, a second upload is indexed (and the first gets its thumbnails).
    put_object(s3, f"{dataset_id}/images/two.jpg", images.jpeg(16, 16))
    with EventStream(url) as watcher:
        watcher.collect(lambda seen: any(e.data["image"]["path"] == "two.jpg" for e in seen))
    with EventStream(url, headers={"Last-Event-ID": first.id}) as resumed:
        missed = resumed.collect(
            lambda seen: any(e.data["image"].get("path") == "two.jpg" for e in seen)
        )
    assert missed[0].id != first.id and all(e.event.startswith("image.") for e in missed)
    with EventStream(url, headers={"Last-Event-ID": "from-another-instance-1"}) as stranger:
        assert stranger.next().event == "reset"


def _stalled_client(gateway: GatewayProcess, path: str) -> socket.socket:
    """A subscriber that never reads: a tiny receive buffer, then silence."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", gateway.port))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    return sock


@pytest.mark.e2e
def test_a_slow_subscriber_is_dropped_without_delaying_the_others(
    gateway: GatewayProcess, services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    count = 150
    for n in range(count):
        put_object(s3, f"{dataset_id}/images/{n:03d}.jpg", images.jpeg(8, 8))
    listing = f"{api.base_url}/v1/datasets/{dataset_id}/images"
    wait_for(
        "the uploads indexed",
        lambda: len(httpx.get(listing, params={"limit": 500}, timeout=10).json()["items"]) == count,
        timeout=120,
    )
    dropped = api.metric("assetflow_api_live_dropped_total")
    stalled = _stalled_client(gateway, f"/v1/datasets/{dataset_id}/events")
    bulk = f"{api.base_url}/v1/datasets/{dataset_id}/tags/bulk"

    def tag_everything(change: dict[str, list[str]]) -> None:
        answer = httpx.post(bulk, json={"where": {}, **change}, timeout=30)
        assert answer.status_code == 202, answer.text

    with EventStream(_events_url(gateway, dataset_id)) as fast:
        # One event per image per bulk change, until every buffer between the API and the
        # stalled client is full, and then its queue: the API drops it.
        rounds = 0
        while api.metric("assetflow_api_live_dropped_total") == dropped:
            assert rounds < 200, "the stalled subscriber was never dropped"
            tag_everything({"add": ["odd"]} if rounds % 2 == 0 else {"remove": ["odd"]})
            rounds += 1
        tag_everything({"add": ["final"]})
        print(f"the stalled subscriber was dropped after {rounds} rounds of {count} changes")

        def final(seen: list[Event]) -> bool:
            done = {e.data["image"]["id"] for e in seen if "final" in e.data["image"]["tags"]}
            return len(done) == count

        got = fast.collect(final, timeout=180)
    stalled.close()
    # The fast reader got to the last change although the stalled one stopped reading (the
    # indexer folds changes to one image within a batch into one event, so no exact count).
    assert not [e for e in got if e.event == "reset"]
    assert len(got) >= count * 2 and {e.event for e in got} == {"image.updated"}


@pytest.mark.e2e
def test_a_snapshot_build_is_reported_on_the_dataset_stream(
    gateway: GatewayProcess, services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    with EventStream(_events_url(gateway, dataset_id)) as stream:
        put_object(s3, f"{dataset_id}/images/one.jpg", images.jpeg(16, 16))
        stream.collect(lambda seen: any(e.event == "image.indexed" for e in seen))
        url = f"{gateway.base_url}/v1/datasets/{dataset_id}/snapshots"
        requested = httpx.post(url, json={}, timeout=10)
        assert requested.status_code == 202, requested.text
        snapshot_id = requested.json()["snapshot_id"]
        seen = stream.collect(lambda seen: any(e.event == "snapshot.ready" for e in seen))
    about = [e for e in seen if e.event.startswith("snapshot.")]
    assert {e.data["snapshot_id"] for e in about} == {snapshot_id}
    assert about[-1].data["status"] == "ready" and about[-1].data["snapshot_version"] == 1
