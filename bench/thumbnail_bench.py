"""Thumbnailer benchmark: thumbnails/s through the service vs a plain pyvips loop.

For each size class (2 MP and 12 MP JPEGs, generated once per run):

- plain: one process renders every file from memory with exactly the service's rendering
  (``assetflow.thumbnailer.rendering.render``: decode once, thumb, preview, thumbhash, EXIF),
  both sequentially with libvips' default threading and with a thread pool sized to the
  cores (the service's model); the faster of the two is the baseline;
- service: the files are PUT to MinIO (concurrently) and the clock runs until the database
  shows every image ``ready`` (MinIO -> Kafka -> ingest -> thumbnailer -> MinIO -> Kafka ->
  indexer), with ingest, indexer and thumbnailer as real processes on the same cores.
  Two clocks: from the first PUT (upload -> ready, what a user sees), and from the moment
  MinIO delivered the first event to Kafka (the pipeline's own throughput). MinIO's
  persistent event queue delivers on a 3 s tick, so the first clock includes 0-3 s of
  waiting that no consumer can shorten.

The ratio service / plain is the share of the cores' decode throughput the pipeline keeps.
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyvips
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import MongoClient

from assetflow.thumbnailer.rendering import Rendered, RenderOptions, configure_libvips, render
from tests.support.stack import (
    KAFKA,
    MONGO_URL,
    TOPICS,
    ServiceProcess,
    put_object,
    s3_client,
    skip_history,
)

GROUP_PREFIX = "assetflow-bench"
DB = "assetflow_bench"
SIZES = {"2MP": (1732, 1155), "12MP": (4000, 3000)}
CORES = len(os.sched_getaffinity(0))


def photo_like(width: int, height: int, seed: int) -> bytes:
    """A JPEG with photo-like entropy (smooth gradients plus sensor-like noise), q=90."""
    xyz = pyvips.Image.xyz(width, height)
    base = (xyz[0] * (200.0 / width) + xyz[1] * (55.0 / height) + seed * 7) % 256
    bands = [base, (base * 0.7 + 40) % 256, (255 - base) % 256]
    noise = pyvips.Image.gaussnoise(width, height, sigma=18, mean=0)
    red, green, blue = [(band + noise).cast("uchar") for band in bands]
    image = red.bandjoin([green, blue])
    return bytes(image.copy(interpretation="srgb").jpegsave_buffer(Q=90))


def plain_sequential(files: list[bytes]) -> float:
    """Seconds for one thread to render every file (libvips threads as it likes)."""
    configure_libvips(CORES)
    start = time.perf_counter()
    for data in files:
        assert isinstance(render(data, RenderOptions()), Rendered)
    return time.perf_counter() - start


def plain_pool(files: list[bytes]) -> float:
    """Seconds for a pool of one thread per core to render every file."""
    configure_libvips(1)
    start = time.perf_counter()
    with ThreadPoolExecutor(CORES) as pool:
        for result in pool.map(lambda data: render(data, RenderOptions()), files):
            assert isinstance(result, Rendered)
    return time.perf_counter() - start


async def _minio_offsets() -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    await consumer.start()
    try:
        parts = [TopicPartition(TOPICS.minio_events, p) for p in range(3)]
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def _first_delivery(since: dict[TopicPartition, int], dataset: str) -> float:
    """Wall-clock time (s) at which MinIO's first event about ``dataset`` reached Kafka."""
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)
        first = float("inf")
        while batch := await consumer.getmany(timeout_ms=1000):
            for records in batch.values():
                for record in records:
                    if dataset.encode() in (record.value or b""):
                        first = min(first, record.timestamp / 1000)
        return first
    finally:
        await consumer.stop()


