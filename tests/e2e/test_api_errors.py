"""API errors are RFC 9457 problem documents with a useful detail."""

import httpx

from tests.support.stack import ServiceProcess


def test_bad_cursor_is_400_problem(services: dict[str, ServiceProcess]) -> None:
    api = services["api"]
    response = httpx.get(f"{api.base_url}/v1/datasets/x/images", params={"cursor": "bogus"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and "cursor" in body["detail"]


def test_limit_out_of_range_is_422_problem(services: dict[str, ServiceProcess]) -> None:
    api = services["api"]
    for limit in (0, 501):
        response = httpx.get(f"{api.base_url}/v1/datasets/x/images", params={"limit": limit})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert "limit" in response.json()["detail"]


def test_unknown_image_is_404_and_empty_dataset_is_empty(
    services: dict[str, ServiceProcess],
) -> None:
    api = services["api"]
    assert httpx.get(f"{api.base_url}/v1/images/nope").status_code == 404
    page = httpx.get(f"{api.base_url}/v1/datasets/never-seen/images").json()
    assert page == {"items": [], "next_cursor": None}
    stats = httpx.get(f"{api.base_url}/v1/datasets/never-seen/stats").json()
    assert stats == {
        "dataset_id": "never-seen",
        "image_count": 0,
        "total_bytes": 0,
        "statuses": {"pending": 0, "ready": 0, "rejected": 0, "failed": 0},
        "quota": None,
        "updated_at": None,
    }


def test_every_service_exposes_metrics(services: dict[str, ServiceProcess]) -> None:
    expected = {
        "ingest": "assetflow_messages_consumed_total",
        "indexer": "assetflow_indexer_bulk_write_seconds",
        "api": "assetflow_api_request_seconds",
    }
    for name, metric in expected.items():
        text = httpx.get(services[name].base_url + "/metrics").text
        assert metric in text, f"{name} lacks {metric}"
