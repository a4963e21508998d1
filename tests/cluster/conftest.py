"""The cluster profile (devstack up --cluster) and 2 of each service on it, in the test lane."""

from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient

from devstack import cluster, cluster_ops
from tests.cluster import chaos
from tests.support.stack import PORTS, ServiceProcess

INSTANCE_OFFSETS = (10020, 10030)
"""Test instance n of a service listens on 18000 + offset: 28020-28025 and 28030-28035."""


@pytest.fixture(scope="session")
def cluster_stack() -> Iterator[None]:
    """The cluster's Kafka, MongoDB and MinIO: the running ones, or started and then stopped."""
    started = not all(_infra_healthy(c) for c in cluster.INFRA)
    if started:
        cluster_ops.up(services=False)
    try:
        yield
    finally:
        if started:
            cluster_ops.down()


def _infra_healthy(component: Any) -> bool:
    from devstack import processes

    try:
        return processes.running_pid(component) is not None and bool(component.healthy())
    except Exception:
        return False


@pytest.fixture(scope="session")
def instances(cluster_stack: None) -> Iterator[dict[str, list[ServiceProcess]]]:
    """Two instances of each service on the cluster, same consumer groups, in the test lane."""
    client: MongoClient[dict[str, Any]]
    with MongoClient(cluster.MONGO_URL) as client:
        client.drop_database(chaos.DB)
    chaos.prepare_lane()
    procs = {
        name: [
            ServiceProcess(
                name,
                group_prefix=chaos.GROUP_PREFIX,
                db=chaos.DB,
                port_offset=offset,
                env=chaos.service_env(),
            )
            for offset in INSTANCE_OFFSETS
        ]
        for name in cluster.SERVICE_NAMES
    }
    assert all(PORTS[name] + max(INSTANCE_OFFSETS) < chaos.GATEWAY_PORT for name in procs)
    try:
        for group in procs.values():
            for proc in group:
                proc.start()
        yield procs
    finally:
        for group in procs.values():
            for proc in group:
                proc.stop()


@pytest.fixture(scope="session")
def cluster_gateway(
    instances: dict[str, list[ServiceProcess]],
) -> Iterator[chaos.ClusterGateway]:
    """The gateway in front of both test APIs: what the workload talks to."""
    proc = chaos.ClusterGateway([api.port for api in instances["api"]])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
