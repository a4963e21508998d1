"""Prometheus metrics shared by the services, labelled by service so dashboards can join them."""

import importlib.metadata

from prometheus_client import Counter, Gauge, Histogram, make_asgi_app
from prometheus_client.registry import REGISTRY, CollectorRegistry

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000)

CONSUMED = Counter(
    "assetflow_messages_consumed_total", "Kafka messages consumed", ["service", "topic"]
)
PRODUCED = Counter(
    "assetflow_messages_produced_total", "Kafka messages produced", ["service", "topic"]
)
SKIPPED = Counter(
    "assetflow_messages_skipped_total", "Records valid but not indexed", ["service", "reason"]
)
DEAD_LETTERED = Counter(
    "assetflow_messages_dead_lettered_total",
    "Messages sent to the dead-letter topic, by the kind of reason (the text before its ':')",
    ["service", "reason"],
)
BATCH_SIZE = Histogram(
    "assetflow_batch_size", "Messages per consumed batch", ["service"], buckets=BATCH_BUCKETS
)
BATCH_RETRIES = Counter(
    "assetflow_batch_retries_total", "Batches redelivered after a transient failure", ["service"]
)


E2E_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
E2E_LATENCY = Histogram(
    "assetflow_e2e_latency_seconds",
    "From the start of a stage to its end: storage event -> indexed (indexed), upload -> "
    "thumbnail outcome (thumbnail), tag command accepted -> applied (tags), snapshot "
    "requested -> finished (snapshot)",
    ["stage", "outcome"],
    buckets=E2E_BUCKETS,
)
BUILD_INFO = Gauge(
    "assetflow_build_info", "Always 1: the service and its version", ["service", "version"]
)


def set_build_info(service: str) -> None:
    """Publish this process's service name and package version."""
    try:
        version = importlib.metadata.version(f"assetflow-{service}")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    BUILD_INFO.labels(service, version).set(1)


def metrics_asgi_app(registry: CollectorRegistry = REGISTRY) -> object:
    """ASGI app serving the registry in the Prometheus text format."""
    return make_asgi_app(registry=registry)


BATCH_SPLITS = Counter(
    "assetflow_batch_splits_total",
    "Batches split in halves to find the records a permanent error comes from",
    ["service"],
)
