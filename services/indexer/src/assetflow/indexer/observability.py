"""indexer-specific metrics."""

from prometheus_client import Counter, Gauge, Histogram

from assetflow.platform.metrics import LATENCY_BUCKETS

BULK_WRITE_SECONDS = Histogram(
    "assetflow_indexer_bulk_write_seconds",
    "Latency of one batch's writes (the transaction with its read, then thumbnail results)",
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
COMMANDS_APPLIED = Counter(
    "assetflow_indexer_tag_commands_total",
    "Tag commands whose batch was durably applied (changed, refused, or a duplicate)",
)
DUPLICATE_COMMANDS = Counter(
    "assetflow_indexer_duplicate_tag_commands_total",
    "Tag commands skipped because the image had already applied them (redelivery)",
)
DRIFT = Gauge(
    "assetflow_tag_count_drift",
    "Total |stored - recounted| over the counters of the dataset last sampled (should be 0)",
)
DRIFT_CHECKS = Counter("assetflow_tag_count_drift_checks_total", "Sampled counter checks run")
WRITE_CONFLICTS = Counter(
    "assetflow_indexer_write_conflicts_total",
    "Batch transactions retried because another writer committed the same documents first",
)
RECONCILE_MISSING = Counter(
    "assetflow_reconcile_missing_total",
    "Objects the periodic reconcile found in the bucket but not (or deleted) in the index",
)
RECONCILE_STALE = Counter(
    "assetflow_reconcile_stale_total",
    "Index entries the periodic reconcile found outdated (etag differs) or left behind (gone)",
)
QUOTA_USAGE = Gauge(
    "assetflow_dataset_quota_usage_ratio",
    "Live usage over quota per dataset with a quota, by kind (bytes, images); above 1: over",
    ["dataset", "kind"],
)
