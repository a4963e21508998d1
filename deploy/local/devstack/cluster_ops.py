"""Up, down and status of the cluster profile (``devstack up --cluster``)."""

import time
from collections.abc import Callable

from devstack import bootstrap, cluster, config, install, processes
from devstack.processes import Component


def _say(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def _start_group(group: tuple[Component, ...]) -> None:
    # All members first: none is healthy before a quorum of its group runs.
    for component in group:
        _say(f"{component.name}: {processes.start(component)}")
    for component in group:
        processes.wait_healthy(component)


def _wait(what: str, probe: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except Exception:  # not there yet; keep polling until the deadline
            pass
        time.sleep(0.5)
    raise SystemExit(f"[devstack] {what} not reached after {timeout:.0f}s")


def up(services: bool) -> None:
    """Start the cluster (and 2 of each service with the gateway); return once healthy."""
    install.install_all()
    cluster.ensure_dirs()
    started = time.monotonic()
    _start_group(cluster.KAFKA)
    created = bootstrap.create_topics("", cluster.KAFKA_BOOTSTRAP, replication=3)
    created += bootstrap.create_topics(
        config.TEST_TOPIC_PREFIX, cluster.KAFKA_BOOTSTRAP, replication=3
    )
    if created:
        _say(f"created topics (replication factor 3): {', '.join(created)}")
    _start_group(cluster.DATABASE)
    _wait("a replica set primary with two secondaries", cluster.mongo_set_healthy)
    _start_group(cluster.MINIO)
    bootstrap.configure_buckets(endpoint=cluster.S3_ENDPOINT)
    bootstrap.configure_buckets(
        config.TEST_BUCKET,
        config.TEST_THUMBNAILS_BUCKET,
        config.TEST_NOTIFY_ARN,
        cluster.S3_ENDPOINT,
        config.TEST_NOTIFY_IMMEDIATE_ARN,
    )
    _say("buckets 'datasets' (and the test lane's) notify Kafka on all three brokers")
    bootstrap.migrate_database(cluster.MONGO_URL)
    if services:
        _start_group(cluster.SERVICES)
    _say(f"cluster healthy in {time.monotonic() - started:.1f}s")


def down() -> None:
    """Stop exactly the cluster processes that ``up`` started."""
    for component in reversed(cluster.ALL):
        result = processes.stop(component)
        if result != "not running":
            _say(f"{component.name}: {result}")


def status() -> bool:
    """Print each cluster process and its health; whether all the infrastructure is healthy."""
    ok = True
    for component in cluster.ALL:
        pid = processes.running_pid(component)
        if pid is None:
            state = "stopped" if not processes.port_open(component.port) else "port held by other"
            ok = ok and component not in cluster.INFRA
        else:
            try:
                state = "healthy" if component.healthy() else "unhealthy"
            except Exception as exc:
                state = f"unhealthy ({type(exc).__name__})"
            ok = ok and state == "healthy"
        print(f"{component.name:13} {component.port:6}  {pid or '-':>8}  {state}")
    return ok
