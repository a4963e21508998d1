"""MongoDB clients with bounded timeouts and command timings; built in a service's
composition root, never at import time."""

from typing import Any

from prometheus_client import Counter, Histogram
from pymongo import AsyncMongoClient, MongoClient, monitoring

from assetflow.platform.metrics import LATENCY_BUCKETS
from assetflow.platform.settings import MongoSettings

DB_SECONDS = Histogram(
    "assetflow_db_command_seconds",
    "Database command round trips (PyMongo command monitoring), by command",
    ["command"],
    buckets=LATENCY_BUCKETS,
)
DB_FAILURES = Counter(
    "assetflow_db_command_failures_total", "Database commands that failed", ["command"]
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


def make_mongo_client(settings: MongoSettings) -> AsyncMongoClient[dict[str, Any]]:
    """PyMongo's native async client with bounded timeouts."""
    return AsyncMongoClient(settings.url, **_options(settings))


def make_sync_mongo_client(settings: MongoSettings) -> MongoClient[dict[str, Any]]:
    """PyMongo's blocking client, configured like ``make_mongo_client``: for work that runs in
    a worker thread (the snapshotter's jobs write zip files synchronously)."""
    return MongoClient(settings.url, **_options(settings))


def _options(settings: MongoSettings) -> dict[str, Any]:
    return {
        "serverSelectionTimeoutMS": settings.timeout_ms,
        "connectTimeoutMS": settings.timeout_ms,
        "tz_aware": True,
        "uuidRepresentation": "standard",
        "event_listeners": [CommandMetrics()],
    }
