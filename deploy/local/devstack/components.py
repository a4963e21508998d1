"""The components of the local stack and the assetflow services, in start order."""

import asyncio
import base64
import logging
import os
import sys
import urllib.request
import uuid
from pathlib import Path

from devstack import config, gateway, install, monitoring
from devstack.processes import Component

KAFKA_DATA = config.DATA / "kafka"
KAFKA_CONFIG = config.LOCAL / "kafka" / "server.properties"
MINIO_DATA = config.DATA / "minio"
MINIO_QUEUE = config.DATA / "minio-events-queue"
MINIO_TEST_QUEUE = config.DATA / "minio-events-queue-test"
DATABASE_DATA = config.DATA / "mongodb"


def http_ok(url: str) -> bool:
    """GET returns 2xx."""
    with urllib.request.urlopen(url, timeout=2) as response:
        status: int = response.status
        return 200 <= status < 300


def kafka_healthy() -> bool:
    """The broker answers a metadata request."""
    from aiokafka.admin import AIOKafkaAdminClient

    # Refused connections are expected while the broker starts; the poll loop reports failure.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=f"127.0.0.1:{config.KAFKA_PORT}", request_timeout_ms=3000
        )
        await admin.start()
        try:
            await admin.list_topics()
            return True
        finally:
            await admin.close()

    return asyncio.run(probe())


def replica_set_states(name: str, ports: list[int]) -> list[str]:
    """The members' states, sorted, as the first member sees them; [] until initiated.

    The set is initiated once, on the first start of a fresh data directory.
    """
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    client: MongoClient[dict[str, object]] = MongoClient(
        f"mongodb://127.0.0.1:{ports[0]}",
        directConnection=True,
        serverSelectionTimeoutMS=1500,
    )
    try:
        try:
            status = client.admin.command("replSetGetStatus")
        except OperationFailure as exc:
            if exc.code != 94:  # NotYetInitialized
                raise
            members = [{"_id": n, "host": f"127.0.0.1:{port}"} for n, port in enumerate(ports)]
            client.admin.command("replSetInitiate", {"_id": name, "members": members})
            return []
        return sorted(member["stateStr"] for member in status["members"])
    finally:
        client.close()


def mongo_healthy() -> bool:
    """mongod answers, its single-node replica set is initiated, and it is the primary.

    Transactions (the indexer's batches, the counters) need a replica set.
    """
    return replica_set_states(config.MONGO_REPLICA_SET, [config.MONGO_PORT]) == ["PRIMARY"]


def new_kafka_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def format_kafka_storage(conf: Path, cluster_id: str, *flags: str) -> None:
    """Format a KRaft node's log directories (a no-op where already formatted)."""
    install._run(
        [
            "java",
            "-cp",
            f"{install.KAFKA_LIB}/*",
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={cluster_id}",  # one joined argument: an id may start with "-"
            "-c",
            str(conf),
            *flags,
            "--ignore-formatted",
        ]
    )


def _kafka_prepare() -> None:
    template = (config.DEPLOY / "kafka" / "server.properties.in").read_text()
    KAFKA_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    KAFKA_CONFIG.write_text(template.replace("@DATA_DIR@", str(KAFKA_DATA)))
    if (KAFKA_DATA / "meta.properties").exists():
        return
    format_kafka_storage(KAFKA_CONFIG, new_kafka_cluster_id(), "--standalone")


KAFKA = Component(
    name="kafka",
    port=config.KAFKA_PORT,
    prepare=_kafka_prepare,
    argv=lambda: [
        "java",
        config.KAFKA_HEAP,
        "-Xms256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        f"-Dlog4j2.configurationFile={config.DEPLOY / 'kafka' / 'log4j2.properties'}",
        "-cp",
        f"{install.KAFKA_LIB}/*",
        "kafka.Kafka",
        str(KAFKA_CONFIG),
    ],
    healthy=kafka_healthy,
)


def kafka_target(
    name: str,
    topic: str,
    queue_dir: Path | None = None,
    brokers: str = f"127.0.0.1:{config.KAFKA_PORT}",
) -> dict[str, str]:
    """MinIO's environment for a Kafka notification target (ARN arn:minio:sqs::<name>:kafka)."""
    env = {
        f"MINIO_NOTIFY_KAFKA_ENABLE_{name}": "on",
        f"MINIO_NOTIFY_KAFKA_BROKERS_{name}": brokers,
        f"MINIO_NOTIFY_KAFKA_TOPIC_{name}": topic,
    }
    if queue_dir is not None:
        env[f"MINIO_NOTIFY_KAFKA_QUEUE_DIR_{name}"] = str(queue_dir)
    return env


def _minio_prepare() -> None:
    for queue in (MINIO_QUEUE, MINIO_TEST_QUEUE):
        queue.mkdir(parents=True, exist_ok=True)


