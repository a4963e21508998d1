"""Snapshot benchmark: MB/s and the snapshotter's peak RSS for 200 MB and 1 GB, and what an
unchanged request costs.

Originals (random bytes named .jpg, so they are stored, not deflated: the realistic case)
are PUT once into the unnotified bench bucket (kept between runs) and indexed with
``assetflow backfill`` into a bench database. For each size a fresh snapshotter process
builds a COCO snapshot; the clock runs from the API's 202 to ``ready``, and the process's
peak RSS (VmHWM) is read after the build. Then the same request again is ``unchanged``:
its time is the planning cost (manifest + content id) alone.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from pymongo import MongoClient

from bench.backfill_bench import BUCKET, backfill_command, seed
from tests.support.stack import MONGO_URL, ROOT, ServiceProcess, skip_history, wait_for

DB = "assetflow_bench_snapshot"
GROUP_PREFIX = "assetflow-bench-snapshot"
OBJECT = 512 << 10


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def minio_pid() -> int:
    """The local MinIO server's process id."""
    found = subprocess.run(["pgrep", "-f", "minio server"], capture_output=True, text=True)
    return int(found.stdout.split()[0])


def snapshot(api: ServiceProcess, dataset: str) -> tuple[dict[str, Any], float]:
    """Request a COCO snapshot and wait for it; returns its document and the seconds taken."""
    began = time.perf_counter()
    response = httpx.post(
        f"{api.base_url}/v1/datasets/{dataset}/snapshots", json={"format": "coco"}, timeout=30
    )
    response.raise_for_status()
    snapshot_id = response.json()["snapshot_id"]

    def done() -> dict[str, Any] | None:
        body = httpx.get(f"{api.base_url}/v1/snapshots/{snapshot_id}", timeout=30).json()
        return body if body["status"] in ("ready", "unchanged", "failed") else None

    result = wait_for("the snapshot", done, timeout=3600, interval=0.05)
    assert result["status"] != "failed", result
    return result, time.perf_counter() - began


def plan_cost(spec: str) -> None:
    """Time the planning phase (manifest + content id: all an unchanged request costs) of
    existing indexed datasets, given as ``db/bucket/dataset`` entries."""
    from assetflow.snapshotter.building import Builder, Progress
    from assetflow.snapshotter.settings import SnapshotterOptions
    from assetflow.snapshotter.store import MongoSnapshotStore

    with MongoClient(MONGO_URL, tz_aware=True) as client:
        for entry in spec.split(","):
            db, bucket, dataset = entry.split("/")
            store = MongoSnapshotStore(client[db])
            builder = Builder(store, None, None, bucket, SnapshotterOptions(), lambda e: None)  # type: ignore[arg-type]
            doc = {"_id": f"plan-bench-{dataset}", "format": "coco", "where": {}}
            doc |= {"dataset_id": dataset}
            times = []
            for _ in range(3):
                progress = Progress()
                began = time.perf_counter()
                builder._plan(doc, progress)
                times.append(time.perf_counter() - began)
            client[db]["snapshot_manifests"].delete_many({"snapshot_id": doc["_id"]})
            print(
                f"plan {dataset}: {progress.images_total} images, best of 3 "
                f"{min(times):.3f} s = {progress.images_total / min(times):,.0f} images/s"
            )


def main() -> None:
    """Seed, index, build each size with a fresh snapshotter, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", default="200,1024")
    parser.add_argument("--plan", help="only time planning of db/bucket/dataset[,...]")
    args = parser.parse_args()
    if args.plan:
        plan_cost(args.plan)
        return
    sizes = [int(s) for s in args.sizes_mb.split(",")]
    datasets = {mb: f"snapbench-{mb}mb" for mb in sizes}
    for mb, dataset in datasets.items():
        seed(mb * (1 << 20) // OBJECT, dataset, lambda: os.urandom(OBJECT))
    with MongoClient(MONGO_URL) as client:
        client.drop_database(DB)
    skip_history(GROUP_PREFIX)
    api = ServiceProcess("api", group_prefix=GROUP_PREFIX, db=DB, port_offset=320)
    indexer = ServiceProcess("indexer", group_prefix=GROUP_PREFIX, db=DB, port_offset=320)
    for proc in (api, indexer):
        proc.env |= {"S3_BUCKET": BUCKET}
        proc.start()
    results: dict[str, Any] = {"bench": "snapshot", "machine": platform.machine()}
    try:
        for mb, dataset in datasets.items():
            command = backfill_command(dataset)
            subprocess.run(command, env=indexer.env, cwd=ROOT, capture_output=True, check=True)
            n = mb * (1 << 20) // OBJECT

            def indexed(dataset: str = dataset, n: int = n) -> bool:
                url = f"{api.base_url}/v1/datasets/{dataset}/stats"
                return bool(httpx.get(url, timeout=10).json()["image_count"] == n)

            wait_for(f"{dataset} indexed", indexed, timeout=600)
            snapshotter = ServiceProcess(
                "snapshotter", group_prefix=GROUP_PREFIX, db=DB, port_offset=320
            )
            snapshotter.env |= {"S3_BUCKET": BUCKET}
            snapshotter.start()
            try:
                assert snapshotter.proc is not None
                idle = peak_rss_mb(snapshotter.proc.pid)
                pids = {"snapshotter": snapshotter.proc.pid, "minio": minio_pid()}
                before = {name: cpu_s(pid) for name, pid in pids.items()}
                built, seconds = snapshot(api, dataset)
                cpu = {name: cpu_s(pid) - before[name] for name, pid in pids.items()}
                peak = peak_rss_mb(snapshotter.proc.pid)
                unchanged, again = snapshot(api, dataset)
                assert unchanged["status"] == "unchanged", unchanged
            finally:
                snapshotter.stop()
            results[f"{mb}MB"] = {
                "images": built["images"],
                "bytes": built["bytes"],
                "zip_bytes": built["size"],
                "seconds": round(seconds, 2),
                "mb_per_s": round(built["bytes"] / seconds / 1e6, 1),
                "rss_idle_mb": round(idle, 1),
                "rss_peak_mb": round(peak, 1),
                "unchanged_request_s": round(again, 3),
                "cpu_s": {name: round(value, 2) for name, value in cpu.items()},
            }
            row = results[f"{mb}MB"]
            print(
                f"{mb:5d} MB, {row['images']} images: {row['seconds']} s = "
                f"{row['mb_per_s']} MB/s; snapshotter RSS idle {row['rss_idle_mb']} MB, "
                f"peak {row['rss_peak_mb']} MB; unchanged request {row['unchanged_request_s']} s; "
                f"CPU s {row['cpu_s']}",
                flush=True,
            )
    finally:
        api.stop()
        indexer.stop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
