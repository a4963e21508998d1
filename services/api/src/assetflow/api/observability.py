"""API request metrics, labelled by route template so ids do not explode cardinality."""

import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assetflow.platform.metrics import LATENCY_BUCKETS

REQUEST_SECONDS = Histogram(
    "assetflow_api_request_seconds",
    "API request latency",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)


PRESIGNED = Counter(
    "assetflow_api_presigned_urls_total",
    "Presigned URLs handed out, by kind (original, rendition, snapshot, upload)",
    ["kind"],
)


def count_item_urls(items: list[dict[str, Any]]) -> None:
    """Count the URLs a page (or one item) of listing items carries."""
    renditions = sum(
        (item["thumb_url"] is not None) + (item["preview_url"] is not None) for item in items
    )
    PRESIGNED.labels("original").inc(len(items))
    PRESIGNED.labels("rendition").inc(renditions)


class RequestMetricsMiddleware:
    """Pure ASGI middleware timing every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and record it under its route template."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUEST_SECONDS.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - start
            )
