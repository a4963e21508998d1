"""Upload latency: PUT -> listed and PUT -> thumbnail ready, before and after the fast path.

N uploads (distinct small JPEGs) at a steady rate into the test lane's bucket, through child
processes of ingest, indexer, thumbnailer and the API (own consumer groups, database and ports
18330-18333). Per upload, from the PUT's return: the API's live stream of the dataset says
``image.indexed`` (the image is in the listing from the indexer's commit on; the stream hears
of it right after, with no polling load), and ``image.updated`` with status ``ready``. A reader
of the lane's topics stamps every hop with its Kafka record timestamp (one machine, one clock):
PUT returned -> minio.events (each copy) -> ObjectCreated on assets.objects (ingest) -> the
indexer's batch starts (``applied_at``) -> its ChangeBatch on assets.changes (transaction,
commit, publish) -> the stream; and ObjectCreated -> ThumbnailsCreated (thumbnailer) -> ready.

Configurations (``--configs``), measured one after the other in one run:
  before   the bucket notifies the queued target only; consumers poll with a 100 ms timeout
  targets  both targets (queued + immediate), 100 ms
  after    both targets, the services' defaults (now 10 ms)

Needs the local stack (``make up``) with MinIO started by this version of devstack (it defines
the immediate target). Restores the test bucket's notification to both targets when it ends.
"""

import argparse
import asyncio
import json
import math
import os
import platform
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))  # devstack

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from botocore.exceptions import ClientError
from pymongo import MongoClient

from devstack import bootstrap, config
from tests.support.images import scene_jpeg
from tests.support.sse import EventStream
from tests.support.stack import (
    BUCKET,
    KAFKA,
    MONGO_URL,
    TOPICS,
    ServiceProcess,
    s3_client,
    skip_history,
    wait_for,
)

GROUP_PREFIX = "assetflow-bench-latency"
DB = "assetflow_bench_latency"
PORT_OFFSET = 330
SERVICES = ("indexer", "ingest", "thumbnailer", "api")
QUEUED = (config.TEST_NOTIFY_ARN,)
BOTH = (config.TEST_NOTIFY_ARN, config.TEST_NOTIFY_IMMEDIATE_ARN)
_OLD_TIMEOUT = {
    f"{s.upper()}_BATCH_TIMEOUT_MS": "100" for s in ("ingest", "indexer", "thumbnailer")
}
CONFIGS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "before": (QUEUED, _OLD_TIMEOUT),
    "targets": (BOTH, _OLD_TIMEOUT),
    "after": (BOTH, {}),
}
STAGES = (
    ("PUT returned -> minio.events (1st copy)", "put_end", "minio"),
    ("ingest", "minio", "objects"),
    ("indexer: fetch + batch wait", "objects", "applied"),
    ("indexer: transaction + commit + publish", "applied", "changed"),
    ("API stream", "changed", "listed"),
    ("thumbnailer (wait, fetch, render, store)", "objects", "thumbnailed"),
    ("indexer + stream after the thumbnail", "thumbnailed", "ready"),
)


@dataclass
class Stamps:
    """What happened to one upload, as wall-clock seconds."""

    key: str
    put_start: float = 0.0
    put_end: float = 0.0
    copies: list[float] = field(default_factory=list)  # minio.events record timestamps
    objects: float | None = None  # ObjectCreated on assets.objects
    thumbnailed: float | None = None  # ThumbnailsCreated on assets.objects
    applied: float | None = None  # the indexer's batch started (ImageChanged.applied_at)
    changed: float | None = None  # the ChangeBatch with its "indexed" change
    listed: float | None = None  # the stream's image.indexed arrived
    ready: float | None = None  # the stream's image.updated with status ready arrived

    @property
    def minio(self) -> float | None:
        """The first copy's arrival in Kafka."""
        return min(self.copies) if self.copies else None


