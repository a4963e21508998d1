"""indexer-specific metrics."""

from prometheus_client import Counter, Histogram

from assetflow.common.metrics import LATENCY_BUCKETS

BULK_WRITE_SECONDS = Histogram(
    "assetflow_indexer_bulk_write_seconds",
    "Latency of one batch's bulk_write (including the sequencer read)",
    buckets=LATENCY_BUCKETS,
)
STALE_EVENTS = Counter(
    "assetflow_indexer_stale_events_total", "Events ignored because a newer one was indexed"
)
EVENTS_APPLIED = Counter(
    "assetflow_indexer_events_applied_total",
    "Object events whose batch was durably applied (written or found stale)",
)
RESULTS_APPLIED = Counter(
    "assetflow_indexer_thumbnail_results_total",
    "Thumbnail results applied, or ignored because the object changed or was deleted",
    ["outcome"],
)
