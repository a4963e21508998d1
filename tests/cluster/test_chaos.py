"""Faults on the cluster profile while images upload: nothing is lost, listed twice, left
without thumbnails, miscounted or dead-lettered; each records its recovery time."""

import contextlib
import signal
import time
import uuid
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from devstack import cluster, processes
from devstack.processes import Component
from tests.cluster import chaos, partition
from tests.support.stack import PORTS, ServiceProcess, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(3600)]

OUTAGE_S = 20.0
"""How long a killed or stopped process stays down before it is started again."""
PARTITION_S = 30.0


def begin(name: str, gateway: chaos.ClusterGateway) -> tuple[chaos.Workload, chaos.Timeline]:
    """Start the uploads; return once a third of them are in (the fault goes in mid-stream)."""
    workload = chaos.Workload(f"chaos-{name}-{uuid.uuid4().hex[:6]}", gateway.base_url)
    timeline = chaos.Timeline()
    workload.start()
    wait_for(
        "a third of the uploads",
        lambda: workload.uploaded() >= workload.count // 3 or workload.errors,
        timeout=600,
        interval=0.5,
    )
    timeline.fault = time.monotonic()
    return workload, timeline


def restart(component: Component) -> None:
    """Start a stopped cluster process again and wait until it is healthy."""
    processes.start(component)
    processes.wait_healthy(component)


def test_kafka_broker_killed_then_restarted(
    instances: dict[str, list[ServiceProcess]], cluster_gateway: chaos.ClusterGateway
) -> None:
    """kill -9 of one of three brokers (RF 3, min ISR 2, acks=all), restarted after 20 s."""
    workload, timeline = begin("broker", cluster_gateway)
    victim = cluster.KAFKA[0]
    processes.stop(victim, sig=signal.SIGKILL)
    time.sleep(OUTAGE_S)
    restart(victim)
    timeline.healed = time.monotonic()
    chaos.record("kafka_broker_kill9", **timeline.settle(cluster_gateway.base_url, workload))


def test_one_instance_of_each_service_killed(
    instances: dict[str, list[ServiceProcess]], cluster_gateway: chaos.ClusterGateway
) -> None:
    """kill -9 of one instance of every service; the other takes its partitions (and the
    gateway its requests); the killed ones come back after 20 s."""
    workload, timeline = begin("services", cluster_gateway)
    for group in instances.values():
        group[0].kill()
    time.sleep(OUTAGE_S)
    for group in instances.values():
        group[0].start()
    timeline.healed = time.monotonic()
    chaos.record("service_instances_kill9", **timeline.settle(cluster_gateway.base_url, workload))


Doc = dict[str, Any]


def _primary() -> Component:
    client: MongoClient[Doc]
    with MongoClient(cluster.MONGO_URL, serverSelectionTimeoutMS=30000) as client:
        host = client.admin.command("hello")["primary"]
    port = int(host.rsplit(":", 1)[1])
    return cluster.DATABASE[cluster.MONGO_PORTS.index(port)]


def test_database_primary_stepped_down_then_killed(
    instances: dict[str, list[ServiceProcess]], cluster_gateway: chaos.ClusterGateway
) -> None:
    """replSetStepDown of the primary, then kill -9 of the primary elected after it (writes
    are w: majority, so an acknowledged one survives on the other two)."""
    workload, timeline = begin("database", cluster_gateway)
    first = _primary()
    client: MongoClient[Doc]
    with (
        MongoClient(f"mongodb://127.0.0.1:{first.port}", directConnection=True) as client,
        contextlib.suppress(PyMongoError),  # the step-down may drop this very connection
    ):
        client.admin.command("replSetStepDown", 10)
    second: Component = wait_for(
        "a new primary", lambda: _primary() if _primary() is not first else None, timeout=60
    )
    processes.stop(second, sig=signal.SIGKILL)
    time.sleep(OUTAGE_S)
    restart(second)
    timeline.healed = time.monotonic()
    numbers = timeline.settle(cluster_gateway.base_url, workload)
    chaos.record("database_stepdown_then_kill9", **numbers, killed=second.name)


def test_minio_node_stopped(
    instances: dict[str, list[ServiceProcess]], cluster_gateway: chaos.ClusterGateway
) -> None:
    """One of four MinIO nodes (EC:2) stopped for 20 s: writes and reads go on with three."""
    workload, timeline = begin("minio", cluster_gateway)
    victim = cluster.MINIO[-1]
    processes.stop(victim, sig=signal.SIGKILL)
    time.sleep(OUTAGE_S)
    restart(victim)
    timeline.healed = time.monotonic()
    chaos.record("minio_node_kill9", **timeline.settle(cluster_gateway.base_url, workload))


def test_indexer_partitioned_from_the_brokers(
    instances: dict[str, list[ServiceProcess]], cluster_gateway: chaos.ClusterGateway
) -> None:
    """One indexer instance reaches every broker through a proxy that holds all its bytes for
    30 s (connections stay open, as in a partition): the group gives its partitions to the
    other instance, and its own late writes after the partition heals change nothing."""
    original = instances["indexer"][0]
    proxy = partition.BrokerProxy()
    proxy.start()
    original.stop()
    behind = ServiceProcess(
        "indexer",
        group_prefix=chaos.GROUP_PREFIX,
        db=chaos.DB,
        port_offset=original.port - PORTS["indexer"],
        env=chaos.service_env() | {"KAFKA_BOOTSTRAP_SERVERS": proxy.bootstrap},
    )
    try:
        behind.start()
        workload, timeline = begin("partition", cluster_gateway)
        proxy.cut()
        time.sleep(PARTITION_S)
        proxy.heal()
        timeline.healed = time.monotonic()
        numbers = timeline.settle(cluster_gateway.base_url, workload)
        assert behind.proc is not None and behind.proc.poll() is None, "the indexer exited"
        chaos.record("indexer_partitioned_30s", **numbers)
    finally:
        proxy.heal()
        behind.stop()
        proxy.stop()
        original.start()
