"""The Grafana dashboards hold up against live data (Grafana itself cannot be installed here).

A real Prometheus with the project's scrape config and rules scrapes the test services every
second; a workload goes through the pipeline (uploads that end ready, rejected and failed, a
dead letter, a quota, reads, a tag change, a snapshot, a live stream); then every panel's
expression must parse, name only metrics some service exports (or a recording rule defines),
and return at least one series.
"""

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support import images
from tests.support.sse import EventStream
from tests.support.stack import (
    PORTS,
    ROOT,
    TOPICS,
    PrometheusProcess,
    ServiceProcess,
    produce,
    put_object,
    running,
    wait_for,
)

DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
PROMETHEUS_PORT = 19090


@pytest.fixture(scope="module")
def prometheus(services: dict[str, ServiceProcess]) -> Iterator[PrometheusProcess]:
    with running(PrometheusProcess(PROMETHEUS_PORT)) as proc:
        yield proc


def _panels() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.stem, panel)
        for path in DASHBOARDS
        for panel in json.loads(path.read_text())["panels"]
    ]


def _expressions() -> list[tuple[str, str]]:
    """(dashboard / panel, expression as Grafana would send it over the last minute)."""
    found = []
    for dashboard, panel in _panels():
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", "1m").replace("$instance", ".*")
            found.append((f"{dashboard} / {panel['title']}", expr))
    return found


def _metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit, lambda node: None)
    return names


def _exported() -> set[str]:
    """Every sample name the test services expose, plus recording rules and ``up``."""
    names = {"up"}
    for port in PORTS.values():
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        names |= {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        names |= {rule["record"] for rule in group["rules"] if "record" in rule}
    return names


def test_every_panel_has_a_unit_and_a_description() -> None:
    assert len(DASHBOARDS) >= 4
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        variables = {v["name"]: v["type"] for v in board["templating"]["list"]}
        assert variables == {"datasource": "datasource", "instance": "query"}, path.name
    for dashboard, panel in _panels():
        where = f"{dashboard} / {panel['title']}"
        assert panel["fieldConfig"]["defaults"]["unit"], where
        assert len(panel["description"]) > 20, where
        assert panel["targets"], where


def _workload(api: ServiceProcess, s3: Any, dataset_id: str) -> None:
    base = f"{api.base_url}/v1"
    with EventStream(f"{base}/datasets/{dataset_id}/events") as stream:
        put_object(s3, f"{dataset_id}/images/ok.jpg", images.jpeg(32, 32))
        put_object(s3, f"{dataset_id}/images/notes.jpg", b"not an image at all\n" * 4)
        put_object(s3, f"{dataset_id}/images/broken.png", images.png(32, 32)[:60])
        stream.collect(lambda seen: len([e for e in seen if e.event == "image.updated"]) >= 3)
    produce(TOPICS.minio_events, [(b"k", b"this is not an event")])  # -> the dead-letter topic
    quota = httpx.put(f"{base}/datasets/{dataset_id}/quota", json={"max_images": 100}, timeout=10)
    assert quota.status_code == 200, quota.text  # for the quota usage panel
    items = httpx.get(f"{base}/datasets/{dataset_id}/images", timeout=10).json()["items"]
    assert {i["status"] for i in items} == {"ready", "rejected", "failed"}, items
    ready = next(i for i in items if i["status"] == "ready")
    httpx.get(f"{base}/images/{ready['id']}/original", timeout=10)
    httpx.get(f"{base}/images/no-such-image", timeout=10)  # a 404 for the error panels
    command = httpx.patch(f"{base}/images/{ready['id']}/tags", json={"add": ["x"]}, timeout=10)
    snapshot = httpx.post(f"{base}/datasets/{dataset_id}/snapshots", json={}, timeout=10)
    snapshot_id = snapshot.json()["snapshot_id"]
    wait_for(
        "the tag change and the snapshot",
        lambda: (
            httpx.get(f"{base}/commands/{command.json()['command_id']}").json()["status"] == "done"
            and httpx.get(f"{base}/snapshots/{snapshot_id}").json()["status"] == "ready"
        ),
        timeout=60,
    )


@pytest.mark.e2e
def test_every_panel_expression_returns_series_from_live_data(
    prometheus: PrometheusProcess,
    services: dict[str, ServiceProcess],
    s3: Any,
    dataset_id: str,
) -> None:
    _workload(services["api"], s3, dataset_id)
    try:
        wait_for("every target scraped", lambda: not prometheus.query("up == 0"), timeout=30)
    except AssertionError:
        raise AssertionError(f"targets down: {prometheus.query('up == 0')}") from None
    unknown: dict[str, list[str]] = {}
    empty: dict[str, str] = {}
    # Counters that moved for the first time need two scrapes (on a busy box, more) before a
    # rate has a value: look again until every expression has series, up to a deadline.
    deadline = time.monotonic() + 60
    while True:
        exported = _exported()  # a gauge set on a timer (quota usage) may not exist yet
        unknown, empty = {}, {}
        for where, expr in _expressions():
            names = _metric_names(expr)  # raises ValueError on a parse error
            if missing := names - exported:
                unknown[where] = sorted(missing)
            elif not prometheus.query(expr):
                empty[where] = expr
        if not (unknown or empty) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert not unknown, f"metrics no service exports: {unknown}"
    assert not empty, f"expressions without series: {json.dumps(empty, indent=1)}"


@pytest.mark.e2e
def test_recording_rules_and_alerts_load_in_prometheus(prometheus: PrometheusProcess) -> None:
    rules = httpx.get(f"{prometheus.base_url}/api/v1/rules", timeout=10).json()["data"]
    loaded = {rule["name"] for group in rules["groups"] for rule in group["rules"]}
    alerts = yaml.safe_load((RULES.parent / "alerts.yml").read_text())["groups"][0]["rules"]
    assert {a["alert"] for a in alerts} <= loaded
    assert all(group["file"].startswith(str(RULES.parent)) for group in rules["groups"])
    health = {rule["name"]: rule["health"] for g in rules["groups"] for rule in g["rules"]}
    assert not {name for name, state in health.items() if state == "err"}, health


def test_dashboards_are_generated_from_code() -> None:
    import subprocess
    import sys

    script = ROOT / "deploy" / "grafana" / "dashboards.py"
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert re.search(r"per_second|quantiles", Path(script).read_text())