class TopicReader:
    """Record timestamps of the lane's topics for one dataset, read in a thread from their end."""

    def __init__(self, dataset: str, by_key: dict[str, Stamps]) -> None:
        self.dataset = dataset
        self.by_key = by_key
        self.by_image: dict[str, Stamps] = {}
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._positioned = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self, timeout: float = 60) -> None:
        """Start reading; returns once every partition is positioned at its end."""
        from assetflow.contracts.layout import image_id

        self.by_image = {image_id(BUCKET, key): stamps for key, stamps in self.by_key.items()}
        self._thread.start()
        if not self._positioned.wait(timeout):
            raise SystemExit(f"latency bench: no Kafka at {KAFKA} within {timeout:.0f} s")
        if self.error is not None:
            raise SystemExit(f"latency bench: reading the topics failed: {self.error!r}")

    def stop(self) -> None:
        """Stop reading."""
        self._stop.set()
        self._thread.join(timeout=10)

    async def _run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=KAFKA, enable_auto_commit=False, request_timeout_ms=10_000
        )
        try:
            await consumer.start()
            partitions = TOPICS.partitions()
            wanted = (TOPICS.minio_events, TOPICS.asset_objects, TOPICS.changes)
            parts = [TopicPartition(t, p) for t in wanted for p in range(partitions[t])]
            consumer.assign(parts)
            await consumer.seek_to_end(*parts)
            for part in parts:  # resolve the positions now, not lazily after the first upload
                await consumer.position(part)
            self._positioned.set()
            while not self._stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=2000)
                for records in batches.values():
                    for record in records:
                        self._note(record)
        except BaseException as exc:  # reported by start() or at the end of the run
            self.error = exc
        finally:
            self._positioned.set()
            await consumer.stop()

    def _note(self, record: Any) -> None:
        at = record.timestamp / 1000
        if record.topic == TOPICS.minio_events:
            stamps = self.by_key.get((record.key or b"").decode().removeprefix(BUCKET + "/"))
            if stamps is not None:
                stamps.copies.append(at)
        elif record.topic == TOPICS.asset_objects:
            stamps = self.by_key.get((record.key or b"").decode().removeprefix(BUCKET + "/"))
            kind = dict(record.headers or ()).get("event-type", b"").decode()
            if stamps is None:
                return
            if kind == "ObjectCreated" and stamps.objects is None:
                stamps.objects = at
            elif kind.startswith("Thumbnails") and stamps.thumbnailed is None:
                stamps.thumbnailed = at
        else:
            batch = json.loads(record.value)
            if batch.get("dataset_id") != self.dataset:
                return
            for change in batch["changes"]:
                stamps = self.by_image.get(change["image_id"])
                if stamps is not None and change["change"] == "indexed":
                    stamps.applied = datetime.fromisoformat(change["applied_at"]).timestamp()
                    stamps.changed = at


def switch_notification(s3: Any, arns: tuple[str, ...]) -> None:
    """Point the test bucket's object events at ``arns``; exit clearly if MinIO lacks one."""
    try:
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration=bootstrap.notification(*arns)
        )
    except ClientError as exc:
        raise SystemExit(
            f"latency bench: MinIO refused targets {arns} ({exc}); restart MinIO with this "
            "devstack so it defines the immediate target"
        ) from None


