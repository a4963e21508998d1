"""One upload is one trace across ingest, indexer and thumbnailer; API commands continue theirs."""

import secrets
from typing import Any

import httpx
import pytest

from devstack import traces
from tests.support import images
from tests.support.stack import TRACES, ServiceProcess, put_object, wait_for


def _listed(api: ServiceProcess, dataset_id: str) -> list[dict[str, Any]]:
    url = f"{api.base_url}/v1/datasets/{dataset_id}/images"
    return httpx.get(url, timeout=10).json()["items"]  # type: ignore[no-any-return]


def _by_name(spans: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    named: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        named.setdefault(span["name"], []).append(span)
    return named


@pytest.mark.e2e
def test_an_upload_is_one_trace_across_three_services(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    key = f"{dataset_id}/images/traced.jpg"
    put_object(s3, key, images.jpeg(40, 30))
    wait_for(
        "the thumbnail",
        lambda: [i for i in _listed(services["api"], dataset_id) if i["status"] == "ready"],
        timeout=60,
    )

    def complete() -> dict[str, list[dict[str, Any]]] | None:
        found = traces.traces_of(TRACES, key)
        if len(found) == 1:
            [spans] = found.values()
            named = _by_name(spans)
            # Each service exports its spans on its own schedule: wait for every one.
            everyone = all(name in named for name in ("ingest", "thumbnail", "store"))
            if len(named.get("index", [])) == 2 and everyone:
                return named
        return None

    named = wait_for("the spans exported", complete, timeout=30)
    [ingest], [thumbnail] = named["ingest"], named["thumbnail"]
    assert ingest["parent_id"] is None  # the root: a storage notification has no context
    assert ingest["attributes"]["key"] == key and ingest["attributes"]["sequencer"]
    indexed, result = sorted(named["index"], key=lambda s: s["start_ns"])
    assert indexed["attributes"]["event.type"] == "ObjectCreated"
    assert indexed["parent_id"] == ingest["span_id"] == thumbnail["parent_id"]
    assert result["attributes"]["event.type"] == "ThumbnailsCreated"
    assert result["parent_id"] == thumbnail["span_id"]  # the result continues the thumbnail's
    for stage in ("fetch", "render", "store"):
        assert [s["parent_id"] for s in named[stage]] == [thumbnail["span_id"]]
    every = [span for group in named.values() for span in group]
    assert {s["service"] for s in every} == {
        "assetflow-ingest",
        "assetflow-indexer",
        "assetflow-thumbnailer",
    }
    lines = traces.waterfall(every)
    assert len(lines) == len(every) and "assetflow-ingest ingest" in lines[0]


@pytest.mark.e2e
def test_a_tag_command_continues_the_api_requests_trace(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    put_object(s3, f"{dataset_id}/images/tagged.jpg", images.jpeg(16, 16))
    [item] = wait_for("the upload", lambda: _listed(api, dataset_id), timeout=60)
    trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
    answer = httpx.patch(
        f"{api.base_url}/v1/images/{item['id']}/tags",
        json={"add": ["traced"]},
        headers={"traceparent": f"00-{trace_id}-{caller}-01"},
        timeout=10,
    )
    assert answer.status_code == 202

    def applied() -> dict[str, list[dict[str, Any]]] | None:
        spans = [s for s in traces.spans(TRACES) if s["trace_id"] == trace_id]
        named = _by_name(spans)
        return named if "index" in named and "PATCH /v1/images/{image_id}/tags" in named else None

    named = wait_for("the command applied in the caller's trace", applied, timeout=30)
    [request] = named["PATCH /v1/images/{image_id}/tags"]
    [index] = named["index"]
    assert request["parent_id"] == caller and request["service"] == "assetflow-api"
    assert index["parent_id"] == request["span_id"]
    assert index["attributes"]["event.type"] == "ChangeTags"


@pytest.mark.e2e
def test_a_snapshot_build_continues_the_api_requests_trace(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    put_object(s3, f"{dataset_id}/images/one.jpg", images.jpeg(16, 16))
    wait_for("the upload", lambda: _listed(api, dataset_id), timeout=60)
    trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
    answer = httpx.post(
        f"{api.base_url}/v1/datasets/{dataset_id}/snapshots",
        json={},
        headers={"traceparent": f"00-{trace_id}-{caller}-01"},
        timeout=10,
    )
    assert answer.status_code == 202

    def built() -> dict[str, list[dict[str, Any]]] | None:
        named = _by_name([s for s in traces.spans(TRACES) if s["trace_id"] == trace_id])
        # Each process exports on its own schedule: wait for both spans, in either order.
        return named if "CreateSnapshot" in named and request_span in named else None

    request_span = "POST /v1/datasets/{dataset_id}/snapshots"
    named = wait_for("the build in the caller's trace", built, timeout=60)
    [request] = named[request_span]
    [build] = named["CreateSnapshot"]
    assert request["parent_id"] == caller
    assert build["parent_id"] == request["span_id"] and build["service"] == "assetflow-snapshotter"
    assert build["attributes"]["job.id"] == answer.json()["snapshot_id"]
