"""API listing benchmark: pages of 50 items with presigned URLs, under concurrent load.

Starts the API as a child process (port 18100, database ``assetflow_apibench``, dropped and
seeded through the indexer's own write path), follows one listing's cursors to collect the
URLs of its first pages, then loads them round-robin over 16 keep-alive connections with wrk
(or, if wrk is missing, a bounded asyncio httpx load generator) and reports requests/s,
latency percentiles and the API process's CPU time per page (``utime + stime`` from
``/proc/<pid>/stat``, divided by the pages it served). It also times the read path alone
(``repository.list_images`` over the same pages, in this process), the part of a page that
is the database layer's. ``--profile`` then samples the loaded process with py-spy and
prints where its CPU goes.

Needs the local stack (database and MinIO: the API's readiness probe checks both).
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))  # devstack

import httpx
from pymongo import AsyncMongoClient

from assetflow.indexer.writes import apply_changes, apply_results
from assetflow.readmodel.migrations import migrate
from tests.support.events import created, thumbnails_created
from tests.support.stack import MONGO_URL, ServiceProcess, prepare_test_lane

DB = "assetflow_apibench"
DATASET = "bench-api"
PORT_OFFSET = 100  # the API on 18100, clear of the tests' 18000
TICKS = os.sysconf("SC_CLK_TCK")
# Listing-route template as the API's request histogram labels it.
LIST_ROUTE = "/v1/datasets/{dataset_id}/images"


def seed(n: int, spacing_ms: int) -> None:
    """Index ``n`` thumbnailed images (all ``ready``: three presigned URLs per item)."""

    async def run() -> None:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL, tz_aware=True)
        try:
            await client.drop_database(DB)
            db = client[DB]
            await migrate(db)
            start = datetime(2026, 11, 1, tzinfo=UTC)
            for lo in range(0, n, 500):
                events = [
                    created(
                        f"{DATASET}/images/f{i % 20}/IMG_{i:06d} (copy).jpg",
                        i + 1,
                        size=100_000 + i,
                        at=start + timedelta(milliseconds=i * spacing_ms),
                    )
                    for i in range(lo, min(n, lo + 500))
                ]
                await apply_changes(db, events)
                await apply_results(db, [thumbnails_created(e) for e in events])
        finally:
            await client.close()

    asyncio.run(run())


def page_urls(base_url: str, pages: int, limit: int) -> list[str]:
    """Paths of the listing's first ``pages`` pages, following next_cursor."""
    paths: list[str] = []
    cursor: str | None = None
    with httpx.Client(base_url=base_url, timeout=30) as client:
        while len(paths) < pages:
            params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
            request = client.build_request("GET", f"/v1/datasets/{DATASET}/images", params=params)
            body = client.send(request).raise_for_status().json()
            assert len(body["items"]) == limit, f"page {len(paths)} is short: seed more images"
            assert all(i["thumb_url"] and i["preview_url"] for i in body["items"])
            paths.append(request.url.raw_path.decode())
            cursor = body["next_cursor"]
            if cursor is None:
                break
    return paths


def repository_cpu_ms(pages: int, limit: int, rounds: int, concurrency: int) -> float:
    """CPU ms per page of the read path alone (repository.list_images), in this process.

    ``concurrency`` loops page through the listing at once, as the API's requests do: one
    at a time, every round trip would also pay for an idle event loop waking up.
    """
    import uvloop

    from assetflow.api.cursor import Position
    from assetflow.api.services import listing as repository
    from assetflow.platform.settings import MongoSettings
    from assetflow.readmodel.filters import ListingFilter
    from assetflow.readmodel.mongo import make_mongo_client

    async def run() -> float:
        client = make_mongo_client(MongoSettings(url=MONGO_URL, db=DB))
        db = client[DB]
        try:
            starts: list[Position | None] = [None]
            for _ in range(pages - 1):
                page = await repository.list_images(db, DATASET, ListingFilter(), starts[-1], limit)
                last = page.docs[-1]
                starts.append(Position(last["uploaded_at"], last["_id"]))

            async def walk(offset: int, n: int) -> None:
                for i in range(n):
                    after = starts[(offset + i) % len(starts)]
                    await repository.list_images(db, DATASET, ListingFilter(), after, limit)

            await asyncio.gather(*(walk(k, len(starts)) for k in range(concurrency)))  # warm-up
            cpu = time.process_time()
            per_loop = rounds * len(starts)
            await asyncio.gather(*(walk(k, per_loop) for k in range(concurrency)))
            return 1000 * (time.process_time() - cpu) / (concurrency * per_loop)
        finally:
            await client.close()

    return uvloop.run(run())


