"""Benchmark assetflow's SigV4 presigner against botocore's generate_presigned_url.

Usage: python bench/presign_bench.py [--n 20000] [--repeats 5]

Both signers presign the same N keys in the same run; each is timed with
time.perf_counter over the whole batch, best of several repeats, and reported
as microseconds per URL, as plain text and as one JSON line.
"""

import argparse
import datetime
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

try:
    from assetflow.storage.presign import Presigner
except ModuleNotFoundError:
    # Let `python bench/presign_bench.py` work from a checkout without PYTHONPATH.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "libs" / "common" / "src"))
    from assetflow.storage.presign import Presigner

import boto3
import botocore
import botocore.auth
import botocore.config

ENDPOINT = "http://minio:9000"
BUCKET = "assets"
ACCESS_KEY = "minioadmin"
SECRET_KEY = "minioadmin-secret"
REGION = "us-east-1"
EXPIRES_IN = 3600


def make_keys(n: int, seed: int = 1234) -> list[str]:
    """Return n realistic object keys: mostly ASCII paths, some spaces/specials/unicode."""
    rng = random.Random(seed)
    words = ["photos", "2024", "raw", "thumbs", "datasets", "coco", "val", "train", "masks"]
    specials = [" (copy)", "+v2", " final", "_ü", "-日本", "%20", "'s"]
    keys = []
    for i in range(n):
        depth = rng.randint(1, 4)
        name = f"IMG_{i:06d}{rng.choice(specials) if rng.random() < 0.3 else ''}.jpg"
        keys.append("/".join([*rng.sample(words, depth), name]))
    return keys


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """Return the fastest wall time in seconds of `repeats` calls to fn."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print plain-text and JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="URLs per timed batch")
    parser.add_argument("--repeats", type=int, default=5, help="timed batches per signer")
    args = parser.parse_args(argv)
    n: int = args.n
    repeats: int = args.repeats
    if n < 1 or repeats < 1:
        parser.error("--n and --repeats must be >= 1")

    # Keep local AWS config (profiles, custom endpoints) from influencing botocore.
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

    keys = make_keys(n)
    ours = Presigner(
        endpoint_url=ENDPOINT, access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION
    )
    client: Any = boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )

    def run_botocore() -> None:
        for key in keys:
            client.generate_presigned_url(
                "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=EXPIRES_IN
            )

    def run_ours() -> None:
        presign_get = ours.presign_get
        for key in keys:
            presign_get(BUCKET, key, EXPIRES_IN)

    fixed_now = datetime.datetime.now(datetime.UTC)

    # A listing page's renditions (two per image) through the stable signer: signed once per
    # period, then looked up; beside it the per-second signer the API used before.
    def run_stable() -> None:
        sign = ours.stable_signer(86_400, 3600)
        for key in keys:
            sign(BUCKET, key)

    def run_per_second() -> None:
        sign = ours.signer(86_400)
        for key in keys:
            sign(BUCKET, key)

    def run_ours_explicit_now() -> None:
        presign_get = ours.presign_get
        for key in keys:
            presign_get(BUCKET, key, EXPIRES_IN, fixed_now)

    # Sanity check before timing: identical output at a frozen instant on a sample.
    frozen = fixed_now.replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=frozen):
        for key in keys[: min(n, 200)]:
            expected = client.generate_presigned_url(
                "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=EXPIRES_IN
            )
            if ours.presign_get(BUCKET, key, EXPIRES_IN, fixed_now) != expected:
                print(f"MISMATCH for key {key!r}", file=sys.stderr)
                return 1

    # Warm both paths (bucket cache, signing key, botocore's lazy loaders) before timing.
    run_ours()
    client.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": keys[0]}, ExpiresIn=EXPIRES_IN
    )

    ours_us = best_of(repeats, run_ours) / n * 1e6
    ours_now_us = best_of(repeats, run_ours_explicit_now) / n * 1e6
    boto_us = best_of(repeats, run_botocore) / n * 1e6
    run_stable()  # the period's URLs made once, as the first page of the hour does
    stable_us = best_of(repeats, run_stable) / n * 1e6
    per_second_us = best_of(repeats, run_per_second) / n * 1e6
    ratio = boto_us / ours_us

    print(f"python {platform.python_version()}, botocore {botocore.__version__}")
    print(f"N={n} URLs per batch, best of {repeats} batches")
    print(f"assetflow Presigner (now=None):   {ours_us:8.2f} us/URL")
    print(f"assetflow Presigner (now=given):  {ours_now_us:8.2f} us/URL")
    print(f"botocore generate_presigned_url:  {boto_us:8.2f} us/URL")
    print(f"speedup: {ratio:.1f}x")
    print(f"page signer, per second (before): {per_second_us:8.2f} us/URL")
    print(f"stable signer, URL already made:  {stable_us:8.2f} us/URL")
    result = {
        "bench": "presign_get",
        "n": n,
        "repeats": repeats,
        "python": platform.python_version(),
        "botocore": botocore.__version__,
        "ours_us_per_url": round(ours_us, 3),
        "ours_explicit_now_us_per_url": round(ours_now_us, 3),
        "botocore_us_per_url": round(boto_us, 3),
        "ratio": round(ratio, 2),
        "page_signer_us_per_url": round(per_second_us, 3),
        "stable_signer_repeat_us_per_url": round(stable_us, 3),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
