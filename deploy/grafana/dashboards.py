"""Grafana dashboards as code: writes deploy/grafana/dashboards/*.json (``--check``: fail if stale).

Plain dictionaries in Grafana's dashboard JSON model (schema 39): four dashboards, every panel
with a unit and a description, a datasource variable and an instance variable on each.
``make lint`` runs ``--check``; tests/e2e/test_dashboards.py runs every expression against a
live Prometheus after a workload.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
INSTANCE = 'instance=~"$instance"'


def _target(expr: str, legend: str, ref: str) -> dict[str, Any]:
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}


def panel(
    title: str,
    description: str,
    unit: str,
    targets: list[tuple[str, str]],
    *,
    width: int = 12,
    kind: str = "timeseries",
) -> dict[str, Any]:
    """One panel; ``targets`` are (PromQL, legend) pairs."""
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"w": width, "h": 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            _target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(targets)
        ],
    }


def per_second(metric: str, by: str, where: str = "") -> str:
    """Per-second rate of a counter on the selected instances, summed ``by`` labels."""
    selector = ",".join(filter(None, (INSTANCE, where)))
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{{{selector}}}[{RATE}]))"


def quantiles(metric: str, by: str, where: str = INSTANCE) -> list[tuple[str, str]]:
    """p50, p95 and p99 of a histogram, per ``by``."""
    return [
        (
            f"histogram_quantile({q}, sum by ({by}, le) "
            f"(rate({metric}_bucket{{{where}}}[{RATE}])))",
            f"p{int(q * 100)} {{{{{by}}}}}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


def dashboard(
    uid: str, title: str, description: str, panels: list[dict[str, Any]]
) -> dict[str, Any]:
    """A dashboard with the datasource and instance variables, panels laid out two by row."""
    x = y = 0
    for n, item in enumerate(panels):
        item["id"] = n + 1
        width = item["gridPos"]["w"]
        if x + width > 24:
            x, y = 0, y + 8
        item["gridPos"] |= {"x": x, "y": y}
        x += width
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["assetflow"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "30s",
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {"text": "Prometheus", "value": "prometheus"},
                },
                {
                    "name": "instance",
                    "label": "Instance",
                    "type": "query",
                    "datasource": DS,
                    "query": {"query": "label_values(up, instance)", "refId": "instance"},
                    "definition": "label_values(up, instance)",
                    "includeAll": True,
                    "multi": True,
                    "allValue": ".*",
                    "current": {"text": "All", "value": "$__all"},
                    "refresh": 2,
                },
            ]
        },
        "panels": panels,
    }


def pipeline() -> dict[str, Any]:
    """Kafka in and out, lag, dead letters, end-to-end latency, batches, bulk writes."""
    return dashboard(
        "assetflow-pipeline",
        "assetflow / Pipeline",
        "From storage events to the index: throughput, lag, failures and latency.",
        [
            panel(
                "Messages consumed",
                "Kafka messages each service consumed, per second, by topic.",
                "ops",
                [
                    (
                        per_second("assetflow_messages_consumed_total", "service, topic"),
                        "{{service}} ← {{topic}}",
                    )
                ],
            ),
            panel(
                "Messages produced",
                "Kafka messages each service produced, per second, by topic.",
                "ops",
                [
                    (
                        per_second("assetflow_messages_produced_total", "service, topic"),
                        "{{service}} → {{topic}}",
                    )
                ],
            ),
            panel(
                "Consumer lag (messages)",
                "Messages after each group's committed offset, per partition (the max of what "
                "every consuming service reports, so a stopped consumer still shows).",
                "short",
                [("assetflow:consumer_lag_messages:max", "{{group}} {{topic}}/{{partition}}")],
            ),
            panel(
                "Consumer lag (seconds)",
                "Age of the oldest message each group has not committed, per partition.",
                "s",
                [("assetflow:consumer_lag_seconds:max", "{{group}} {{topic}}/{{partition}}")],
            ),
            panel(
                "Dead letters by reason",
                "Messages sent to assets.dlq per second, by service and kind of reason "
                "(the full reason is in the message's x-dlq-reason header).",
                "ops",
                [
                    (
                        per_second("assetflow_messages_dead_lettered_total", "service, reason"),
                        "{{service}}: {{reason}}",
                    )
                ],
            ),
            panel(
                "End-to-end latency",
                "From a stage's start to its end: storage event → indexed, upload → thumbnail "
                "outcome, tag command → applied, snapshot requested → finished.",
                "s",
                quantiles("assetflow_e2e_latency_seconds", "stage"),
            ),
            panel(
                "Batch size",
                "Messages per consumed batch, median and p95, by service.",
                "short",
                quantiles("assetflow_batch_size", "service")[:2],
            ),
            panel(
                "Indexer bulk write",
                "One batch's transaction (read, plan, bulk writes, commit), p50/p95/p99.",
                "s",
                [
                    (
                        f"histogram_quantile({q}, "
                        f"{per_second('assetflow_indexer_bulk_write_seconds_bucket', 'le')})",
                        f"p{int(q * 100)}",
                    )
                    for q in (0.5, 0.95, 0.99)
                ],
            ),
            panel(
                "Batches retried",
                "Batches redelivered after a transient failure (a dependency down), per second.",
                "ops",
                [
                    (
                        per_second("assetflow_batch_retries_total", "service"),
                        "{{service}}",
                    )
                ],
            ),
            panel(
                "Tag commands applied",
                "Per-image tag commands the indexer applied per second, and duplicates "
                "(a redelivered command, applied once).",
                "ops",
                [
                    (per_second("assetflow_indexer_tag_commands_total", ""), "applied"),
                    (per_second("assetflow_indexer_duplicate_tag_commands_total", ""), "duplicate"),
                ],
            ),
            panel(
                "Tag counter drift",
                "|stored - recounted| over the counters of the dataset the indexer last sampled; "
                "anything but 0 is a bug (alert TagCountDrift).",
                "short",
                [(f"max(assetflow_tag_count_drift{{{INSTANCE}}})", "drift")],
            ),
            panel(
                "Dataset quota usage",
                "Live usage over quota of the ten fullest (dataset, kind) pairs, for datasets "
                "with a quota; above 100 % is over (alert DatasetOverQuota).",
                "percentunit",
                [
                    (
                        "topk(10, max by (dataset, kind) "
                        f"(assetflow_dataset_quota_usage_ratio{{{INSTANCE}}}))",
                        "{{dataset}} {{kind}}",
                    )
                ],
            ),
            panel(
                "Snapshot builds",
                "Snapshot requests finished in the last 5 minutes, by outcome "
                "(ready, unchanged, failed).",
                "short",
                [
                    (
                        f"sum by (outcome) (increase(assetflow_e2e_latency_seconds_count"
                        f'{{{INSTANCE},stage="snapshot"}}[5m]))',
                        "{{outcome}}",
                    )
                ],
            ),
            panel(
                "Webhook deliveries",
                "Webhook deliveries finished in the last 5 minutes, by outcome (delivered, "
                "failed: retries exhausted or refused; alert WebhookDeliveriesDropped).",
                "short",
                [
                    (
                        "sum by (outcome) (increase(assetflow_notifier_deliveries_total"
                        f"{{{INSTANCE}}}[5m]))",
                        "{{outcome}}",
                    )
                ],
            ),
            panel(
                "Webhook queue",
                "Deliveries queued and not yet finished, the age of the oldest, and webhooks "
                "failing their next delivery 3+ times in a row (alert WebhookFailing).",
                "short",
                [
                    (f"max(assetflow_notifier_pending_deliveries{{{INSTANCE}}})", "pending"),
                    (
                        f"max(assetflow_notifier_oldest_pending_seconds{{{INSTANCE}}})",
                        "oldest pending (s)",
                    ),
                    (f"max(assetflow_notifier_failing_webhooks{{{INSTANCE}}})", "failing webhooks"),
                ],
            ),
            panel(
                "Services up",
                "1 when Prometheus could scrape the target, by job and instance.",
                "bool",
                [(f"up{{{INSTANCE}}}", "{{job}} {{instance}}")],
            ),
        ],
    )


def api() -> dict[str, Any]:
    """Request rate, errors, latency per route, presigned URLs, live subscribers."""
    routes = 'route!~"/metrics|/healthz|/readyz"'
    return dashboard(
        "assetflow-api",
        "assetflow / API",
        "The HTTP API: requests, errors, latency per route, presigned URLs and live streams.",
        [
            panel(
                "Requests by route",
                "Requests answered per second, by route template.",
                "reqps",
                [
                    (
                        per_second("assetflow_api_request_seconds_count", "route", routes),
                        "{{route}}",
                    )
                ],
            ),
            panel(
                "Errors by route and status",
                "4xx and 5xx answers per second, by route and status.",
                "reqps",
                [
                    (
                        per_second(
                            "assetflow_api_request_seconds_count",
                            "route, status",
                            'status=~"[45].."',
                        ),
                        "{{status}} {{route}}",
                    )
                ],
            ),
            panel(
                "Latency p95 by route",
                "95th percentile of the time to answer, by route (live event streams last "
                "as long as the client listens).",
                "s",
                quantiles("assetflow_api_request_seconds", "route", f"{INSTANCE},{routes}")[1:2],
                width=24,
            ),
            panel(
                "Latency p50 / p99 by route",
                "Median and 99th percentile of the time to answer, by route.",
                "s",
                quantiles("assetflow_api_request_seconds", "route", f"{INSTANCE},{routes}")[::2],
                width=24,
            ),
            panel(
                "5xx ratio",
                "Share of requests answered with a 5xx over 5 minutes (alert above 1 %).",
                "percentunit",
                [("assetflow:api_5xx_ratio:rate5m", "5xx ratio")],
            ),
            panel(
                "Presigned URLs",
                "Presigned URLs handed out per second, by kind.",
                "ops",
                [
                    (
                        per_second("assetflow_api_presigned_urls_total", "kind"),
                        "{{kind}}",
                    )
                ],
            ),
            panel(
                "Live subscribers",
                "Open live event streams (SSE), per API instance.",
                "short",
                [
                    (
                        f"sum by (instance) (assetflow_api_live_subscribers{{{INSTANCE}}})",
                        "{{instance}}",
                    )
                ],
            ),
            panel(
                "Live events sent",
                "Live events queued to subscribers per second, by event.",
                "ops",
                [
                    (
                        per_second("assetflow_api_live_events_total", "event"),
                        "{{event}}",
                    )
                ],
            ),
        ],
    )


def thumbnailer() -> dict[str, Any]:
    """Images by outcome, stage durations, in flight, bytes read."""
    return dashboard(
        "assetflow-thumbnailer",
        "assetflow / Thumbnailer",
        "Thumbnails, previews and placeholders: outcomes, stage durations, work in flight.",
        [
            panel(
                "Images by outcome",
                "Object events handled per second: ready, rejected (not an image or over the "
                "limits), failed, superseded, removed, dead-lettered.",
                "ops",
                [
                    (
                        per_second("assetflow_thumbnailer_images_total", "outcome"),
                        "{{outcome}}",
                    )
                ],
            ),
            panel(
                "Stage duration p95",
                "95th percentile per image and stage (fetch, render, store, total).",
                "s",
                quantiles("assetflow_thumbnailer_duration_seconds", "stage")[1:2],
            ),
            panel(
                "Stage duration p50",
                "Median per image and stage.",
                "s",
                quantiles("assetflow_thumbnailer_duration_seconds", "stage")[:1],
            ),
            panel(
                "In flight",
                "Images being processed at this moment, per instance.",
                "short",
                [
                    (
                        f"sum by (instance) (assetflow_thumbnailer_in_flight{{{INSTANCE}}})",
                        "{{instance}}",
                    )
                ],
            ),
            panel(
                "Bytes read",
                "Original bytes downloaded from storage per second.",
                "Bps",
                [
                    (
                        f"sum(rate(assetflow_thumbnailer_bytes_read_total{{{INSTANCE}}}[{RATE}]))",
                        "read",
                    )
                ],
            ),
            panel(
                "Upload to thumbnail",
                "From the upload to its thumbnail outcome being in the index, p50/p95/p99.",
                "s",
                quantiles(
                    "assetflow_e2e_latency_seconds", "outcome", f'{INSTANCE},stage="thumbnail"'
                ),
            ),
        ],
    )


def storage_database() -> dict[str, Any]:
    """Database command and storage request latency and errors."""
    return dashboard(
        "assetflow-storage-database",
        "assetflow / Storage & database",
        "Round trips to the database (PyMongo command monitoring) and object storage (botocore).",
        [
            panel(
                "Database command p95",
                "95th percentile round trip by command, all services.",
                "s",
                quantiles("assetflow_db_command_seconds", "command")[1:2],
            ),
            panel(
                "Database commands",
                "Commands per second, by command.",
                "ops",
                [
                    (
                        per_second("assetflow_db_command_seconds_count", "command"),
                        "{{command}}",
                    )
                ],
            ),
            panel(
                "Database command failures",
                "Commands that failed per second (e.g. write conflicts, timeouts), by command.",
                "ops",
                [
                    (
                        per_second("assetflow_db_command_failures_total", "command"),
                        "{{command}}",
                    )
                ],
            ),
            panel(
                "Storage request p95",
                "95th percentile by S3 operation, all services.",
                "s",
                quantiles("assetflow_storage_request_seconds", "operation")[1:2],
            ),
            panel(
                "Storage requests by outcome",
                "S3 requests per second by operation and outcome (2xx, 3xx, 4xx, 5xx, error).",
                "ops",
                [
                    (
                        per_second("assetflow_storage_request_seconds_count", "operation, outcome"),
                        "{{operation}} {{outcome}}",
                    )
                ],
            ),
            panel(
                "Builds",
                "The version each service runs (assetflow_build_info).",
                "short",
                [("max by (service, version) (assetflow_build_info)", "{{service}} {{version}}")],
                kind="table",
            ),
        ],
    )


DASHBOARDS = {
    "pipeline": pipeline,
    "api": api,
    "thumbnailer": thumbnailer,
    "storage-database": storage_database,
}


def rendered() -> dict[Path, str]:
    """Each dashboard file's path and JSON text."""
    return {
        OUT / f"{name}.json": json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
        for name, build in DASHBOARDS.items()
    }


def main() -> int:
    """Write the JSON files, or with --check report the stale ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is not up to date")
    args = parser.parse_args()
    stale = [
        path for path, text in rendered().items() if not path.exists() or path.read_text() != text
    ]
    if args.check:
        for path in stale:
            print(f"{path} is stale: run python deploy/grafana/dashboards.py", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path, text in rendered().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