def notified_arns(s3: Any) -> tuple[str, ...]:
    """The ARNs the test bucket notifies now."""
    found = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    return tuple(sorted(q["QueueArn"] for q in found.get("QueueConfigurations", [])))


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max in milliseconds (nearest rank)."""
    ranked = sorted(values)
    if not ranked:
        return {}

    def rank(p: float) -> float:
        return ranked[max(0, math.ceil(p / 100 * len(ranked)) - 1)]

    return {
        "p50": round(rank(50) * 1000),
        "p95": round(rank(95) * 1000),
        "p99": round(rank(99) * 1000),
        "max": round(ranked[-1] * 1000),
    }


def run_config(name: str, bodies: list[bytes], rate: float, deadline_s: float) -> dict[str, Any]:
    """Start the services as ``name`` configures them, upload, and measure every upload."""
    arns, env = CONFIGS[name]
    s3 = s3_client()
    # First: it prepares the test lane, which attaches both targets again.
    skip_history(GROUP_PREFIX)  # the previous configuration's late copies are not ours
    switch_notification(s3, arns)
    procs = {
        s: ServiceProcess(s, group_prefix=GROUP_PREFIX, db=DB, port_offset=PORT_OFFSET, env=env)
        for s in SERVICES
    }
    dataset = f"bench-latency-{name}-{os.urandom(3).hex()}"
    keys = [f"{dataset}/images/f{i % 10}/img{i:05d}.jpg" for i in range(len(bodies))]
    by_key = {key: Stamps(key) for key in keys}
    reader = TopicReader(dataset, by_key)
    try:
        for proc in procs.values():
            proc.start()
        warm_up(s3, procs["api"], f"{dataset}-warm", bodies[:3])
        before = counters(procs)
        reader.start()
        with EventStream(f"{procs['api'].base_url}/v1/datasets/{dataset}/events") as stream:
            time.sleep(2.0)  # idle consumers, as between real uploads
            lateness = upload(s3, keys, bodies, by_key, rate)
            wait_done(stream, by_key, list(procs.values()), deadline_s)
        if len(arns) > 1:
            time.sleep(3.5)  # the queued copies of the last uploads, replayed on MinIO's tick
        reader.stop()
        if reader.error is not None:
            raise SystemExit(f"latency bench: reading the topics failed: {reader.error!r}")
        moved = {k: round(v - before[k], 1) for k, v in counters(procs).items()}
        if (found := notified_arns(s3)) != tuple(sorted(arns)):
            raise SystemExit(
                f"latency bench: the test bucket's notification changed during {name!r} (now "
                f"{found}): a test session prepared the lane meanwhile; run again"
            )
    finally:
        reader.stop()
        for proc in reversed(procs.values()):
            proc.stop()
    return summarize(name, list(by_key.values()), lateness, moved)


def warm_up(s3: Any, api: ServiceProcess, dataset: str, bodies: list[bytes]) -> None:
    """Upload a few images to another dataset and wait until they are ready: every consumer
    has joined its group and every connection is open before the measured uploads."""
    for i, body in enumerate(bodies):
        s3.put_object(Bucket=BUCKET, Key=f"{dataset}/images/w{i}.jpg", Body=body)

    def ready() -> bool:
        stats = httpx.get(f"{api.base_url}/v1/datasets/{dataset}/stats", timeout=10).json()
        return int(stats.get("statuses", {}).get("ready", 0)) == len(bodies)

    try:
        wait_for("the warm-up uploads to be ready", ready, timeout=90, interval=0.5)
    except AssertionError as exc:
        raise SystemExit(f"latency bench: {exc} (logs: .local/logs/{GROUP_PREFIX}-*)") from None


def counters(procs: dict[str, ServiceProcess]) -> dict[str, float]:
    """The services' counters this bench reports the change of."""
    found = {
        "ingest duplicates dropped": procs["ingest"].metric(
            "assetflow_messages_skipped_total", reason="duplicate"
        ),
        "thumbnails rendered": procs["thumbnailer"].metric(
            "assetflow_thumbnailer_images_total", outcome="ready"
        ),
    }
    for name in ("ingest", "indexer", "thumbnailer"):
        found[f"{name} batches"] = procs[name].metric("assetflow_batch_size_count")
        found[f"{name} records"] = procs[name].metric("assetflow_batch_size_sum")
    for stage in ("fetch", "render", "store"):
        seconds = "assetflow_thumbnailer_duration_seconds"
        found[f"{stage} s"] = procs["thumbnailer"].metric(f"{seconds}_sum", stage=stage)
        found[f"{stage} n"] = procs["thumbnailer"].metric(f"{seconds}_count", stage=stage)
    return found


def upload(
    s3: Any, keys: list[str], bodies: list[bytes], by_key: dict[str, Stamps], rate: float
) -> float:
    """PUT each key at its slot of a steady ``rate``; returns the latest a PUT started (s)."""

    def put(i: int) -> None:
        stamps = by_key[keys[i]]
        stamps.put_start = time.time()
        s3.put_object(Bucket=BUCKET, Key=keys[i], Body=bodies[i], ContentType="image/jpeg")
        stamps.put_end = time.time()

    late = 0.0
    start = time.monotonic() + 0.1
    with ThreadPoolExecutor(max_workers=32) as pool:
        futures = []
        for i in range(len(keys)):
            slot = start + i / rate
            if (wait := slot - time.monotonic()) > 0:
                time.sleep(wait)
            late = max(late, time.monotonic() - slot)
            futures.append(pool.submit(put, i))
        for future in futures:
            future.result()
    return late


def wait_done(
    stream: EventStream, by_key: dict[str, Stamps], procs: list[ServiceProcess], timeout: float
) -> None:
    """Take stream events until every upload is listed and ready; fail clearly at the deadline."""
    listed = ready = 0
    deadline = time.monotonic() + timeout
    while listed < len(by_key) or ready < len(by_key):
        if time.monotonic() > deadline:
            missing = [k for k, s in by_key.items() if s.listed is None or s.ready is None]
            raise SystemExit(
                f"latency bench: after {timeout:.0f} s past the last PUT {listed}/{len(by_key)} "
                f"listed, {ready}/{len(by_key)} ready; e.g. {missing[:3]} (service logs: "
                f".local/logs/{GROUP_PREFIX}-*)"
            )
        for proc in procs:
            if proc.proc is None or proc.proc.poll() is not None:
                raise SystemExit(f"latency bench: {proc.name} exited; see its log in .local/logs/")
        try:
            event = stream.next(timeout=1)
        except AssertionError:
            if stream.ended.is_set():
                raise SystemExit(
                    f"latency bench: the event stream ended: {stream.error!r}"
                ) from None
            continue
        if event.event == "reset":
            raise SystemExit("latency bench: the event stream fell behind (reset)")
        image = event.data.get("image") or {}
        stamps = by_key.get(image.get("key", ""))
        if stamps is None:
            continue
        if event.event == "image.indexed" and stamps.listed is None:
            stamps.listed = event.received_at
            listed += 1
        if image.get("status") == "ready" and stamps.ready is None:
            stamps.ready = event.received_at
            ready += 1


