"""Clients and service processes for tests that run against the real local stack."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import boto3
import httpx
from botocore.config import Config

from assetflow.contracts.topics import Topics
from devstack import bootstrap, config

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "logs"
TRACES = ROOT / ".local" / "traces-test"
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
S3_ENDPOINT = os.environ.get("S3_ENDPOINT_URL", "http://127.0.0.1:9000")
S3_ACCESS_KEY = os.environ.get("S3_ACCESS_KEY", "minioadmin")
S3_SECRET_KEY = os.environ.get("S3_SECRET_KEY", "minioadmin")
MONGO_URL = os.environ.get("MONGO_URL", "mongodb://127.0.0.1:27017")

# Test services get their own consumer groups, topics, buckets, database and ports, so they
# never compete with services a developer runs from `make up`, and a `make up` after the
# tests does not replay what the tests uploaded (devstack's MinIO notifies the test
# buckets' events to the test topic).
TEST_DB = os.environ.get("TEST_MONGO_DB", "assetflow_test")
TEST_GROUP_PREFIX = "assetflow-test"
TOPICS = Topics(config.TEST_TOPIC_PREFIX)
BUCKET = config.TEST_BUCKET
THUMBNAILS_BUCKET = config.TEST_THUMBNAILS_BUCKET
PORTS = {
    "api": 18000,
    "ingest": 18001,
    "indexer": 18002,
    "thumbnailer": 18003,
    "snapshotter": 18004,
    "notifier": 18005,
}

T = TypeVar("T")


def s3_client() -> Any:
    """A boto3 S3 client for the local MinIO."""
    return boto3.client(
        "s3",
        endpoint_url=S3_ENDPOINT,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4", s3={"addressing_style": "path"}, max_pool_connections=32
        ),
    )


def wait_for(
    what: str, probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.2
) -> T:
    """Poll ``probe`` until it returns a truthy value; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


def service_env(group_prefix: str = TEST_GROUP_PREFIX, db: str = TEST_DB) -> dict[str, str]:
    """Environment of the test services."""
    return os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "KAFKA_GROUP_PREFIX": group_prefix,
        "KAFKA_TOPIC_PREFIX": TOPICS.prefix,
        "S3_BUCKET": BUCKET,
        "S3_THUMBNAILS_BUCKET": THUMBNAILS_BUCKET,
        "MONGO_URL": MONGO_URL,
        "MONGO_DB": db,
        "S3_ENDPOINT_URL": S3_ENDPOINT,
        "S3_ACCESS_KEY": S3_ACCESS_KEY,
        "S3_SECRET_KEY": S3_SECRET_KEY,
        "LOG_FORMAT": "text",
        # Webhook receivers in the tests listen on 127.0.0.1; short timeouts and retries.
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
        "NOTIFIER_TIMEOUT_S": "2",
        "NOTIFIER_RETRY_INITIAL_S": "0.2",
        "NOTIFIER_RETRY_MAX_S": "2",
        "PYTHONUNBUFFERED": "1",
    }


def answers(url: str) -> bool:
    """GET ``url`` returns 200 (False while nothing listens yet)."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class LocalProcess:
    """A child process of the test session that serves HTTP on 127.0.0.1:<port>."""

    port: int
    proc: "subprocess.Popen[bytes] | None"

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    def terminate(self, timeout: float) -> None:
        """SIGTERM, and wait for it to exit."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=timeout)
            self.proc = None


