"""Outages of the database and of Kafka lose nothing and crash nothing."""

import uuid
from typing import Any

from devstack import components, processes
from tests.e2e.test_pipeline import put_all, stats, wait_count
from tests.support.stack import BUCKET, ServiceProcess, wait_for


def restart(component: processes.Component) -> None:
    """Start a stopped stack component again and wait until it is healthy."""
    processes.start(component)
    processes.wait_healthy(component)


def test_database_outage_is_retried_without_loss(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    api, indexer = services["api"], services["indexer"]
    retries_before = indexer.metric("assetflow_batch_retries_total")
    processes.stop(components.FERRETDB)
    try:
        objects = {f"{dataset_id}/images/during-db-outage/{i}.jpg": b"x" * i for i in range(40)}
        put_all(s3, objects)
        wait_for(
            "the indexer to notice the outage and back off",
            lambda: indexer.metric("assetflow_batch_retries_total") > retries_before,
        )
        assert indexer.proc is not None and indexer.proc.poll() is None, "indexer crashed"
    finally:
        restart(components.FERRETDB)
    wait_count(api, dataset_id, len(objects), timeout=60)
    assert stats(api, dataset_id)["total_bytes"] == sum(len(b) for b in objects.values())


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
