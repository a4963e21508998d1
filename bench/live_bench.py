"""Live events benchmark: N SSE subscribers on one API process, with and without listing load.

Starts an indexer and an API as child processes (group prefix ``assetflow-bench-live``, the
API on 18110 over the api bench's database, seeded for the listing load), opens N event
streams on one dataset, and produces ``ObjectCreated`` events for new images of that dataset
to ``assets.objects`` at a steady rate. Each subscriber notes, per event, the time from the
indexer's commit (``applied_at``, stamped by the indexer) to the event's arrival. Phases, in
one run so they compare side by side: few subscribers, N subscribers, N subscribers while wrk
loads the listing (and the listing load alone, for its own baseline).

Needs the local stack; wrk for the listing load (else a Python load generator).
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, bench
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))  # devstack

from aiokafka import AIOKafkaProducer

from assetflow.contracts.layout import message_key
from bench.api_bench import DB, cpu_seconds, load_python, load_wrk, page_urls, seed
from tests.support.events import created
from tests.support.stack import (
    KAFKA,
    TOPICS,
    ServiceProcess,
    prepare_test_lane,
    running,
    skip_history,
)

GROUP_PREFIX = "assetflow-bench-live"
PORT_OFFSET = 110
DATASET = "bench-live"
_APPLIED = b'"applied_at":"'


class Subscribers:
    """N raw HTTP/1.0 event streams in one event loop; latencies of every image event."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.count = count
        self.latencies: list[float] = []
        self.opened = 0
        self.resets = 0

    async def _one(self, started: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        path = f"/v1/datasets/{DATASET}/events"
        # HTTP/1.0: no chunked framing, so each line is an event's line.
        writer.write(f"GET {path} HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n".encode())
        status = await reader.readline()
        assert b" 200 " in status, status
        while (await reader.readline()).strip():
            pass
        self.opened += 1
        if self.opened == self.count:
            started.set()
        try:
            while line := await reader.readline():
                if line.startswith(b"data:") and (at := line.find(_APPLIED)) >= 0:
                    start = at + len(_APPLIED)
                    stamp = line[start : line.index(b'"', start)].decode()
                    applied = datetime.fromisoformat(stamp).timestamp()
                    self.latencies.append(time.time() - applied)
                elif line.startswith(b"event: reset"):
                    self.resets += 1
        finally:
            writer.close()


def _stream_in_thread(subs: Subscribers) -> tuple[threading.Thread, asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        ready = asyncio.Event()

        async def main() -> None:
            tasks = [asyncio.create_task(subs._one(ready)) for _ in range(subs.count)]
            await ready.wait()
            started.set()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(asyncio.CancelledError):  # the phase's end cancels them
            loop.run_until_complete(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(60), f"only {subs.opened} of {subs.count} streams opened"
    return thread, loop


async def _produce(rate: float, seconds: float, first: int) -> int:
    """ObjectCreated events for new images of the live dataset, ``rate`` per second."""
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
    await producer.start()
    sent = 0
    try:
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate) + 1
            for n in range(sent, due):
                event = created(f"{DATASET}/images/live-{first + n:07d}.jpg", first + n + 1)
                await producer.send(
                    TOPICS.asset_objects,
                    event.model_dump_json().encode(),
                    key=message_key(event.bucket, event.key),
                )
            sent = due
            await asyncio.sleep(1 / rate / 2)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def phase(
    api: ServiceProcess, subscribers: int, rate: float, seconds: float, first: int, load: Any
) -> dict[str, Any]:
    """One measured phase; ``load`` runs the listing load alongside when given."""
    subs = Subscribers(api.port, subscribers)
    thread, loop = _stream_in_thread(subs)
    assert api.proc is not None
    cpu0 = cpu_seconds(api.proc.pid)
    listing: dict[str, Any] = {}
    loader = None
    if load is not None:
        loader = threading.Thread(target=lambda: listing.update(load(int(seconds) + 2)))
        loader.start()
    sent = asyncio.run(_produce(rate, seconds, first))
    if loader is not None:
        loader.join()
    time.sleep(3)  # the last events' way through the indexer and the fan-out
    cpu = cpu_seconds(api.proc.pid) - cpu0
    for task in asyncio.all_tasks(loop):
        loop.call_soon_threadsafe(task.cancel)
    thread.join(timeout=10)
    cuts = statistics.quantiles(subs.latencies, n=100) if len(subs.latencies) > 1 else [0] * 99
    row = {
        "subscribers": subscribers,
        "listing_load": load is not None,
        "events": sent,
        "delivered": len(subs.latencies),
        "expected": sent * subscribers,
        "resets": subs.resets,
        "p50_ms": round(cuts[49] * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(max(subs.latencies, default=0) * 1000, 1),
        "api_cpu_s": round(cpu, 2),
        "api_cpu_us_per_frame": round(1e6 * cpu / max(1, len(subs.latencies)), 1),
    }
    if listing:
        row |= {
            "listing_rps": round(listing["requests"] / listing["seconds"], 1),
            "listing_p95_ms": round(listing["p95"] / 1000, 1),
        }
    return row


def main() -> None:
    """Seed, start indexer and API, run the phases, print markdown and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--few", type=int, default=50, help="subscribers of the small phase")
    parser.add_argument("--rate", type=float, default=10.0, help="new images per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument("--images", type=int, default=5000, help="listing dataset size")
    parser.add_argument("--connections", type=int, default=16, help="listing load connections")
    args = parser.parse_args()

    generator = "wrk" if shutil.which("wrk") else "python"
    prepare_test_lane()
    skip_history(GROUP_PREFIX)
    seed(args.images, 5)
    with contextlib.ExitStack() as stack:

        def service(name: str) -> ServiceProcess:
            return ServiceProcess(name, group_prefix=GROUP_PREFIX, db=DB, port_offset=PORT_OFFSET)

        stack.enter_context(running(service("indexer")))
        api = stack.enter_context(running(service("api")))
        paths = page_urls(api.base_url, 40, 50)

        def load(seconds: int) -> dict[str, Any]:
            run = load_wrk if generator == "wrk" else load_python
            return run(api.base_url, paths, args.connections, seconds)

        baseline = load(int(args.seconds))
        rows = []
        first = int(time.time() * 10)  # new keys (and sequencers) every run
        for count, loaded in (
            (args.few, False),
            (args.subscribers, False),
            (args.subscribers, True),
        ):
            rows.append(phase(api, count, args.rate, args.seconds, first, load if loaded else None))
            first += int(args.rate * args.seconds) + 10
    print(
        f"# live bench: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.rate}/s new images, {args.seconds:.0f} s per phase, {datetime.now(UTC):%F}"
    )
    print(
        f"listing alone ({generator}, {args.connections} connections): "
        f"{baseline['requests'] / baseline['seconds']:.1f} pages/s, "
        f"p95 {baseline['p95'] / 1000:.1f} ms"
    )
    print(
        "| subscribers | listing load | delivered / expected | p50 ms | p95 ms | p99 ms | max ms "
        "| API CPU µs/frame | listing pages/s, p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        listing = f"{row['listing_rps']}, {row['listing_p95_ms']}" if row["listing_load"] else "-"
        print(
            f"| {row['subscribers']} | {'yes' if row['listing_load'] else 'no'} "
            f"| {row['delivered']:,} / {row['expected']:,} | {row['p50_ms']} | {row['p95_ms']} "
            f"| {row['p99_ms']} | {row['max_ms']} | {row['api_cpu_us_per_frame']} | {listing} |"
        )
    print(json.dumps({"bench": "live", "baseline": baseline, "phases": rows}))


if __name__ == "__main__":
    main()
