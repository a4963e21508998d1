"""ingest-specific metrics."""

from prometheus_client import Counter

DROPPED_UPLOAD_TAGS = Counter(
    "assetflow_ingest_upload_tags_dropped_total",
    "Entries of x-amz-meta-tags that were not valid tags (or over the per-image limit)",
)
