"""nginx as the gateway in front of the real API: proxying, headers, limits, the web root."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import images
from tests.support.stack import GatewayProcess, ServiceProcess, put_object, wait_for

LIMITED_PORT = 18081
SHARES_PORT = 18083


@pytest.mark.e2e
def test_the_api_through_the_gateway(
    gateway: GatewayProcess, services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    for i in range(20):
        put_object(s3, f"{dataset_id}/images/{i:02d}.jpg", images.jpeg(32, 32))
    direct = f"{api.base_url}/v1/datasets/{dataset_id}/images"
    wait_for(
        "the uploads listed",
        lambda: len(httpx.get(direct, timeout=10).json()["items"]) == 20,
        timeout=60,
    )
    url = f"{gateway.base_url}/v1/datasets/{dataset_id}/images"
    response = httpx.get(url, headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 20
    assert response.headers["content-encoding"] == "gzip"  # a listing page is worth it
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    csp = response.headers["content-security-policy"]
    assert "img-src 'self' data: blob: http://127.0.0.1:9000" in csp
    assert len(response.headers["x-request-id"]) >= 16  # made by the gateway
    passed = httpx.get(url, headers={"X-Request-ID": "trace-me-42"}, timeout=10)
    assert passed.headers["x-request-id"] == "trace-me-42"
    # API errors come through untouched: still problem+json.
    missing = httpx.get(f"{gateway.base_url}/v1/images/nope", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


@pytest.mark.e2e
def test_body_limit_and_the_web_root(
    gateway: GatewayProcess, web_root: Path, dataset_id: str
) -> None:
    too_big = httpx.post(
        f"{gateway.base_url}/v1/datasets/{dataset_id}/annotations/import",
        content=b"{" + b" " * (2 << 20) + b"}",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert too_big.status_code == 413
    page = httpx.get(f"{gateway.base_url}/datasets/ds1/folder", timeout=10)  # a client route
    assert page.status_code == 200 and "<title>assetflow</title>" in page.text
    assert page.headers["cache-control"] == "no-cache"
    script = next((web_root / "assets").glob("*.js")).name  # hashed by the build
    asset = httpx.get(f"{gateway.base_url}/assets/{script}", timeout=10)
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert httpx.get(f"{gateway.base_url}/assets/missing.js", timeout=10).status_code == 404


@pytest.mark.e2e
def test_rate_limit_answers_429_problem_json(
    services: dict[str, ServiceProcess], web_root: Path, dataset_id: str
) -> None:
    limited = GatewayProcess("limited", LIMITED_PORT, web_root=web_root, rate="2r/s", burst=3)
    limited.start()
    try:
        url = f"{limited.base_url}/v1/datasets/{dataset_id}/stats"
        with ThreadPoolExecutor(max_workers=10) as pool:
            responses = list(pool.map(lambda _: httpx.get(url, timeout=10), range(20)))
    finally:
        limited.stop()
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) >= 3 and statuses.count(429) >= 10, statuses
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429 and refused.headers["retry-after"] == "1"


@pytest.mark.e2e
def test_share_links_are_rate_limited_tighter_and_unlocking_tightest(
    services: dict[str, ServiceProcess], web_root: Path
) -> None:
    # A gateway of its own: its limits' state is not shared with the other tests' gateway.
    shares = GatewayProcess("shares", SHARES_PORT, web_root=web_root)
    access_log = shares.prefix / "logs" / "access.log"
    logged_before = access_log.stat().st_size if access_log.exists() else 0  # earlier runs'
    shares.start()
    try:
        link = f"{shares.base_url}/v1/shares/{'A' * 43}"
        with ThreadPoolExecutor(max_workers=8) as pool:
            guesses = list(
                pool.map(
                    lambda _: httpx.post(f"{link}/unlock", json={"password": "guess"}, timeout=10),
                    range(12),
                )
            )
            views = list(pool.map(lambda _: httpx.get(f"{link}/images", timeout=10), range(60)))
        statuses = [r.status_code for r in guesses]
        # 6 a minute, a burst of 5: the sixth guess in a row is already refused.
        assert 1 <= statuses.count(404) <= 6 and statuses.count(429) >= 6, statuses
        statuses = [r.status_code for r in views]
        # 10 a second, a burst of 20 (the general limit is 50 r/s, burst 100).
        assert statuses.count(404) >= 20 and statuses.count(429) >= 20, statuses
        refused = next(r for r in views if r.status_code == 429)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1"
        # Unlocking is limited apart from viewing; the general limit is untouched.
        dataset = httpx.get(f"{shares.base_url}/v1/datasets/x/stats", timeout=10)
        assert dataset.status_code != 429
        # The link's own page is served without the token landing in the access log.
        page = httpx.get(f"{shares.base_url}/s/{'B' * 43}", timeout=10)
        assert page.status_code == 200 and "<title>assetflow</title>" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
    finally:
        shares.stop()
    with access_log.open("rb") as log:
        log.seek(logged_before)
        logged = log.read().decode()
    assert "/v1/datasets/x/stats" in logged  # the log is on, and this test's lines are in it
    assert "A" * 43 not in logged and "B" * 43 not in logged
