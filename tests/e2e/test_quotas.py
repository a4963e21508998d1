"""Dataset quotas on the whole pipeline: an admin sets them, uploads past them are refused with
the quota and the usage before anything is signed, and objects written straight to storage past
them are indexed and reported by the indexer's gauge."""

from typing import Any

import httpx
import pytest

from tests.support.auth import bearer
from tests.support.stack import BUCKET, ServiceProcess, put_object, wait_for

QUOTA_EXCEEDED = "tag:assetflow,2026:problems/quota-exceeded"
RATIO = "assetflow_dataset_quota_usage_ratio"
MIB = 1024 * 1024


def _quota(api: ServiceProcess, dataset_id: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/quota", headers=headers, timeout=10)


def _set_quota(
    api: ServiceProcess, dataset_id: str, headers: dict[str, str], **limits: int | None
) -> httpx.Response:
    url = f"{api.base_url}/v1/datasets/{dataset_id}/quota"
    return httpx.put(url, json=limits, headers=headers, timeout=10)


def _start(
    api: ServiceProcess, dataset_id: str, headers: dict[str, str], path: str, size: int
) -> httpx.Response:
    body = {"path": path, "size": size, "content_type": "image/jpeg"}
    url = f"{api.base_url}/v1/datasets/{dataset_id}/uploads"
    return httpx.post(url, json=body, headers=headers, timeout=30)


def _usage(api: ServiceProcess, dataset_id: str, headers: dict[str, str]) -> dict[str, int]:
    answer = _quota(api, dataset_id, headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["usage"]  # type: ignore[no-any-return]


def _indexed(
    api: ServiceProcess, dataset_id: str, headers: dict[str, str], images: int, size: int
) -> None:
    """Wait until the exact counters show ``images`` live images of ``size`` bytes in all."""
    wait_for(
        f"{images} images, {size} bytes indexed in {dataset_id}",
        lambda: _usage(api, dataset_id, headers) == {"bytes": size, "images": images},
        timeout=60,
    )


def _upload(
    api: ServiceProcess, dataset_id: str, headers: dict[str, str], path: str, size: int
) -> None:
    started = _start(api, dataset_id, headers, path, size)
    assert started.status_code == 201, started.text
    plan = started.json()
    put = httpx.put(plan["url"], content=b"q" * size, headers=plan["headers"], timeout=30)
    assert put.status_code == 200, put.text


def _refused(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["type"] == QUOTA_EXCEEDED and problem["status"] == 409
    return problem


@pytest.mark.e2e
def test_only_an_admin_sets_a_quota_and_a_reader_sees_it_with_the_usage(
    secured_api: ServiceProcess, dataset_id: str
) -> None:
    admin = bearer("admin")
    writer = bearer(f"datasets:{dataset_id}:write")
    reader = bearer(f"datasets:{dataset_id}:read")
    for caller in (writer, reader, bearer("datasets:*:write")):
        refused = _set_quota(secured_api, dataset_id, caller, max_bytes=10)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert _quota(secured_api, dataset_id, reader).json() == {
        "dataset_id": dataset_id,
        "quota": {"max_bytes": None, "max_images": None},
        "usage": {"bytes": 0, "images": 0},
        "remaining": {"bytes": None, "images": None},
    }
    set_ = _set_quota(secured_api, dataset_id, admin, max_bytes=10 * MIB, max_images=None)
    assert set_.status_code == 200, set_.text
    assert set_.json()["quota"] == {"max_bytes": 10 * MIB, "max_images": None}
    shown = _quota(secured_api, dataset_id, reader).json()
    assert shown["remaining"] == {"bytes": 10 * MIB, "images": None}
    other = bearer("datasets:someone-else:read")
    assert _quota(secured_api, dataset_id, other).status_code == 403
    stats = httpx.get(
        f"{secured_api.base_url}/v1/datasets/{dataset_id}/stats", headers=reader, timeout=10
    )
    assert stats.json()["quota"] == {"max_bytes": 10 * MIB, "max_images": None}
    lifted = _set_quota(secured_api, dataset_id, admin, max_bytes=None, max_images=None)
    assert lifted.json()["quota"] == {"max_bytes": None, "max_images": None}


@pytest.mark.e2e
def test_uploads_past_the_quota_are_refused_with_the_quota_and_the_usage(
    secured_api: ServiceProcess, s3: Any, dataset_id: str
) -> None:
    admin = bearer("admin")
    writer = bearer(f"datasets:{dataset_id}:write")
    put_object(s3, f"{dataset_id}/images/seed.jpg", b"s" * 1000)
    _indexed(secured_api, dataset_id, writer, images=1, size=1000)
    quota = {"max_bytes": 2000, "max_images": 2}
    assert _set_quota(secured_api, dataset_id, admin, **quota).status_code == 200

    _upload(secured_api, dataset_id, writer, "within.jpg", 600)  # 1,600 bytes, 2 images
    _indexed(secured_api, dataset_id, writer, images=2, size=1600)
    assert _quota(secured_api, dataset_id, writer).json()["remaining"] == {
        "bytes": 400,
        "images": 0,
    }

    # Past the images: a new path, however small.
    problem = _refused(_start(secured_api, dataset_id, writer, "third.jpg", 1))
    assert problem["exceeded"] == ["images"]
    assert problem["quota"] == quota
    assert problem["usage"] == {"bytes": 1600, "images": 2}
    # Past the bytes: an overwrite adds no image, only its size difference (600 -> 1,001).
    problem = _refused(_start(secured_api, dataset_id, writer, "within.jpg", 1001))
    assert problem["exceeded"] == ["bytes"] and problem["usage"] == {"bytes": 1600, "images": 2}
    assert "bytes" in problem["detail"]
    # The same overwrite within the difference that remains is signed.
    assert _start(secured_api, dataset_id, writer, "within.jpg", 1000).status_code == 201
    # A multipart upload (from 5 MiB on this API) past the quota: refused before storage
    # creates anything.
    problem = _refused(_start(secured_api, dataset_id, writer, "big.jpg", 6 * MIB))
    assert problem["exceeded"] == ["bytes", "images"]
    listed = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{dataset_id}/")
    assert not listed.get("Uploads")

    # Raising the quota lets the same upload through.
    raised = _set_quota(secured_api, dataset_id, admin, max_bytes=None, max_images=3)
    assert raised.json()["remaining"] == {"bytes": None, "images": 1}
    _upload(secured_api, dataset_id, writer, "third.jpg", 1)
    _indexed(secured_api, dataset_id, writer, images=3, size=1601)


def _reported(indexer: ServiceProcess, dataset_id: str) -> dict[str, float]:
    """The indexer's usage-over-quota series of one dataset, by kind."""
    text = httpx.get(f"{indexer.base_url}/metrics", params={"name[]": RATIO}, timeout=5).text
    found = {}
    for line in text.splitlines():
        if line.startswith(RATIO + "{") and f'dataset="{dataset_id}"' in line:
            kind = line.split('kind="', 1)[1].split('"', 1)[0]
            found[kind] = float(line.rsplit(" ", 1)[1])
    return found


@pytest.mark.e2e
def test_objects_written_straight_to_storage_past_the_quota_are_indexed_and_reported(
    services: dict[str, ServiceProcess], secured_api: ServiceProcess, s3: Any, dataset_id: str
) -> None:
    admin = bearer("admin")
    indexer = services["indexer"]
    quota = {"max_bytes": 1000, "max_images": 1}
    assert _set_quota(secured_api, dataset_id, admin, **quota).status_code == 200
    wait_for(
        "the quota reported",
        lambda: _reported(indexer, dataset_id) == {"bytes": 0.0, "images": 0.0},
        timeout=30,
    )
    # Storage takes anything a client with keys writes; the API never saw these.
    put_object(s3, f"{dataset_id}/images/a.jpg", b"a" * 700)
    put_object(s3, f"{dataset_id}/images/b.jpg", b"b" * 800)
    _indexed(secured_api, dataset_id, admin, images=2, size=1500)
    assert wait_for(
        "the dataset reported over its quota",
        lambda: _reported(indexer, dataset_id) == {"bytes": 1.5, "images": 2.0},
        timeout=30,
    )
    # Raising one limit brings it under; lifting the quota removes the series.
    _set_quota(secured_api, dataset_id, admin, max_bytes=3000, max_images=None)
    wait_for(
        "the raised quota reported",
        lambda: _reported(indexer, dataset_id) == {"bytes": 0.5},
        timeout=30,
    )
    _set_quota(secured_api, dataset_id, admin, max_bytes=None, max_images=None)
    wait_for("the series removed", lambda: not _reported(indexer, dataset_id), timeout=30)