def summarize(
    name: str, done: list[Stamps], lateness: float, moved: dict[str, float]
) -> dict[str, Any]:
    """Percentiles of the two latencies and of each stage, in milliseconds."""
    stages = {}
    for label, since, until in STAGES:
        spans = [
            b - a
            for s in done
            if (a := getattr(s, since)) is not None and (b := getattr(s, until)) is not None
        ]
        stages[label] = percentiles(spans)
    copies: defaultdict[int, int] = defaultdict(int)
    for s in done:
        copies[len(s.copies)] += 1
    batch_sizes = {
        service: round(moved[f"{service} records"] / max(1.0, moved[f"{service} batches"]), 2)
        for service in ("ingest", "indexer", "thumbnailer")
    }
    return {
        "config": name,
        "uploads": len(done),
        "put_to_listed_ms": percentiles([s.listed - s.put_end for s in done if s.listed]),
        "put_to_ready_ms": percentiles([s.ready - s.put_end for s in done if s.ready]),
        "put_ms": percentiles([s.put_end - s.put_start for s in done]),
        "stages_ms": stages,
        "second_copy_after_put_ms": percentiles(
            [max(s.copies) - s.put_end for s in done if len(s.copies) > 1]
        ),
        "copies_per_upload": dict(sorted(copies.items())),
        "ingest_duplicates_dropped": moved["ingest duplicates dropped"],
        "thumbnails_rendered": moved["thumbnails rendered"],
        "mean_batch_size": batch_sizes,
        "thumbnailer_mean_ms": {
            stage: round(moved[f"{stage} s"] / max(1.0, moved[f"{stage} n"]) * 1000, 1)
            for stage in ("fetch", "render", "store")
        },
        "max_put_start_lateness_ms": round(lateness * 1000),
    }


def print_config(result: dict[str, Any]) -> None:
    """One configuration's figures, readable."""

    def fmt(p: dict[str, float]) -> str:
        return f"{p['p50']:>6} {p['p95']:>6} {p['p99']:>6} {p['max']:>6}" if p else "   n/a"

    print(f"\n== {result['config']}: {result['uploads']} uploads")
    print(f"{'ms':44} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6}")
    print(f"{'PUT returned -> listed (stream)':44} {fmt(result['put_to_listed_ms'])}")
    print(f"{'PUT returned -> thumbnail ready (stream)':44} {fmt(result['put_to_ready_ms'])}")
    print(f"{'  the PUT itself':44} {fmt(result['put_ms'])}")
    for label, figures in result["stages_ms"].items():
        print(f"{'  ' + label:44} {fmt(figures)}")
    print(
        f"{'  2nd copy reaches Kafka after the PUT':44} {fmt(result['second_copy_after_put_ms'])}"
    )
    print(
        f"  notifications per upload {result['copies_per_upload']}; ingest dropped "
        f"{result['ingest_duplicates_dropped']:.0f} copies; {result['thumbnails_rendered']:.0f} "
        f"thumbnails rendered; mean batch sizes {result['mean_batch_size']}; thumbnailer "
        f"mean ms {result['thumbnailer_mean_ms']}; PUTs started late by at most "
        f"{result['max_put_start_lateness_ms']} ms"
    )


def main() -> None:
    """Run the configurations and print their figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="uploads per second")
    parser.add_argument(
        "--configs", default="before,after", help=f"comma-separated, of {', '.join(CONFIGS)}"
    )
    parser.add_argument("--size", default="320x240", help="each JPEG's width x height")
    parser.add_argument(
        "--deadline", type=float, default=60.0, help="seconds after the last PUT to finish"
    )
    args = parser.parse_args()
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    if unknown := [c for c in names if c not in CONFIGS]:
        parser.error(f"unknown configuration(s) {unknown}; choose from {list(CONFIGS)}")
    width, height = (int(v) for v in args.size.split("x"))
    # Distinct pictures: one sha256 for all would make one duplicate group of n images.
    bodies = [scene_jpeg(i, width, height, quality=85) for i in range(args.uploads)]
    with MongoClient(MONGO_URL, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(DB)
    s3 = s3_client()
    results = []
    try:
        for name in names:
            results.append(run_config(name, bodies, args.rate, args.deadline))
            print_config(results[-1])
    finally:
        switch_notification(s3, BOTH)  # the lane as prepare_test_lane leaves it
    print(
        json.dumps(
            {
                "bench": "latency",
                "uploads": args.uploads,
                "rate": args.rate,
                "size": args.size,
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
