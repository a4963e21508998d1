"""Backfill benchmark: N objects already in a bucket that never notified -> all indexed.

The objects are PUT once (concurrently, into ``assetflow-bench-unnotified``, reused by later
runs of the same size); then the clock runs from ``assetflow backfill`` until the indexer
has applied every event (thumbnails excluded: no thumbnailer runs). Reported: the listing +
compare + publish phase (the CLI's run time) and the end-to-end time to "all listable".
"""

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from pymongo import MongoClient

from tests.support.stack import MONGO_URL, ROOT, ServiceProcess, s3_client, skip_history, wait_for

BUCKET = "assetflow-bench-unnotified"
DB = "assetflow_bench_backfill"
GROUP_PREFIX = "assetflow-bench-backfill"


def ensure_bucket(s3: Any) -> None:
    """The unnotified bench bucket (shared by the benchmarks that backfill), created once."""
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET)


def seed(n: int, dataset: str, body: Callable[[], bytes] = lambda: b"x") -> None:
    """PUT n objects under ``dataset`` unless a previous run left them there."""
    s3 = s3_client()
    ensure_bucket(s3)
    have = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{dataset}/", MaxKeys=1).get("KeyCount", 0)
    if have:
        return
    keys = [f"{dataset}/images/f{i % 100}/{i:07d}.jpg" for i in range(n)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=BUCKET, Key=k, Body=body()), keys))


def backfill_command(dataset: str, *flags: str) -> list[str]:
    """``assetflow backfill`` of one dataset, as an operator runs it."""
    cli = [sys.executable, "-m", "assetflow.indexer.cli", "backfill"]
    return [*cli, "--prefix", f"{dataset}/", *flags]


def main() -> None:
    """Seed, backfill, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument(
        "--no-upload-tags",
        action="store_true",
        help="list without user metadata (no upload-time tags), as before issue 9's tags",
    )
    args = parser.parse_args()
    dataset = f"backfill-{args.objects}"
    start = time.perf_counter()
    seed(args.objects, dataset)
    print(f"<!-- seeded in {time.perf_counter() - start:.1f}s -->", flush=True)
    with MongoClient(MONGO_URL) as client:
        client.drop_database(DB)
    skip_history(GROUP_PREFIX)
    indexer = ServiceProcess("indexer", group_prefix=GROUP_PREFIX, db=DB, port_offset=300)
    api = ServiceProcess("api", group_prefix=GROUP_PREFIX, db=DB, port_offset=300)
    indexer.start()
    api.start()
    try:
        env = indexer.env | {"S3_BUCKET": BUCKET}
        command = backfill_command(dataset, *(["--no-upload-tags"] if args.no_upload_tags else []))
        start = time.perf_counter()
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, check=True
        )
        published = time.perf_counter() - start

        def all_listable() -> bool:
            stats = httpx.get(f"{api.base_url}/v1/datasets/{dataset}/stats", timeout=10).json()
            return bool(stats["image_count"] == args.objects)

        wait_for("every object indexed", all_listable, timeout=900, interval=0.5)
        total = time.perf_counter() - start
        # A second pass over the reconciled index: listing and comparing only.
        start = time.perf_counter()
        again = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, check=True
        )
        second = time.perf_counter() - start
    finally:
        indexer.stop()
        api.stop()
    print(" ".join(done.stdout.split()))
    print(" ".join(again.stdout.split()))
    result = {
        "bench": "backfill",
        "machine": platform.machine(),
        "objects": args.objects,
        "upload_tags": not args.no_upload_tags,
        "backfill_cli_s": round(published, 2),
        "all_listable_s": round(total, 2),
        "objects_per_s": round(args.objects / total, 1),
        "second_pass_s": round(second, 2),
    }
    print(
        f"backfill: {args.objects} objects -> CLI done in {result['backfill_cli_s']} s, "
        f"all listable in {result['all_listable_s']} s = {result['objects_per_s']} objects/s; "
        f"a second pass (nothing to publish) {result['second_pass_s']} s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
