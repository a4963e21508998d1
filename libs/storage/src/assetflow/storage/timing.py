"""Timings of object storage requests, by operation and outcome."""

import time
from typing import Any

from prometheus_client import Histogram

from assetflow.platform.metrics import LATENCY_BUCKETS

STORAGE_SECONDS = Histogram(
    "assetflow_storage_request_seconds",
    "Object storage requests (botocore), by operation and outcome (HTTP status class or error)",
    ["operation", "outcome"],
    buckets=LATENCY_BUCKETS,
)


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
