"""Backfill from a bucket that never notified: missing, changed and gone objects reconciled."""

import hashlib
import subprocess
import sys
from typing import Any

import httpx
import pytest

from assetflow.contracts.layout import message_key
from assetflow.indexer.backfill import created_event
from tests.e2e.test_pipeline import list_all
from tests.support.stack import (
    BUCKET,
    ROOT,
    TOPICS,
    ServiceProcess,
    produce,
    put_object,
    service_env,
    wait_for,
)

UNNOTIFIED = "assetflow-test-unnotified"


def run_backfill(*args: str) -> str:
    """The console entry point, as an operator runs it, against the test lane."""
    command = [sys.executable, "-m", "assetflow.indexer.cli", "backfill", "--bucket", UNNOTIFIED]
    done = subprocess.run(
        [*command, *args], env=service_env(), cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return " ".join(done.stdout.split())


def stats(api: ServiceProcess, dataset_id: str) -> dict[str, Any]:
    return dict(httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/stats", timeout=10).json())


@pytest.mark.e2e
def test_backfill_reconciles_a_bucket_that_never_notified(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    if UNNOTIFIED not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=UNNOTIFIED)
    keys = [f"{dataset_id}/images/f{i % 3}/{i:02d}.jpg" for i in range(30)]
    for i, key in enumerate(keys):
        # Three objects carry upload-time tags, which a listing does not show.
        metadata = {"tags": "Cat,d%C3%B6g"} if 10 <= i < 13 else {}
        s3.put_object(Bucket=UNNOTIFIED, Key=key, Body=f"object {i}".encode(), Metadata=metadata)
    s3.put_object(Bucket=UNNOTIFIED, Key=f"{dataset_id}/readme.txt", Body=b"not an image path")

    dry = run_backfill("--prefix", f"{dataset_id}/", "--dry-run")
    assert "30 missing from the index" in dry and "would publish 30" in dry, dry
    assert stats(api, dataset_id)["image_count"] == 0

    first = run_backfill("--prefix", f"{dataset_id}/")
    assert "listed 31 objects: 30 missing" in first and "1 outside the layout" in first, first
    # Thumbnails follow from the same events: every body is refused as "not an image".
    wait_for(
        "the backfilled objects listable and thumbnailed",
        lambda: stats(api, dataset_id)["statuses"]["rejected"] == 30,
        timeout=60,
    )
    served = httpx.get(f"{api.base_url}/v1/datasets/{dataset_id}/tags", timeout=10).json()
    assert {row["tag"]: row["count"] for row in served["tags"]} == {"cat": 3, "dög": 3}
    assert served["untagged"] == 27

    for key in keys[:5]:
        s3.put_object(Bucket=UNNOTIFIED, Key=key, Body=b"a new version, longer than before")
    for key in keys[5:10]:
        s3.delete_object(Bucket=UNNOTIFIED, Key=key)
    added = [f"{dataset_id}/images/new/{i}.jpg" for i in range(5)]
    for key in added:
        s3.put_object(Bucket=UNNOTIFIED, Key=key, Body=b"new")

    second = run_backfill("--prefix", f"{dataset_id}/")
    assert "5 missing from the index, 5 changed, 5 gone" in second, second
    expected = {key: b"a new version, longer than before" for key in keys[:5]}
    expected |= {key: f"object {i}".encode() for i, key in enumerate(keys) if i >= 10}
    expected |= {key: b"new" for key in added}

    def reconciled() -> bool:
        body = httpx.get(
            f"{api.base_url}/v1/datasets/{dataset_id}/images", params={"limit": 100}, timeout=10
        ).json()
        etags = {item["key"]: item["etag"] for item in body["items"]}
        return etags == {key: hashlib.md5(b).hexdigest() for key, b in expected.items()}

    wait_for("the index to equal the bucket", reconciled, timeout=60)
    third = run_backfill("--prefix", f"{dataset_id}/")
    assert "0 missing from the index, 0 changed, 0 gone" in third and "published 0" in third, third


@pytest.mark.e2e
def test_periodic_reconcile_indexes_what_was_never_notified(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    if UNNOTIFIED not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=UNNOTIFIED)
    for i in range(3):
        s3.put_object(Bucket=UNNOTIFIED, Key=f"{dataset_id}/images/{i}.jpg", Body=b"x")
    sweeper = ServiceProcess("indexer", port_offset=60)
    sweeper.env |= {"S3_BUCKET": UNNOTIFIED, "INDEXER_SWEEP_INTERVAL_S": "2"}
    sweeper.start()
    try:
        wait_for(
            "the sweep to index the objects",
            lambda: stats(api, dataset_id)["image_count"] == 3,
            timeout=60,
        )
        assert sweeper.metric("assetflow_reconcile_missing_total") >= 3
    finally:
        sweeper.stop()


@pytest.mark.e2e
def test_a_delete_during_backfill_is_not_resurrected(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    """The listing saw the object; it was deleted before backfill's event was applied."""
    api = services["api"]
    key = f"{dataset_id}/images/doomed.jpg"
    put_object(s3, key, b"soon deleted")
    wait_for("the upload indexed", lambda: stats(api, dataset_id)["image_count"] == 1, timeout=60)
    # What backfill would publish for the page it listed while the object still existed.
    (listed,) = s3.list_objects_v2(Bucket=BUCKET, Prefix=key)["Contents"]
    late = created_event(BUCKET, listed)
    assert late is not None
    s3.delete_object(Bucket=BUCKET, Key=key)  # a real delete, with MinIO's own sequencer
    wait_for("the delete indexed", lambda: stats(api, dataset_id)["image_count"] == 0, timeout=60)
    produce(TOPICS.asset_objects, [(message_key(BUCKET, key), late.model_dump_json().encode())])
    marker = f"{dataset_id}/images/after.jpg"
    put_object(s3, marker, b"indexed after the late event")
    # The late event went straight to assets.objects; the marker through MinIO's queue and
    # ingest, so by the time the marker is listed the late event has long been applied.
    wait_for(
        "a later upload indexed",
        lambda: marker in [item["key"] for item in list_all(api, dataset_id, 10)],
        timeout=60,
    )
    keys = [item["key"] for item in list_all(api, dataset_id, 10)]
    assert keys == [marker], keys
    assert stats(api, dataset_id)["image_count"] == 1