class ServiceProcess(LocalProcess):
    """One assetflow service run by uvicorn as a child process of the test session."""

    def __init__(
        self,
        name: str,
        *,
        group_prefix: str = TEST_GROUP_PREFIX,
        db: str = TEST_DB,
        port_offset: int = 0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = PORTS[name] + port_offset
        self.env = service_env(group_prefix, db) | (env or {})
        self.log_name = f"{group_prefix}-{name}" + (f"-{port_offset}" if port_offset else "")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start and wait until it answers its health probe."""
        LOGS.mkdir(parents=True, exist_ok=True)
        log = (LOGS / f"{self.log_name}.log").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"assetflow.{self.name}.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=ROOT,
        )
        log.close()  # the child holds its own descriptor
        probe = "/readyz" if self.name == "api" else "/healthz"

        def healthy() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"{self.name} exited"
            try:
                return httpx.get(self.base_url + probe, timeout=2).is_success
            except httpx.HTTPError:
                return False

        wait_for(f"{self.name} to become healthy", healthy, timeout=60)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send a signal and reap the process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of a Prometheus metric the service exposes (with these labels).

        A line scan, not a full parse: benchmarks poll this while they measure. Only the one
        metric, uncompressed: a full gzipped exposition 20 times a second took ~11 % of the
        indexer's CPU in the ingest benchmark.
        """
        text = httpx.get(
            self.base_url + "/metrics",
            params={"name[]": name},
            headers={"Accept-Encoding": "identity"},
            timeout=5,
        ).text
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name) or line[len(name)] not in " {":
                continue
            if all(f'{key}="{value}"' in line for key, value in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total


def produce(topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
    """Produce (key, value) messages to Kafka and wait for the acknowledgements."""
    from aiokafka import AIOKafkaProducer

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
        await producer.start()
        try:
            for key, value in messages:
                await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(run())


def consume_matching(
    topic: str, match: Callable[[Any], bool], timeout: float = 30.0, lookback_s: float = 600.0
) -> Any:
    """Read ``topic``'s records of the last ``lookback_s`` seconds until one matches; fail at
    the deadline. (Not from the beginning: a dev machine's test topics hold every run's.)"""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def run() -> Any:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=KAFKA, auto_offset_reset="earliest", enable_auto_commit=False
        )
        await consumer.start()
        try:
            parts = [TopicPartition(topic, p) for p in range(TOPICS.partitions()[topic])]
            consumer.assign(parts)
            since = int((time.time() - lookback_s) * 1000)
            starts = await consumer.offsets_for_times(dict.fromkeys(parts, since))
            for part, found in starts.items():
                if found is None:  # nothing that recent in this partition
                    await consumer.seek_to_end(part)
                else:
                    consumer.seek(part, found.offset)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        if match(record):
                            return record
            raise AssertionError(f"no matching record on {topic} within {timeout:.0f}s")
        finally:
            await consumer.stop()

    return asyncio.run(run())


def prepare_test_lane() -> None:
    """The test topics and buckets, the buckets notifying the test topic (idempotent)."""
    bootstrap.create_topics(TOPICS.prefix)
    bootstrap.configure_buckets(
        BUCKET,
        THUMBNAILS_BUCKET,
        config.TEST_NOTIFY_ARN,
        immediate_arn=config.TEST_NOTIFY_IMMEDIATE_ARN,
    )


def skip_history(group_prefix: str) -> None:
    """Commit the end of each topic for the consumer groups of ``group_prefix``.

    Tests and benchmarks start from an empty database; replaying everything earlier runs
    (and benchmarks) left in Kafka would only make them wait. The test lane is prepared
    first: aiokafka waits forever for the position of a partition that does not exist.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    prepare_test_lane()

    async def run() -> None:
        partitions = TOPICS.partitions()
        for service, topic in (
            ("ingest", TOPICS.minio_events),
            ("indexer", TOPICS.asset_objects),
            ("thumbnailer", TOPICS.asset_objects),
            ("snapshotter", TOPICS.commands),
            ("notifier", TOPICS.changes),
            ("notifier", TOPICS.snapshots),
        ):
            consumer = AIOKafkaConsumer(
                bootstrap_servers=KAFKA,
                group_id=f"{group_prefix}.{service}",
                enable_auto_commit=False,
            )
            await consumer.start()
            try:
                parts = [TopicPartition(topic, p) for p in range(partitions[topic])]
                consumer.assign(parts)
                await consumer.seek_to_end(*parts)
                await consumer.commit({tp: await consumer.position(tp) for tp in parts})
            finally:
                await consumer.stop()

    async def bounded() -> None:
        try:
            await asyncio.wait_for(run(), timeout=120)
        except TimeoutError:
            raise RuntimeError(f"skipping history for {group_prefix} took over 120 s") from None

    asyncio.run(bounded())


class _Process(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


P = TypeVar("P", bound=_Process)


@contextmanager
def running(proc: P) -> Iterator[P]:
    """Start a service or gateway process for the ``with`` block, then stop it."""
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def put_object(s3: Any, key: str, body: bytes, content_type: str = "image/jpeg") -> None:
    """PUT an object into the datasets bucket.

    An empty body goes through a presigned PUT with httpx: with boto3 1.40 against this
    MinIO, the response to an empty PUT leaves the pooled connection in a state where the
    next request on it stalls for 30 s (urllib3 logs MissingHeaderBodySeparatorDefect).
    """
    if body:
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)
        return
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": key, "ContentType": content_type}
    )
    response = httpx.put(url, content=b"", headers={"Content-Type": content_type}, timeout=10)
    response.raise_for_status()


class GatewayProcess(LocalProcess):
    """nginx with the gateway config, in front of the test API, as a child process."""

    def __init__(
        self, name: str, port: int, *, web_root: Path, api_port: int = PORTS["api"], **options: Any
    ) -> None:
        from devstack import gateway

        self.port = port
        self.prefix = ROOT / ".local" / f"gateway-{name}"
        conf = gateway.render(
            self.prefix,
            listen=f"127.0.0.1:{port}",
            api_upstream=f"127.0.0.1:{api_port}",
            web_root=web_root,
            **options,
        )
        self.argv = gateway.argv(conf)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start nginx and wait for its health endpoint."""
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

        healthz = f"{self.base_url}/gateway/healthz"
        wait_for("the gateway to answer", lambda: answers(healthz), timeout=30, interval=0.1)

    def stop(self) -> None:
        """Stop nginx (SIGTERM: fast shutdown) and wait for it."""
        self.terminate(timeout=10)


class PrometheusProcess(LocalProcess):
    """Prometheus with the project's config, rules and alerts, scraping the test services."""

    def __init__(self, port: int, interval: str = "1s") -> None:
        from devstack import monitoring

        self.port = port
        prefix = ROOT / ".local" / "prometheus-test"
        shutil.rmtree(prefix / "data", ignore_errors=True)  # every session starts empty
        # The local stack's targets, each service moved to its test port.
        targets = {
            target: f"127.0.0.1:{PORTS[name]}" if (name := target.split(":")[0]) in PORTS else local
            for target, local in monitoring.LOCAL_TARGETS.items()
        }
        targets |= {
            "prometheus:9090": f"127.0.0.1:{port}",
            "minio:9000": S3_ENDPOINT.removeprefix("http://"),
        }
        conf = monitoring.render(prefix, targets, interval)
        self.argv = monitoring.argv(conf, f"127.0.0.1:{port}")
        self.log = LOGS / "prometheus-test.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it is ready."""
        LOGS.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)

        wait_for("Prometheus to be ready", lambda: answers(f"{self.base_url}/-/ready"), timeout=30)

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector; raises on a query error."""
        answer = httpx.get(f"{self.base_url}/api/v1/query", params={"query": expr}, timeout=10)
        body = answer.json()
        assert body.get("status") == "success", f"{expr}: {body}"
        return body["data"]["result"]  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Stop it (SIGTERM) and wait."""
        self.terminate(timeout=20)


async def fresh_bench_database(name: str, bench: str) -> "AsyncMongoClient[dict[str, Any]]":
    """A client whose database ``name`` is dropped and migrated; exits saying so when no
    database answers (a benchmark must fail clearly, never hang)."""
    from pymongo import AsyncMongoClient
    from pymongo.errors import PyMongoError

    from assetflow.readmodel.migrations import migrate

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGO_URL, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        await client.admin.command("ping")
    except PyMongoError as exc:
        message = f"{bench} bench: no database at {MONGO_URL} (run `make up`): {exc}"
        raise SystemExit(message) from None
    await client.drop_database(name)
    await migrate(client[name])
    return client