def raw_find_ms(pages: int, limit: int, rounds: int) -> float:
    """p50 ms of the same pages' raw ``find()`` in pymongo (sync, one at a time): the
    database's own time for a page, the floor the API's latency is compared with."""
    from pymongo import MongoClient

    from assetflow.api.cursor import Position
    from assetflow.api.services import listing as repository
    from assetflow.readmodel import images
    from assetflow.readmodel.filters import ListingFilter

    client: MongoClient[dict[str, Any]] = MongoClient(MONGO_URL, tz_aware=True)
    try:
        found = client[DB][images.COLLECTION]
        listing = ListingFilter()
        queries = [listing.query(DATASET)]
        for _ in range(pages - 1):
            page = list(
                found.find(queries[-1], repository.PROJECTION)
                .sort(images.LISTING_ORDER)
                .hint(listing.index())
                .limit(limit)
            )
            after = Position(page[-1]["uploaded_at"], page[-1]["_id"])
            queries.append(listing.query(DATASET) | repository.after_position(after))
        samples = []
        for _ in range(rounds):
            for query in queries:
                start = time.perf_counter()
                cursor = found.find(query, repository.PROJECTION).sort(images.LISTING_ORDER)
                rows = list(cursor.hint(listing.index()).limit(limit + 1))
                samples.append((time.perf_counter() - start) * 1000)
                assert len(rows) == limit + 1, "seed more images than pages x limit"
        return statistics.median(samples)
    finally:
        client.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)


def served(api: ServiceProcess, status: str = "200") -> float:
    """Listing requests the API has answered with ``status`` (its own histogram count)."""
    text = httpx.get(api.base_url + "/metrics", timeout=10).text
    prefix = "assetflow_api_request_seconds_count{"
    labels = (f'route="{LIST_ROUTE}"', f'status="{status}"')
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix) and all(label in line for label in labels)
    )


WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "seconds": %%f, "errors": %%d, "non2xx": %%d, '
    .. '"p50": %%d, "p95": %%d, "p99": %%d, "max": %%d}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def load_wrk(base_url: str, paths: list[str], connections: int, seconds: int) -> dict[str, Any]:
    """Run wrk (2 threads) over ``paths``; latencies in microseconds."""
    quoted = ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % quoted)
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script.name, base_url],
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    result["generator"] = "wrk 2 threads"
    return result


def load_python(base_url: str, paths: list[str], connections: int, seconds: int) -> dict[str, Any]:
    """Bounded asyncio httpx load: ``connections`` workers, each one request at a time."""

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        errors = Counter[str]()
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            deadline = time.perf_counter() + seconds
            start = time.perf_counter()

            async def worker(offset: int) -> None:
                i = offset
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    response = await client.get(paths[i % len(paths)])
                    latencies.append(time.perf_counter() - t0)
                    if response.status_code != 200:
                        errors[str(response.status_code)] += 1
                    i += 1

            await asyncio.gather(*(worker(k) for k in range(connections)))
            elapsed = time.perf_counter() - start
        cuts = statistics.quantiles(latencies, n=100)
        return {
            "requests": len(latencies),
            "seconds": elapsed,
            "errors": 0,
            "non2xx": sum(errors.values()),
            "p50": cuts[49] * 1e6,
            "p95": cuts[94] * 1e6,
            "p99": cuts[98] * 1e6,
            "max": max(latencies) * 1e6,
            "generator": "python asyncio + httpx",
        }

    return asyncio.run(run())


# py-spy frames (function (file:line)) -> the cost centre a page's CPU is reported under;
# the first rule matching a frame, innermost frame first, takes the sample.
CATEGORIES = [
    ("presign", ("presign.py",)),
    ("RFC 3339 format", ("_rfc3339", "rfc3339")),
    (
        "response validate + serialize",
        ("serialize_response", "pydantic", "jsonable_encoder", "_json (api/routes"),
    ),
    ("item build", ("to_public", "services/items.py")),
    ("BSON decode", ("bson/",)),
    ("dependency solving", ("solve_dependencies", "run_in_threadpool", "anyio", "threading")),
    ("database driver (pymongo)", ("pymongo/",)),
    ("cursor encode/decode", ("cursor.py",)),
    ("HTTP server (uvicorn, httptools)", ("uvicorn/", "httptools")),
    ("framework (starlette, fastapi)", ("starlette/", "fastapi/")),
    ("metrics middleware", ("observability.py", "prometheus_client")),
    ("event loop (uvloop, asyncio)", ("uvloop", "asyncio/")),
]


