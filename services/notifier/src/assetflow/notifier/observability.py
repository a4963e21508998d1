"""notifier-specific metrics."""

from prometheus_client import Counter, Gauge, Histogram

from assetflow.platform.metrics import LATENCY_BUCKETS

ENQUEUED = Counter(
    "assetflow_notifier_enqueued_total", "Deliveries queued (one per matching webhook and event)"
)
DELIVERIES = Counter(
    "assetflow_notifier_deliveries_total",
    "Deliveries finished: delivered, or failed (retries exhausted, or a refused answer)",
    ["outcome"],
)
ATTEMPTS = Counter(
    "assetflow_notifier_attempts_total",
    "Delivery attempts: success, retry (network error, 5xx, 429), refused (other answers, "
    "refused targets)",
    ["outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "assetflow_notifier_attempt_seconds",
    "One attempt, from connecting to the receiver's answer (or the error)",
    buckets=LATENCY_BUCKETS,
)
PENDING = Gauge("assetflow_notifier_pending_deliveries", "Deliveries queued and not yet finished")
OLDEST_PENDING = Gauge(
    "assetflow_notifier_oldest_pending_seconds", "Age of the oldest delivery not yet finished"
)
FAILING_WEBHOOKS = Gauge(
    "assetflow_notifier_failing_webhooks",
    "Webhooks whose next delivery has failed at least 3 attempts in a row",
)
