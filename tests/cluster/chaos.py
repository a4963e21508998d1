"""The chaos suite's workload (uploads with tags, annotation edits through the gateway), its
invariants, and the recovery times it records."""

import asyncio
import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config
from pymongo import AsyncMongoClient

from assetflow.contracts.topics import Topics
from assetflow.readmodel import counters
from assetflow.readmodel import images as images_model
from assetflow.readmodel.images import F
from devstack import bootstrap, cluster, config, gateway
from tests.support import images
from tests.support.stack import LocalProcess, answers, wait_for

IMAGES = int(os.environ.get("CHAOS_IMAGES", "5000"))
"""Uploads per scenario (the issue's 5,000; fewer for a quick run)."""
CONVERGE_TIMEOUT_S = float(os.environ.get("CHAOS_CONVERGE_TIMEOUT_S", "900"))
GROUP_PREFIX = "assetflow-chaos"
DB = "assetflow_chaos"
TOPICS = Topics(config.TEST_TOPIC_PREFIX)
BUCKET = config.TEST_BUCKET
THUMBNAILS_BUCKET = config.TEST_THUMBNAILS_BUCKET
ANNOTATED = 20
"""Images whose annotations are edited through the API while the fault is on."""
GATEWAY_PORT = 28090
WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
ARTIFACT = Path(__file__).resolve().parents[2] / ".local" / "test-artifacts" / "chaos.json"


def service_env() -> dict[str, str]:
    """The test lane on the cluster: its topics, buckets, database and consumer groups."""
    env: dict[str, str] = cluster.service_env()
    return env | {
        "KAFKA_TOPIC_PREFIX": TOPICS.prefix,
        "S3_BUCKET": BUCKET,
        "S3_THUMBNAILS_BUCKET": THUMBNAILS_BUCKET,
        "LOG_FORMAT": "text",
    }


def prepare_lane() -> None:
    """The test lane's topics (replication factor 3) and buckets on the cluster."""
    bootstrap.create_topics(TOPICS.prefix, cluster.KAFKA_BOOTSTRAP, replication=3)
    bootstrap.configure_buckets(
        BUCKET,
        THUMBNAILS_BUCKET,
        config.TEST_NOTIFY_ARN,
        cluster.S3_ENDPOINT,
        config.TEST_NOTIFY_IMMEDIATE_ARN,
    )


def s3_client() -> Any:
    """boto3 for the cluster's MinIO node 1 (the suite stops node 4, never node 1)."""
    return boto3.client(
        "s3",
        endpoint_url=cluster.S3_ENDPOINT,
        aws_access_key_id=config.S3_ACCESS_KEY,
        aws_secret_access_key=config.S3_SECRET_KEY,
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            max_pool_connections=16,
            retries={"max_attempts": 10, "mode": "standard"},
        ),
    )


def tags_of(i: int) -> list[str]:
    """Upload-time tags: every third image is a cat, every fifth a dog."""
    return [tag for tag, every in (("cat", 3), ("dog", 5)) if i % every == 0]