def through_service(s3: Any, files: list[bytes], label: str) -> dict[str, float]:
    """Seconds until every image is ready, from the first PUT and from MinIO's delivery."""
    dataset = f"bench-{label.lower()}-{uuid.uuid4().hex[:6]}"
    keys = [f"{dataset}/images/{i:04d}.jpg" for i in range(len(files))]
    offsets = asyncio.run(_minio_offsets())
    with MongoClient(MONGO_URL) as client:
        images = client[DB]["images"]
        start_wall, start = time.time(), time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda kv: put_object(s3, kv[0], kv[1]), zip(keys, files, strict=True)))
        put_seconds = time.perf_counter() - start
        deadline = start + 600
        while time.perf_counter() < deadline:
            done = images.count_documents({"dataset_id": dataset, "status": {"$ne": "pending"}})
            if done >= len(files):
                break
            time.sleep(0.2)  # each poll is a full scan on FerretDB: keep the probe cheap
        total = time.perf_counter() - start
        ready = images.count_documents({"dataset_id": dataset, "status": "ready"})
    if ready != len(files):
        raise SystemExit(f"{label}: only {ready} of {len(files)} images became ready")
    delivered = asyncio.run(_first_delivery(offsets, dataset)) - start_wall
    return {
        "seconds": total,
        "put_seconds": put_seconds,
        "delivery_wait_seconds": delivered,
        "pipeline_seconds": total - delivered,
    }


def main() -> None:
    """Generate the files, run plain and service side by side, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n2", type=int, default=160, help="2 MP JPEGs")
    parser.add_argument("--n12", type=int, default=40, help="12 MP JPEGs")
    parser.add_argument("--rounds", type=int, default=2, help="plain/service alternations")
    args = parser.parse_args()

    counts = {"2MP": args.n2, "12MP": args.n12}
    files = {
        label: [photo_like(*SIZES[label], seed=i) for i in range(counts[label])] for label in SIZES
    }
    for label, batch in files.items():
        mean_mb = statistics.mean(len(f) for f in batch) / 1e6
        print(
            f"{label}: {len(batch)} JPEGs {SIZES[label][0]}x{SIZES[label][1]}, {mean_mb:.2f} MB avg"
        )

    with MongoClient(MONGO_URL) as client:
        client.drop_database(DB)
    skip_history(GROUP_PREFIX)
    procs = [
        ServiceProcess(name, group_prefix=GROUP_PREFIX, db=DB, port_offset=100)
        for name in ("indexer", "ingest", "thumbnailer")
    ]
    s3 = s3_client()
    report: dict[str, Any] = {}
    try:
        for proc in procs:
            proc.start()
        # Warm up: the first images pay for consumer-group joins and lazy imports.
        through_service(s3, files["2MP"][:6], "warmup")
        for label, batch in files.items():
            rows: dict[str, list[float]] = {
                "sequential": [],
                "pool": [],
                "upload_to_ready": [],
                "pipeline": [],
                "delivery_wait": [],
            }
            for _ in range(args.rounds):
                rows["sequential"].append(plain_sequential(batch))
                rows["pool"].append(plain_pool(batch))
                run = through_service(s3, batch, label)
                rows["upload_to_ready"].append(run["seconds"])
                rows["pipeline"].append(run["pipeline_seconds"])
                rows["delivery_wait"].append(run["delivery_wait_seconds"])
            n = len(batch)
            mean = {k: statistics.mean(v) for k, v in rows.items()}
            report[label] = {
                "images": n,
                "plain_sequential_per_s": round(n / mean["sequential"], 2),
                "plain_pool_per_s": round(n / mean["pool"], 2),
                "service_pipeline_per_s": round(n / mean["pipeline"], 2),
                "service_upload_to_ready_per_s": round(n / mean["upload_to_ready"], 2),
                "ratio_pipeline_vs_sequential": round(mean["sequential"] / mean["pipeline"], 3),
                "ratio_pipeline_vs_pool": round(mean["pool"] / mean["pipeline"], 3),
                "ratio_upload_to_ready_vs_sequential": round(
                    mean["sequential"] / mean["upload_to_ready"], 3
                ),
                "ratio_upload_to_ready_vs_pool": round(mean["pool"] / mean["upload_to_ready"], 3),
                "runs_seconds": {k: [round(x, 2) for x in v] for k, v in rows.items()},
            }
            print(json.dumps({label: report[label]}, indent=1))
    finally:
        for proc in procs:
            proc.stop()
    print(
        json.dumps(
            {
                "bench": "thumbnails",
                "machine": platform.machine(),
                "cpus": CORES,
                "libvips": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
                **report,
            }
        )
    )


if __name__ == "__main__":
    main()
