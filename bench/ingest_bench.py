"""Ingest benchmarks against the real local stack (run via `make bench`).

1. end-to-end: N objects PUT concurrently to MinIO -> time until all are listable via the API;
2. pipeline-only: M synthetic MinIO-format events produced to minio.events -> time until
   all are indexed in the database (ingest + indexer throughput, MinIO out of the loop);
3. ``--scaling ROUNDS``: the pipeline with 1, then 2 instances each of ingest and indexer
   (the same consumer groups, so they share the partitions), alternating, in one run.

The services run as child processes with their own consumer groups and database
(assetflow-bench), exactly as `make run` runs them.
"""

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient

from tests.support.minio_events import minio_message, minio_record
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

GROUP_PREFIX = "assetflow-bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DB = "assetflow_bench"


async def _lag(groups: list[str]) -> int:
    """Messages not yet committed by the bench consumer groups."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    await admin.start()
    await consumer.start()
    try:
        total = 0
        partitions = TOPICS.partitions()
        for group, topic in zip(groups, [TOPICS.minio_events, TOPICS.asset_objects], strict=True):
            parts = [TopicPartition(topic, p) for p in range(partitions[topic])]
            ends = await consumer.end_offsets(parts)
            committed = await admin.list_consumer_group_offsets(group)
            for tp in parts:
                meta = committed.get(tp)
                total += ends[tp] - (meta.offset if meta and meta.offset >= 0 else 0)
        return total
    finally:
        await consumer.stop()
        await admin.close()


def wait_idle() -> None:
    """Wait until both consumer groups have caught up with everything already produced."""
    groups = [f"{GROUP_PREFIX}.ingest", f"{GROUP_PREFIX}.indexer"]
    wait_for(
        "bench consumers to catch up",
        lambda: asyncio.run(_lag(groups)) == 0 or None,
        timeout=600,
        interval=1.0,
    )


APPLIED = "assetflow_indexer_events_applied_total"


def wait_applied(indexer: ServiceProcess, target: float, what: str) -> None:
    """Poll the indexer's counter (not the database, whose full scans would slow it down)."""
    wait_for(what, lambda: indexer.metric(APPLIED) >= target or None, timeout=900, interval=0.05)


def bench_end_to_end(
    api: ServiceProcess, indexer: ServiceProcess, n: int, threads: int
) -> dict[str, Any]:
    """PUT n objects concurrently; time until the API lists all of them."""
    s3 = s3_client()
    dataset = f"bench-e2e-{uuid.uuid4().hex[:8]}"
    body = b"\xff\xd8" + b"x" * 2048
    keys = [f"{dataset}/images/f{i % 20}/img {i:05d}.jpg" for i in range(n)]
    baseline = indexer.metric(APPLIED)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(
            pool.map(
                lambda k: s3.put_object(Bucket=BUCKET, Key=k, Body=body, ContentType="image/jpeg"),
                keys,
            )
        )
    put_done = time.perf_counter() - start
    wait_applied(indexer, baseline + n, f"{n} uploads indexed")
    total = time.perf_counter() - start
    stats = httpx.get(f"{api.base_url}/v1/datasets/{dataset}/stats", timeout=60).json()
    assert stats["image_count"] == n, f"indexer counted {n} but the API lists {stats}"
    return {
        "objects": n,
        "put_threads": threads,
        "put_seconds": round(put_done, 2),
        "until_listable_seconds": round(total, 2),
        "objects_per_s": round(n / total, 1),
    }