@dataclass
class Workload:
    """Uploads ``count`` images into ``dataset`` in the background, then edits annotations."""

    dataset: str
    gateway_url: str
    count: int = IMAGES
    keys: dict[str, int] = field(default_factory=dict)
    """key -> size of every upload MinIO acknowledged."""
    annotated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    done_at: float = 0.0

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-workload")
        self._bodies = [images.jpeg(24 + n, 16 + n) for n in range(16)]

    def start(self) -> None:
        """Start uploading."""
        self._thread.start()

    def join(self) -> None:
        """Wait for every upload and edit; fail on any the system refused."""
        self._thread.join()
        assert not self.errors, self.errors[:5]

    def uploaded(self) -> int:
        """Uploads acknowledged so far."""
        return len(self.keys)

    def _put(self, s3: Any, i: int) -> None:
        key = f"{self.dataset}/images/f{i % 7}/{i:05d}.jpg"
        body = self._bodies[i % len(self._bodies)]
        metadata = {"tags": ",".join(tags)} if (tags := tags_of(i)) else {}
        for attempt in range(30):
            try:
                s3.put_object(
                    Bucket=BUCKET, Key=key, Body=body, ContentType="image/jpeg", Metadata=metadata
                )
                self.keys[key] = len(body)
                return
            except Exception as exc:  # a node or the network is down: retry like a client
                if attempt == 29:
                    self.errors.append(f"PUT {key}: {exc}")
                time.sleep(1)

    def _run(self) -> None:
        s3 = s3_client()
        half = self.count // 2
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: self._put(s3, i), range(half)))
            self._annotate()
            list(pool.map(lambda i: self._put(s3, i), range(half, self.count)))
        self.done_at = time.monotonic()

    def _annotate(self) -> None:
        """Annotate the first ready images through the gateway (If-Match revision 0)."""
        with httpx.Client(base_url=self.gateway_url, timeout=10) as client:
            ready: list[str] = []

            def some_ready() -> list[str] | None:
                page = _get(client, f"/v1/datasets/{self.dataset}/images", limit=100)
                ids = [item["id"] for item in page["items"] if item["status"] == "ready"]
                return ids[:ANNOTATED] if len(ids) >= ANNOTATED else None

            ready = wait_for("images to annotate", some_ready, timeout=300, interval=1)
            for image_id in ready:
                shape = {"id": "a", "type": "bbox", "label": "cat", "bbox": [1, 1, 8, 8]}
                for _ in range(30):
                    try:
                        response = client.patch(
                            f"/v1/images/{image_id}/annotations",
                            json={"upsert": [shape]},
                            headers={"If-Match": '"0"'},
                        )
                    except httpx.HTTPError:
                        time.sleep(1)
                        continue
                    if response.status_code == 200:
                        self.annotated.append(image_id)
                        break
                    if response.status_code == 412:  # an earlier try was applied
                        self.annotated.append(image_id)
                        break
                    time.sleep(1)
                else:
                    self.errors.append(f"annotating {image_id} never succeeded")


def _get(client: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    for _ in range(30):
        try:
            response = client.get(path, params=params)
            if response.status_code == 200:
                return dict(response.json())
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"GET {path} kept failing")


