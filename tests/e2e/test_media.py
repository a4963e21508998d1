"""Downloads: a 307 to a presigned URL, or streamed by the API with ETag, 304 and Range."""

import hashlib
from typing import Any

import httpx
import pytest

from tests.e2e.test_pipeline import list_all
from tests.support.images import jpeg
from tests.support.stack import ServiceProcess, put_object, wait_for


@pytest.mark.e2e
def test_original_and_renditions_redirect_or_stream_with_ranges(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    body = jpeg(1600, 1200) + b"\0" * 500_000  # trailing bytes: a bigger file, still a JPEG
    put_object(s3, f"{dataset_id}/images/photo.jpg", body)

    def ready() -> dict[str, Any] | None:
        items = list_all(api, dataset_id, 10)
        return items[0] if items and items[0]["status"] == "ready" else None

    item = wait_for("the photo thumbnailed", ready, timeout=60)
    base = f"{api.base_url}/v1/images/{item['id']}"

    redirect = httpx.get(f"{base}/original", timeout=10)
    assert redirect.status_code == 307
    assert httpx.get(redirect.headers["location"], timeout=10).content == body

    whole = httpx.get(f"{base}/original", params={"proxy": 1}, timeout=10)
    assert whole.status_code == 200 and whole.content == body
    assert whole.headers["etag"].strip('"') == hashlib.md5(body).hexdigest()
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == len(body)

    cached = httpx.get(
        f"{base}/original", params={"proxy": 1}, headers={"If-None-Match": whole.headers["etag"]}
    )
    assert cached.status_code == 304 and cached.content == b""

    part = httpx.get(f"{base}/original", params={"proxy": 1}, headers={"Range": "bytes=100-1123"})
    assert part.status_code == 206 and part.content == body[100:1124]
    assert part.headers["content-range"] == f"bytes 100-1123/{len(body)}"
    tail = httpx.get(f"{base}/original", params={"proxy": 1}, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == body[-10:]

    outside = httpx.get(
        f"{base}/original", params={"proxy": 1}, headers={"Range": f"bytes={len(body) + 5}-"}
    )
    assert outside.status_code == 416
    assert outside.headers["content-type"].startswith("application/problem+json")

    for variant, kind in (("thumb", "image/webp"), ("preview", "image/jpeg")):
        streamed = httpx.get(f"{base}/{variant}", params={"proxy": 1}, timeout=10)
        assert streamed.status_code == 200 and streamed.headers["content-type"] == kind
        assert httpx.get(f"{base}/{variant}", timeout=10).status_code == 307

    assert httpx.get(f"{api.base_url}/v1/images/nope/original").status_code == 404
    assert httpx.get(f"{base}/other").status_code == 404  # no such route
