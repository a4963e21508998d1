"""API request metrics, labelled by route template so ids do not explode cardinality."""

import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assetflow.common.metrics import LATENCY_BUCKETS

REQUEST_SECONDS = Histogram(
    "assetflow_api_request_seconds",
    "API request latency",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)


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