def list_all(gateway_url: str, dataset: str) -> list[dict[str, Any]]:
    """Every listed image of the dataset, following cursors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    with httpx.Client(base_url=gateway_url, timeout=20) as client:
        while True:
            params: dict[str, Any] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
            page = _get(client, f"/v1/datasets/{dataset}/images", **params)
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items


def converged(gateway_url: str, workload: Workload) -> list[dict[str, Any]] | None:
    """The listing once it has every upload, each ready; None before."""
    with httpx.Client(base_url=gateway_url, timeout=10) as client:
        stats = _get(client, f"/v1/datasets/{workload.dataset}/stats")
    want = len(workload.keys)
    if stats["image_count"] != want or stats["statuses"]["ready"] != want:
        return None
    return list_all(gateway_url, workload.dataset)


def check_invariants(items: list[dict[str, Any]], workload: Workload) -> None:
    """Listed once each, ready with thumbnails, counters equal to a recount, annotations kept,
    nothing dead-lettered."""
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "an image is listed twice"
    assert {item["key"] for item in items} == set(workload.keys), "listing != uploads"
    assert all(item["status"] == "ready" for item in items)
    for item in items:
        expected = tags_of(int(item["key"].rsplit("/", 1)[1].removesuffix(".jpg")))
        assert sorted(item["tags"]) == expected, item["key"]

    thumbnails = s3_client().get_paginator("list_objects_v2")
    with_thumbs = {
        obj["Key"].split("/")[1]
        for page in thumbnails.paginate(Bucket=THUMBNAILS_BUCKET, Prefix=f"{workload.dataset}/")
        for obj in page.get("Contents", [])
        if obj["Key"].endswith("/thumb.webp")
    }
    assert set(ids) <= with_thumbs, f"{len(set(ids) - with_thumbs)} images lack a thumbnail"

    drift, labels = asyncio.run(_drift_and_labels(workload.dataset))
    assert drift == {}, f"counters drifted from a recount: {drift}"
    assert labels == len(workload.annotated) == ANNOTATED, (labels, len(workload.annotated))
    assert dead_lettered(workload.dataset) == [], "records of this dataset were dead-lettered"


async def _drift_and_labels(dataset: str) -> tuple[dict[str, int], int]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(cluster.MONGO_URL, tz_aware=True)
    try:
        db = client[DB]
        stored = await counters.stored_counts(db, dataset, folders=True)
        truth = await counters.recount(db, dataset)
        annotated = await db[images_model.COLLECTION].count_documents(
            {F.DATASET_ID: dataset, F.ANNOTATION_REVISION: {"$gte": 1}}
        )
        return stored.drift(truth), annotated
    finally:
        await client.close()


def dead_lettered(dataset: str) -> list[str]:
    """Reasons of the dead-letter topic's records that mention ``dataset`` (whole topic)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def run() -> list[str]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=cluster.KAFKA_BOOTSTRAP,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            parts = [TopicPartition(TOPICS.dlq, p) for p in range(TOPICS.partitions()[TOPICS.dlq])]
            consumer.assign(parts)
            ends = await consumer.end_offsets(parts)
            await consumer.seek_to_beginning(*parts)
            found: list[str] = []
            while [p for p in parts if await consumer.position(p) < ends[p]]:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    found += [
                        dict(r.headers).get("x-dlq-reason", b"").decode()
                        for r in records
                        if r.value and dataset.encode() in r.value
                    ]
            return found
        finally:
            await consumer.stop()

    return asyncio.run(run())


def record(scenario: str, **numbers: float | int | str) -> None:
    """Print a scenario's recovery numbers and merge them into .local/test-artifacts/chaos.json."""
    print(f"[chaos] {scenario}: {json.dumps(numbers)}")
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    results[scenario] = numbers | {
        "images": IMAGES,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    ARTIFACT.write_text(json.dumps(results, indent=1) + "\n")


@dataclass
class Timeline:
    """When the fault began and was healed, and when the pipeline had caught up."""

    started: float = field(default_factory=time.monotonic)
    fault: float = 0.0
    healed: float = 0.0

    def settle(self, gateway_url: str, workload: Workload) -> dict[str, float]:
        """Wait for convergence, check the invariants; the recovery numbers."""
        workload.join()
        items = wait_for(
            f"all {workload.count} images listed and ready",
            lambda: converged(gateway_url, workload),
            timeout=CONVERGE_TIMEOUT_S,
            interval=2,
        )
        done = time.monotonic()
        check_invariants(items, workload)
        return {
            "fault_to_converged_s": round(done - self.fault, 1),
            "healed_to_converged_s": round(done - max(self.healed, self.fault), 1),
            "uploads_done_to_converged_s": round(done - workload.done_at, 1),
            "run_s": round(done - self.started, 1),
        }


class ClusterGateway(LocalProcess):
    """nginx with the gateway config in front of both test APIs."""

    def __init__(self, api_ports: list[int]) -> None:
        self.port = GATEWAY_PORT
        conf = gateway.render(
            cluster.HOME / "gateway-test",
            listen=f"127.0.0.1:{GATEWAY_PORT}",
            api_upstream=cluster.upstreams(api_ports),
            web_root=WEB_DIST,
            storage_origin=cluster.S3_ENDPOINT,
            rate="1000r/s",
            burst=1000,
        )
        self.argv = gateway.argv(conf)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start nginx and wait for its health endpoint."""
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        healthz = f"{self.base_url}/gateway/healthz"
        wait_for("the cluster gateway to answer", lambda: answers(healthz), timeout=30)

    def stop(self) -> None:
        """Stop nginx and wait for it."""
        self.terminate(timeout=10)
