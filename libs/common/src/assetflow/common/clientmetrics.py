"""Timings and errors of database commands and storage requests, by operation."""

import time
from typing import Any

from prometheus_client import Counter, Histogram
from pymongo import monitoring

from assetflow.common.metrics import LATENCY_BUCKETS

DB_SECONDS = Histogram(
    "assetflow_db_command_seconds",
    "Database command round trips (PyMongo command monitoring), by command",
    ["command"],
    buckets=LATENCY_BUCKETS,
)
DB_FAILURES = Counter(
    "assetflow_db_command_failures_total", "Database commands that failed", ["command"]
)
STORAGE_SECONDS = Histogram(
    "assetflow_storage_request_seconds",
    "Object storage requests (botocore), by operation and outcome (HTTP status class or error)",
    ["operation", "outcome"],
    buckets=LATENCY_BUCKETS,
)
# The commands assetflow sends, at zero from the start (a failure panel shows 0, not nothing).
for _command in ("find", "insert", "update", "delete", "aggregate", "getMore", "commitTransaction"):
    DB_FAILURES.labels(_command)
# Commands a driver sends on its own (handshakes, heartbeats) are not the application's work.
_UNTIMED = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart"})


class CommandMetrics(monitoring.CommandListener):
    """Times every command PyMongo sends (both the async and the sync client)."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Nothing to do: the succeeded/failed events carry the duration."""

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Record the round trip."""
        if event.command_name not in _UNTIMED:
            DB_SECONDS.labels(event.command_name).observe(event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Record the round trip and the failure."""
        if event.command_name not in _UNTIMED:
            DB_SECONDS.labels(event.command_name).observe(event.duration_micros / 1e6)
            DB_FAILURES.labels(event.command_name).inc()


def _started(context: dict[str, Any], **_: Any) -> None:
    context["assetflow_started"] = time.perf_counter()


def _finished(http_response: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
    if (started := context.get("assetflow_started")) is not None:
        outcome = f"{http_response.status_code // 100}xx"
        STORAGE_SECONDS.labels(model.name, outcome).observe(time.perf_counter() - started)


def _failed(context: dict[str, Any], event_name: str, **_: Any) -> None:
    # This event names no model: the operation is the last part of its name.
    if (started := context.get("assetflow_started")) is not None:
        operation = event_name.rsplit(".", 1)[-1]
        STORAGE_SECONDS.labels(operation, "error").observe(time.perf_counter() - started)


def instrument_storage(events: Any) -> None:
    """Register the timing hooks on a boto3/aioboto3 session's (or client's) event system."""
    events.register("before-call.s3", _started)
    events.register("after-call.s3", _finished)
    events.register("after-call-error.s3", _failed)