def profile(pid: int, seconds: int, out: Path) -> dict[str, float]:
    """Sample ``pid`` with py-spy for ``seconds``; share of samples per cost centre.

    py-spy samples a thread whenever it is not idle, preempted ones included: with every
    core busy, lines that wake another process (a socket write) collect extra samples.
    The CPU per page from /proc is the measure; this says roughly where it goes.
    """
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    subprocess.run(
        [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
         "--nonblocking", "--format", "raw", "--output", str(out)],
        check=True,
        capture_output=True,
        timeout=seconds + 60,
    )  # fmt: skip
    return shares(out)


def shares(raw: Path) -> dict[str, float]:
    """Percent of py-spy's raw (collapsed-stack) samples per cost centre."""
    counts = Counter[str]()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        total += int(n)
        counts[_category(frames)] += int(n)
    return {name: round(100 * c / total, 1) for name, c in counts.most_common()}


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in CATEGORIES:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def main() -> None:
    """Seed, start the API, load it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000, help="images in the dataset")
    parser.add_argument(
        "--spacing-ms", type=int, default=5, help="upload time between images (200/s: bulk)"
    )
    parser.add_argument("--pages", type=int, default=40, help="distinct pages to cycle through")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20, help="measured load duration")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--profile", type=int, default=0, help="py-spy seconds after the run")
    parser.add_argument("--profile-out", type=Path, default=Path(".local/api_bench_profile.txt"))
    parser.add_argument("--label", default="", help="free text recorded with the figures")
    args = parser.parse_args()

    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    load = load_wrk if generator == "wrk" else load_python

    prepare_test_lane()  # the API's readiness probe needs the (test) bucket it is given
    seed(args.images, args.spacing_ms)
    api = ServiceProcess("api", db=DB, port_offset=PORT_OFFSET)
    api.start()
    try:
        assert api.proc is not None
        pid = api.proc.pid
        paths = page_urls(api.base_url, args.pages, args.limit)
        load(api.base_url, paths, args.connections, args.warmup)
        cpu0, served0 = cpu_seconds(pid), served(api)
        result = load(api.base_url, paths, args.connections, args.seconds)
        cpu1, served1 = cpu_seconds(pid), served(api)
        pages = served1 - served0
        assert result["non2xx"] == 0 and result["errors"] == 0, result
        # In-flight requests cut off when wrk stops (warm-up or run) finish on either side.
        assert abs(pages - result["requests"]) <= 2 * args.connections, (pages, result)
        figures = {
            "bench": "api",
            "label": args.label,
            "generator": result["generator"],
            "images": args.images,
            "distinct_pages": len(paths),
            "limit": args.limit,
            "connections": args.connections,
            "seconds": round(result["seconds"], 1),
            "pages_served": int(pages),
            "requests_per_s": round(pages / result["seconds"], 1),
            "p50_ms": round(result["p50"] / 1000, 2),
            "p95_ms": round(result["p95"] / 1000, 2),
            "p99_ms": round(result["p99"] / 1000, 2),
            "api_cpu_ms_per_page": round(1000 * (cpu1 - cpu0) / pages, 3),
            "api_cpu_utilisation": round((cpu1 - cpu0) / result["seconds"], 2),
            "repository_cpu_ms_per_page": round(
                repository_cpu_ms(len(paths), args.limit, 2, args.connections), 3
            ),
            "raw_find_p50_ms": round(raw_find_ms(len(paths), args.limit, 5), 2),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        }
        figures["p50_over_raw_find"] = round(figures["p50_ms"] / figures["raw_find_p50_ms"], 1)
        print(
            f"{figures['requests_per_s']} pages/s, p50 {figures['p50_ms']} ms, "
            f"p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, "
            f"API CPU {figures['api_cpu_ms_per_page']} ms/page, of which the read path "
            f"(repository.list_images) ~{figures['repository_cpu_ms_per_page']} ms ({generator}); "
            f"raw find() p50 {figures['raw_find_p50_ms']} ms: API p50 / raw find "
            f"{figures['p50_over_raw_find']}"
        )
        if args.profile:
            args.profile_out.parent.mkdir(parents=True, exist_ok=True)
            figures["profile_percent"] = profile_under_load(
                pid, api.base_url, paths, args, load, args.profile_out
            )
            for name, share in figures["profile_percent"].items():
                print(f"  {share:5.1f} %  {name}")
    finally:
        api.stop()
    print(json.dumps(figures))


def profile_under_load(
    pid: int,
    base_url: str,
    paths: list[str],
    args: argparse.Namespace,
    load: Callable[[str, list[str], int, int], dict[str, Any]],
    out: Path,
) -> dict[str, float]:
    """Profile while another load run keeps the API busy."""
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(load, base_url, paths, args.connections, args.profile + 2)
        time.sleep(1)
        shares = profile(pid, args.profile, out)
        running.result()
    return shares


if __name__ == "__main__":
    main()
