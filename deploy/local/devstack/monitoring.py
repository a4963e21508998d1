"""Prometheus from Debian's apt package, run with our config and data under ``.local/``."""

from pathlib import Path

import yaml

from devstack import config

PACKAGES = ("prometheus",)
ROOT = config.LOCAL / "prometheus"
PROMETHEUS_BIN = ROOT / "usr" / "bin" / "prometheus"
PROMTOOL_BIN = ROOT / "usr" / "bin" / "promtool"
RULES = config.ROOT / "deploy" / "prometheus"
SCRAPE_CONFIG = RULES / "prometheus.yml"
RULE_FILES = ("rules.yml", "alerts.yml")
LOCAL_TARGETS = {
    "prometheus:9090": f"127.0.0.1:{config.PROMETHEUS_PORT}",
    "api:8000": f"127.0.0.1:{config.API_PORT}",
    "ingest:8001": f"127.0.0.1:{config.INGEST_PORT}",
    "indexer:8002": f"127.0.0.1:{config.INDEXER_PORT}",
    "thumbnailer:8003": f"127.0.0.1:{config.THUMBNAILER_PORT}",
    "snapshotter:8004": f"127.0.0.1:{config.SNAPSHOTTER_PORT}",
    "notifier:8005": f"127.0.0.1:{config.NOTIFIER_PORT}",
    "minio:9000": f"127.0.0.1:{config.MINIO_PORT}",
}


def render(prefix: Path, targets: dict[str, str], interval: str = "15s") -> Path:
    """Compose's scrape config with local targets and rule paths, written under ``prefix``."""
    doc = yaml.safe_load(SCRAPE_CONFIG.read_text())
    doc["global"] |= {"scrape_interval": interval, "evaluation_interval": interval}
    doc["rule_files"] = [str(RULES / name) for name in RULE_FILES]
    for job in doc["scrape_configs"]:
        for group in job["static_configs"]:
            group["targets"] = [targets[target] for target in group["targets"]]
    prefix.mkdir(parents=True, exist_ok=True)
    path = prefix / "prometheus.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def argv(conf: Path, listen: str) -> list[str]:
    """Prometheus in the foreground with ``conf``; its data next to the config."""
    return [
        str(PROMETHEUS_BIN),
        f"--config.file={conf}",
        f"--storage.tsdb.path={conf.parent / 'data'}",
        "--storage.tsdb.retention.time=7d",
        f"--web.listen-address={listen}",
        "--web.enable-lifecycle",
    ]