MINIO = Component(
    name="minio",
    port=config.MINIO_PORT,
    prepare=_minio_prepare,
    argv=lambda: [
        str(install.MINIO_BIN),
        "server",
        str(MINIO_DATA),
        "--quiet",
        "--address",
        f"127.0.0.1:{config.MINIO_PORT}",
        "--console-address",
        f"127.0.0.1:{config.MINIO_CONSOLE_PORT}",
    ],
    env=lambda: {
        "MINIO_ROOT_USER": config.S3_ACCESS_KEY,
        "MINIO_ROOT_PASSWORD": config.S3_SECRET_KEY,
        # Two Kafka targets per lane, both attached to its bucket (bootstrap.configure_buckets).
        # PRIMARY writes each event to its queue directory first, so an upload during a Kafka
        # outage is not lost, but publishes only when MinIO replays that directory, every 3 s;
        # IMMEDIATE publishes at once and drops what Kafka does not take. Ingest drops the
        # second copy (docs/architecture.md, "ingest").
        **kafka_target("PRIMARY", "minio.events", MINIO_QUEUE),
        **kafka_target("IMMEDIATE", "minio.events"),
        # The test suite's lane (config.TEST_*): same broker, its own topic and queue.
        **kafka_target("TEST", config.TEST_TOPIC_PREFIX + "minio.events", MINIO_TEST_QUEUE),
        **kafka_target("TESTIMMEDIATE", config.TEST_TOPIC_PREFIX + "minio.events"),
        "MINIO_BROWSER": "on",
        "MINIO_UPDATE": "off",
        "MINIO_PROMETHEUS_AUTH_TYPE": "public",  # Prometheus scrapes /minio/v2/metrics
    },
    healthy=lambda: http_ok(f"http://127.0.0.1:{config.MINIO_PORT}/minio/health/ready"),
)

DATABASE = Component(
    name="database",
    port=config.MONGO_PORT,
    prepare=lambda: DATABASE_DATA.mkdir(parents=True, exist_ok=True),
    argv=lambda: [
        str(install.MONGOD_BIN),
        "--replSet",
        config.MONGO_REPLICA_SET,
        "--bind_ip",
        "127.0.0.1",
        "--port",
        str(config.MONGO_PORT),
        "--dbpath",
        str(DATABASE_DATA),
        "--wiredTigerCacheSizeGB",
        config.MONGO_CACHE_GB,
        # A transaction left open by a SIGKILLed indexer holds its documents until the server
        # aborts it after this many seconds (default 60); until then the restarted indexer's
        # batches conflict on them. A batch's transaction takes well under a second,
        # reconcile's recount of a 100k-image dataset ~1.5 s, so 15 s is ample.
        "--setParameter",
        f"transactionLifetimeLimitSeconds={config.TRANSACTION_LIFETIME_S}",
        "--quiet",
    ],
    # Journaling is always on for a replica-set member: an acknowledged write (w: majority,
    # the default) is in the journal, so a kill -9 loses none (tests/e2e/test_resilience.py).
    env=install.mongod_env,
    healthy=mongo_healthy,
)

INFRA = (KAFKA, DATABASE, MINIO)


def _service(name: str, module: str, port: int, probe: str) -> Component:
    return Component(
        name=name,
        port=port,
        argv=lambda: [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"{module}:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=lambda: {"PYTHONUNBUFFERED": "1", **_log_env()},
        healthy=lambda: http_ok(f"http://127.0.0.1:{port}{probe}"),
        start_timeout=60.0,
    )


def _log_env() -> dict[str, str]:
    # Spans go to JSON lines for `devstack trace` unless an OTLP collector is configured.
    traces = (
        {} if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else {"TRACES_DIR": str(config.TRACES)}
    )
    return {"LOG_FORMAT": os.environ.get("LOG_FORMAT", "json"), **traces}


INGEST = _service("ingest", "assetflow.ingest.main", config.INGEST_PORT, "/healthz")
INDEXER = _service("indexer", "assetflow.indexer.main", config.INDEXER_PORT, "/healthz")
THUMBNAILER = _service(
    "thumbnailer", "assetflow.thumbnailer.main", config.THUMBNAILER_PORT, "/healthz"
)
SNAPSHOTTER = _service(
    "snapshotter", "assetflow.snapshotter.main", config.SNAPSHOTTER_PORT, "/healthz"
)
NOTIFIER = _service("notifier", "assetflow.notifier.main", config.NOTIFIER_PORT, "/healthz")
API = _service("api", "assetflow.api.main", config.API_PORT, "/readyz")

GATEWAY_PREFIX = config.LOCAL / "gateway"


def _gateway_prepare() -> None:
    gateway.render(
        GATEWAY_PREFIX,
        listen=f"127.0.0.1:{config.GATEWAY_PORT}",
        api_upstream=f"127.0.0.1:{config.API_PORT}",
        web_root=config.WEB_DIST,
        rate=os.environ.get("GATEWAY_RATE", "50r/s"),
        burst=int(os.environ.get("GATEWAY_BURST", "100")),
    )


GATEWAY = Component(
    name="gateway",
    port=config.GATEWAY_PORT,
    prepare=_gateway_prepare,
    argv=lambda: gateway.argv(GATEWAY_PREFIX / "nginx.conf"),
    healthy=lambda: http_ok(f"http://127.0.0.1:{config.GATEWAY_PORT}/gateway/healthz"),
    start_timeout=30.0,
)

PROMETHEUS_PREFIX = config.LOCAL / "prometheus-run"

PROMETHEUS = Component(
    name="prometheus",
    port=config.PROMETHEUS_PORT,
    prepare=lambda: None,
    argv=lambda: monitoring.argv(
        monitoring.render(PROMETHEUS_PREFIX, monitoring.LOCAL_TARGETS),
        f"127.0.0.1:{config.PROMETHEUS_PORT}",
    ),
    healthy=lambda: http_ok(f"http://127.0.0.1:{config.PROMETHEUS_PORT}/-/ready"),
    start_timeout=30.0,
    unavailable=lambda: None if monitoring.PROMETHEUS_BIN.exists() else "not installed",
)

SERVICES = (INDEXER, INGEST, THUMBNAILER, SNAPSHOTTER, NOTIFIER, API, GATEWAY, PROMETHEUS)
ALL = INFRA + SERVICES
