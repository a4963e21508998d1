"""Outages of the database and of Kafka lose nothing and crash nothing."""

import signal
import threading
import uuid
from typing import Any

from devstack import components, processes
from tests.e2e.test_pipeline import put_all, stats, wait_count
from tests.support.stack import BUCKET, ServiceProcess, wait_for


def restart(component: processes.Component) -> None:
    """Start a stopped stack component again and wait until it is healthy."""
    processes.start(component)
    processes.wait_healthy(component)


def test_database_killed_mid_stream_loses_nothing(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    """kill -9 of the database while the indexer writes: every object is indexed once back."""
    api, indexer = services["api"], services["indexer"]
    applied = "assetflow_indexer_events_applied_total"
    retries_before = indexer.metric("assetflow_batch_retries_total")
    applied_before = indexer.metric(applied)
    objects = {f"{dataset_id}/images/db-crash/{i:03d}.jpg": b"x" * (i + 1) for i in range(600)}
    uploads = threading.Thread(target=put_all, args=(s3, objects))
    uploads.start()
    try:
        # Kill only once the indexer is writing, so acknowledged writes are at stake.
        wait_for(
            "the indexer to apply some events",
            lambda: indexer.metric(applied) > applied_before + 20,
        )
        processes.stop(components.DATABASE, sig=signal.SIGKILL)
        uploads.join()
        wait_for(
            "the indexer to notice the outage and back off",
            lambda: indexer.metric("assetflow_batch_retries_total") > retries_before,
        )
        assert indexer.proc is not None and indexer.proc.poll() is None, "indexer crashed"
    finally:
        uploads.join()
        restart(components.DATABASE)
    wait_count(api, dataset_id, len(objects), timeout=90)
    totals = stats(api, dataset_id)
    assert (totals["image_count"], totals["total_bytes"]) == (
        len(objects),
        sum(len(b) for b in objects.values()),
    )
    assert sum(totals["statuses"].values()) == len(objects)


def test_kafka_outage_events_wait_in_minio_queue(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api = services["api"]
    processes.stop(components.KAFKA)
    try:
        # MinIO persists notifications in its queue dir while the target is down.
        prefix = f"{dataset_id}/images/during-kafka-outage"
        keys = [f"{prefix}/{uuid.uuid4().hex}.jpg" for _ in range(15)]
        for key in keys:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"queued")
    finally:
        restart(components.KAFKA)
    wait_count(api, dataset_id, len(keys), timeout=90)
    for name in ("ingest", "indexer"):
        proc = services[name].proc
        assert proc is not None and proc.poll() is None, f"{name} crashed during the outage"