async def _produce(messages: list[tuple[bytes, bytes]]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        start = time.perf_counter()
        futures = [
            await producer.send(TOPICS.minio_events, value, key=key) for key, value in messages
        ]
        await asyncio.gather(*futures)
        return time.perf_counter() - start
    finally:
        await producer.stop()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _pipeline_pids(instances: dict[str, list[ServiceProcess]]) -> dict[str, list[int]]:
    """The processes an event passes through, by name (this bench's own producer included)."""
    from devstack import components, processes

    pids = {
        name: [proc.proc.pid for proc in procs if proc.proc]
        for name, procs in instances.items()
        if name != "api"
    }
    if (pid := processes.running_pid(components.KAFKA)) is not None:
        pids["kafka"] = [pid]
    if (pid := _database_pid()) is not None:
        pids["database"] = [pid]
    pids["load generator"] = [os.getpid()]
    return pids


def bench_pipeline(procs: dict[str, ServiceProcess], m: int) -> dict[str, Any]:
    """Produce m synthetic MinIO notifications; time until all are indexed."""
    return bench_instances({name: [proc] for name, proc in procs.items()}, m)


def bench_instances(instances: dict[str, list[ServiceProcess]], m: int) -> dict[str, Any]:
    """Produce m synthetic MinIO notifications; time until the indexers applied all of them."""
    indexers = instances["indexer"]
    dataset = f"bench-pipe-{uuid.uuid4().hex[:8]}"
    messages = []
    for i in range(m):
        key = f"{dataset}/images/f{i % 50}/img {i:06d}.jpg"
        messages.append((f"{BUCKET}/{key}".encode(), minio_message(minio_record(key, size=i))))

    def applied() -> float:
        return sum(indexer.metric(APPLIED) for indexer in indexers)

    baseline = applied()
    conflicts = "assetflow_indexer_write_conflicts_total"
    conflicts_before = sum(indexer.metric(conflicts) for indexer in indexers)
    pids = _pipeline_pids(instances)
    cpu_before = {name: sum(map(_cpu_seconds, found)) for name, found in pids.items()}
    start = time.perf_counter()
    produce_seconds = asyncio.run(_produce(messages))
    # Poll the indexers' counters: counting documents would read every match each time.
    wait_for(
        f"{m} events indexed",
        lambda: applied() >= baseline + m or None,
        timeout=900,
        interval=0.05 * len(indexers),
    )
    total = time.perf_counter() - start
    # CPU per event by process: on two cores, 2 s / (sum of these) bounds the rate.
    cpu_us = {
        name: round((sum(map(_cpu_seconds, found)) - cpu_before[name]) / m * 1e6, 1)
        for name, found in pids.items()
    }
    with MongoClient(MONGO_URL) as client:
        indexed = client[DB]["images"].count_documents({"dataset_id": dataset, "deleted": False})
    assert indexed == m, f"indexers counted {m} applied but the index holds {indexed}"
    return {
        "events": m,
        "produce_seconds": round(produce_seconds, 2),
        "until_indexed_seconds": round(total, 2),
        "events_per_s": round(m / total, 1),
        "cpu_us_per_event": cpu_us,
        "cores_busy": round(sum(cpu_us.values()) * m / 1e6 / total, 2),
        # Indexers writing one dataset share its counter document: their batches can conflict.
        "write_conflicts": sum(indexer.metric(conflicts) for indexer in indexers)
        - conflicts_before,
    }


def database_upsert_rate(n: int = 40_000, batch: int = 500) -> dict[str, float]:
    """The database's own rate for the indexer's kind of write, with no service in the way:
    ``n`` image upserts in transactions of ``batch`` (read the batch's ids with one ``$in``
    first, upsert each, ``$inc`` a counter), on a collection with the listing indexes."""
    from pymongo import UpdateOne

    from assetflow.readmodel import images

    name = f"{DB}_upserts"
    with MongoClient(MONGO_URL, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)
        db = client[name]
        db[images.COLLECTION].create_indexes(list(images.INDEXES))
        db["counters"].insert_one({"_id": "c", "n": 0})
        db_pid = _database_pid()
        cpu_before = _cpu_seconds(db_pid) if db_pid else 0.0
        start = time.perf_counter()
        for lo in range(0, n, batch):
            ids = [f"id{i:08d}" for i in range(lo, lo + batch)]
            with client.start_session() as session, session.start_transaction():
                list(db[images.COLLECTION].find({"_id": {"$in": ids}}, session=session))
                ops = [
                    UpdateOne(
                        {"_id": i},
                        {"$set": {"dataset_id": "d", "deleted": False, "uploaded_at": start,
                                  "folder": "f", "status": "pending", "tags": [], "size": 1}},
                        upsert=True,
                    )
                    for i in ids
                ]  # fmt: skip
                db[images.COLLECTION].bulk_write(ops, ordered=False, session=session)
                db["counters"].update_one({"_id": "c"}, {"$inc": {"n": batch}}, session=session)
        seconds = time.perf_counter() - start
        cpu_us = (_cpu_seconds(db_pid) - cpu_before) / n * 1e6 if db_pid else float("nan")
        client.drop_database(name)
    return {"docs_per_s": round(n / seconds, 1), "database_cpu_us_per_doc": round(cpu_us, 1)}


def _database_pid() -> int | None:
    """The database process: devstack's, or the one ``--database-pid`` names."""
    from devstack import components, processes

    if DATABASE_PID:
        return DATABASE_PID
    return processes.running_pid(components.DATABASE)


DATABASE_PID: int | None = None


def main() -> None:
    """Run both ingest benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--pipeline-only", action="store_true", help="skip the end-to-end PUTs")
    parser.add_argument(
        "--tracing-overhead",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="only the pipeline: tracing off, on, on with 10 %% and 1 %% sampling; ROUNDS each",
    )
    parser.add_argument(
        "--scaling",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="only the pipeline: 1, then 2 instances each of ingest and indexer; ROUNDS each",
    )
    parser.add_argument(
        "--database-pid", type=int, help="the database's pid, when devstack did not start it"
    )
    parser.add_argument("--label", default="", help="free text recorded with the figures")
    args = parser.parse_args()
    global DATABASE_PID
    DATABASE_PID = args.database_pid
    if args.tracing_overhead:
        tracing_overhead(args.events, args.tracing_overhead)
        return
    if args.scaling:
        scaling(args.events, args.scaling, args.label)
        return

    with MongoClient(MONGO_URL, serverSelectionTimeoutMS=5000) as client:  # an empty index
        client.drop_database(DB)
    skip_history(GROUP_PREFIX)
    procs = {
        name: ServiceProcess(name, group_prefix=GROUP_PREFIX, db=DB, port_offset=100)
        for name in ("indexer", "ingest", "api")
    }
    try:
        for proc in procs.values():
            proc.start()
        wait_idle()
        e2e: dict[str, Any] = {}
        if not args.pipeline_only:
            e2e = bench_end_to_end(procs["api"], procs["indexer"], args.objects, args.threads)
            print(
                f"end-to-end: {e2e['objects']} PUTs -> all listable in "
                f"{e2e['until_listable_seconds']} s = {e2e['objects_per_s']} objects/s "
                f"(PUT phase {e2e['put_seconds']} s)"
            )
        wait_idle()
        pipe = bench_pipeline(procs, args.events)
        print(
            f"pipeline:   {pipe['events']} events -> all indexed in "
            f"{pipe['until_indexed_seconds']} s = {pipe['events_per_s']} events/s "
            f"(produce phase {pipe['produce_seconds']} s)"
        )
        print(f"            CPU µs per event: {pipe['cpu_us_per_event']}")
    finally:
        for proc in procs.values():
            proc.stop()
    limit = database_upsert_rate()
    pipe["database_upserts"] = limit
    pipe["events_per_s_over_database_rate"] = round(pipe["events_per_s"] / limit["docs_per_s"], 2)
    print(
        f"database:   {limit['docs_per_s']} transactional upserts/s "
        f"({limit['database_cpu_us_per_doc']} µs database CPU each); pipeline / database "
        f"{pipe['events_per_s_over_database_rate']}"
    )
    print(
        json.dumps(
            {
                "bench": "ingest",
                "label": args.label,
                "machine": platform.machine(),
                "cpus": __import__("os").cpu_count(),
                "end_to_end": e2e,
                "pipeline": pipe,
            }
        )
    )


SECOND_INSTANCE_OFFSET = 140
"""Ports of the second instance of each service: 18141 (ingest), 18142 (indexer)."""


def warm_up(instances: dict[str, list[ServiceProcess]], m: int = 600) -> None:
    """Index batches of ``m`` events until every instance has consumed some: each has joined
    its group and holds partitions, so no rebalance stops them while the bench measures.
    (Kafka 4's DescribeGroups answer is one aiokafka 0.12 cannot decode.)"""
    consumed = "assetflow_messages_consumed_total"
    procs = [proc for found in instances.values() for proc in found]
    before = {id(proc): proc.metric(consumed) for proc in procs}
    deadline = time.monotonic() + 120
    while not all(proc.metric(consumed) > before[id(proc)] for proc in procs):
        if time.monotonic() > deadline:
            raise SystemExit("ingest bench: an instance consumed nothing for 120 s of warm-up")
        # A batch consumed while the group still rebalances may all go to one instance.
        dataset = f"bench-warm-{uuid.uuid4().hex[:8]}"
        keys = [f"{dataset}/images/w{i:04d}.jpg" for i in range(m)]
        asyncio.run(
            _produce([(f"{BUCKET}/{k}".encode(), minio_message(minio_record(k))) for k in keys])
        )
        time.sleep(3)
    wait_idle()


def scaling(events: int, rounds: int, label: str) -> None:
    """Pipeline throughput with 1 and with 2 instances each of ingest and indexer (the same
    consumer groups, so the partitions are shared), alternating; CPU per event by service."""
    rows: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for _ in range(rounds):
        for count in (1, 2):
            with MongoClient(MONGO_URL) as client:
                client.drop_database(DB)
            skip_history(GROUP_PREFIX)
            offsets = (100, SECOND_INSTANCE_OFFSET)[:count]
            instances = {
                name: [
                    ServiceProcess(name, group_prefix=GROUP_PREFIX, db=DB, port_offset=offset)
                    for offset in offsets
                ]
                for name in ("indexer", "ingest")
            }
            try:
                for procs in instances.values():
                    for proc in procs:
                        proc.start()
                warm_up(instances)
                rows[count].append(bench_instances(instances, events))
            finally:
                for procs in instances.values():
                    for proc in procs:
                        proc.stop()
            found = rows[count][-1]
            print(
                f"{count} instance(s) each: {found['events_per_s']} events/s, "
                f"{found['cores_busy']} cores busy, {found['write_conflicts']:.0f} write "
                f"conflicts, CPU µs per event {found['cpu_us_per_event']}",
                flush=True,
            )
    best = {count: max(r["events_per_s"] for r in found) for count, found in rows.items()}
    limit = database_upsert_rate()
    print(
        f"2 ÷ 1 instances (best of {rounds}): {best[2] / best[1]:.2f}; the database alone: "
        f"{limit['docs_per_s']} transactional upserts/s"
    )
    summary = {
        count: {
            "events_per_s": sorted(r["events_per_s"] for r in found),
            "cores_busy": sorted(r["cores_busy"] for r in found),
            "write_conflicts": sorted(r["write_conflicts"] for r in found),
            "cpu_us_per_event": {
                name: sorted(r["cpu_us_per_event"][name] for r in found)
                for name in found[0]["cpu_us_per_event"]
            },
        }
        for count, found in rows.items()
    }
    print(
        json.dumps(
            {
                "bench": "ingest-scaling",
                "label": label,
                "events": events,
                "cpus": os.cpu_count(),
                "instances": summary,
                "ratio_2_over_1": round(best[2] / best[1], 2),
                "database_upserts": limit,
            }
        )
    )


def tracing_overhead(events: int, rounds: int) -> None:
    """Pipeline throughput with tracing off, on, and on with 10 % and 1 % sampling,
    alternating."""
    traces = "/tmp/assetflow-bench-traces"
    modes = {
        "off": {"TRACES_DIR": ""},
        "on": {"TRACES_DIR": traces},
        # The SDK's standard sampler variables: 1 in 10 (100) new traces recorded, children
        # follow.
        "on, 10 % sampled": {
            "TRACES_DIR": traces,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
        },
        "on, 1 % sampled": {
            "TRACES_DIR": traces,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.01",
        },
    }
    rows: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for _ in range(rounds):
        for mode, env in modes.items():
            with MongoClient(MONGO_URL) as client:
                client.drop_database(DB)
            skip_history(GROUP_PREFIX)
            procs = {
                name: ServiceProcess(
                    name, group_prefix=GROUP_PREFIX, db=DB, port_offset=100, env=env
                )
                for name in ("indexer", "ingest", "api")
            }
            try:
                for proc in procs.values():
                    proc.start()
                wait_idle()
                rows[mode].append(bench_pipeline(procs, events))
            finally:
                for proc in procs.values():
                    proc.stop()
            print(f"tracing {mode}: {rows[mode][-1]['events_per_s']} events/s", flush=True)
    summary = {
        mode: {
            "events_per_s": sorted(r["events_per_s"] for r in found),
            "cpu_us_per_event": {
                name: sorted(r["cpu_us_per_event"][name] for r in found)
                for name in found[0]["cpu_us_per_event"]
            },
        }
        for mode, found in rows.items()
    }
    print(json.dumps({"bench": "ingest-tracing", "events": events, "rounds": summary}))


if __name__ == "__main__":
    main()
