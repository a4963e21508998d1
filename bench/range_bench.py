"""Range download benchmark: time to first byte of a 1 MiB range of a 2 GiB original.

A 2 GiB object is assembled inside MinIO from 32 server-side copies of a 64 MiB random
part (no 2 GiB upload from here), in the unnotified bench bucket, and indexed with
``assetflow backfill``; a 1 KiB object next to it is the small baseline. Then, side by
side in one run, ``Range: bytes=<random offset>+1MiB`` is fetched through the API proxy
(``?proxy=1``) and straight from MinIO with a presigned URL (the 307 target). Reported:
median and p95 time to first byte and to the last byte, per object size and path.
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from pymongo import MongoClient

from bench.backfill_bench import BUCKET, ensure_bucket
from tests.support.stack import MONGO_URL, ROOT, ServiceProcess, s3_client, skip_history, wait_for

DATASET = "range-bench"
DB = "assetflow_bench_range"
GROUP_PREFIX = "assetflow-bench-range"
PART = 64 << 20
BIG = 2 << 30
RANGE = 1 << 20


def seed(s3: Any) -> dict[str, int]:
    """The 2 GiB and 1 KiB objects (kept between runs) by key, with their sizes."""
    ensure_bucket(s3)
    big, small, part = (f"{DATASET}/images/{name}" for name in ("big.bin", "small.bin", "part"))
    sizes = {big: BIG, small: 1024}
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{DATASET}/images/")
    have = {o["Key"]: o["Size"] for o in listed.get("Contents", [])}
    if have.get(small) != 1024:
        s3.put_object(Bucket=BUCKET, Key=small, Body=os.urandom(1024))
    if have.get(big) != BIG:
        s3.put_object(Bucket=BUCKET, Key=part, Body=os.urandom(PART))
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key=big)["UploadId"]
        parts = []
        for number in range(1, BIG // PART + 1):
            copied = s3.upload_part_copy(
                Bucket=BUCKET,
                Key=big,
                UploadId=upload,
                PartNumber=number,
                CopySource={"Bucket": BUCKET, "Key": part},
            )
            parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
        s3.complete_multipart_upload(
            Bucket=BUCKET, Key=big, UploadId=upload, MultipartUpload={"Parts": parts}
        )
        s3.delete_object(Bucket=BUCKET, Key=part)
    return sizes


def timed_range(client: httpx.Client, url: str, start: int, length: int) -> tuple[float, float]:
    """Seconds to the first body byte and to the last, for one ranged GET."""
    headers = {"Range": f"bytes={start}-{start + length - 1}"}
    began = time.perf_counter()
    first = 0.0
    received = 0
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 206, (response.status_code, response.read()[:200])
        for chunk in response.iter_raw():
            if not first and chunk:
                first = time.perf_counter() - began
            received += len(chunk)
    assert received == length, (received, length)
    return first, time.perf_counter() - began


def summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    """Median and p95 in milliseconds of first byte and of the whole range."""
    firsts = sorted(s[0] * 1000 for s in samples)
    totals = sorted(s[1] * 1000 for s in samples)
    p95 = max(0, int(len(firsts) * 0.95) - 1)
    return {
        "first_byte_p50_ms": round(statistics.median(firsts), 1),
        "first_byte_p95_ms": round(firsts[p95], 1),
        "whole_p50_ms": round(statistics.median(totals), 1),
        "whole_p95_ms": round(totals[p95], 1),
    }


def main() -> None:
    """Seed, index, measure side by side, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="ranged GETs per size and path")
    args = parser.parse_args()
    s3 = s3_client()
    began = time.perf_counter()
    sizes = seed(s3)
    print(f"<!-- seeded in {time.perf_counter() - began:.1f}s -->", flush=True)
    with MongoClient(MONGO_URL) as client:
        client.drop_database(DB)
    skip_history(GROUP_PREFIX)
    indexer = ServiceProcess("indexer", group_prefix=GROUP_PREFIX, db=DB, port_offset=310)
    api = ServiceProcess("api", group_prefix=GROUP_PREFIX, db=DB, port_offset=310)
    indexer.start()
    api.start()
    results: dict[str, Any] = {"bench": "range", "machine": platform.machine()}
    try:
        env = indexer.env | {"S3_BUCKET": BUCKET}
        command = [sys.executable, "-m", "assetflow.indexer.cli", "backfill", "--prefix"]
        subprocess.run(
            [*command, f"{DATASET}/"], env=env, cwd=ROOT, capture_output=True, check=True
        )

        def indexed() -> dict[str, str] | None:
            page = httpx.get(f"{api.base_url}/v1/datasets/{DATASET}/images", timeout=10).json()
            ids = {item["path"]: item["id"] for item in page["items"]}
            return ids if len(ids) == len(sizes) else None

        ids = wait_for("both objects indexed", indexed, timeout=120)
        rng = random.Random(7)
        with httpx.Client(timeout=30) as client:
            for path, size in (("big.bin", BIG), ("small.bin", 1024)):
                original = f"{api.base_url}/v1/images/{ids[path]}/original"
                length = min(RANGE, size)
                presigned = client.get(original).headers["location"]
                proxied, direct = [], []
                for _ in range(args.requests):  # interleaved, so noise hits both paths alike
                    start = rng.randrange(0, size - length + 1)
                    proxied.append(timed_range(client, f"{original}?proxy=1", start, length))
                    direct.append(timed_range(client, presigned, start, length))
                label = "2GiB" if size == BIG else "1KiB"
                results[f"{label}_proxy"] = summary(proxied)
                results[f"{label}_direct"] = summary(direct)
    finally:
        indexer.stop()
        api.stop()
    for key, value in results.items():
        if isinstance(value, dict):
            print(
                f"{key:12s} first byte p50 {value['first_byte_p50_ms']:6.1f} ms "
                f"p95 {value['first_byte_p95_ms']:6.1f} ms | whole range p50 "
                f"{value['whole_p50_ms']:6.1f} ms p95 {value['whole_p95_ms']:6.1f} ms"
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
