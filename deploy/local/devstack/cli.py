"""The devstack command line: install, up, down, status, logs, run."""

import signal
import subprocess
import sys
import time
from typing import Annotated

import typer

from devstack import bootstrap, cluster_ops, components, config, install, processes
from devstack.processes import Component

app = typer.Typer(add_completion=False, help="Local Kafka + MinIO + MongoDB stack, no Docker.")

ServicesOpt = Annotated[bool, typer.Option("--services", help="also the assetflow services")]
ClusterOpt = Annotated[
    bool, typer.Option("--cluster", help="the cluster profile (devstack/cluster.py) instead")
]


def _say(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def _selected(services: bool) -> tuple[Component, ...]:
    return components.ALL if services else components.INFRA


@app.command("install")
def install_cmd() -> None:
    """Install the stack (Kafka, MinIO, MongoDB, nginx, ...) into .local/ where not current."""
    install.install_all()
    _say("install complete")


def _up(services: bool) -> None:
    install.install_all()
    started = time.monotonic()
    for component in components.INFRA:
        _say(f"{component.name}: {processes.start(component)}")
        processes.wait_healthy(component)
        if component is components.KAFKA:
            created = bootstrap.create_topics()
            if created:
                _say(f"created topics: {', '.join(created)}")
    bootstrap.configure_buckets()
    _say("bucket 'datasets' notifies Kafka topic minio.events")
    bootstrap.migrate_database()
    if services:
        for component in components.SERVICES:
            _say(f"{component.name}: {processes.start(component)}")
        for component in components.SERVICES:
            processes.wait_healthy(component)
    _say(f"healthy in {time.monotonic() - started:.1f}s")


@app.command()
def up(services: ServicesOpt = False, cluster: ClusterOpt = False) -> None:
    """Start the stack in the background; returns once everything is healthy."""
    if cluster:
        cluster_ops.up(services)
        return
    _up(services)


@app.command("bootstrap")
def bootstrap_cmd() -> None:
    """Create topics, buckets, the bucket notification and indexes (env KAFKA_*, S3_*, MONGO_*)."""
    created = bootstrap.create_topics()
    bootstrap.configure_buckets()
    indexes = bootstrap.migrate_database()
    _say(
        f"topics created: {', '.join(created) or 'none (all existed)'}; buckets configured; "
        f"indexes ensured: {', '.join(indexes)}"
    )


@app.command()
def down(cluster: ClusterOpt = False) -> None:
    """Stop exactly the processes that `up` started."""
    if cluster:
        cluster_ops.down()
        return
    for component in reversed(components.ALL):
        result = processes.stop(component)
        if result != "not running":
            _say(f"{component.name}: {result}")


@app.command()
def status(cluster: ClusterOpt = False) -> None:
    """Show which components run and whether they are healthy; exit 1 if any is not."""
    if cluster:
        raise typer.Exit(0 if cluster_ops.status() else 1)
    ok = True
    for component in components.ALL:
        pid = processes.running_pid(component)
        if reason := component.unavailable():
            state = reason  # optional, and not here: nothing to be healthy
        elif pid is None:
            state = "stopped" if not processes.port_open(component.port) else "port held by other"
            if component in components.INFRA:
                ok = False
        else:
            try:
                state = "healthy" if component.healthy() else "unhealthy"
            except Exception as exc:
                state = f"unhealthy ({type(exc).__name__})"
            ok = ok and state == "healthy"
        print(f"{component.name:9} {component.port:6}  {pid or '-':>8}  {state}")
    raise typer.Exit(0 if ok else 1)


@app.command()
def logs(
    name: Annotated[str | None, typer.Argument(help="component; all when omitted")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n")] = 50,
) -> None:
    """Print (or follow) component logs from .local/logs/."""
    chosen = [c for c in components.ALL if name in (None, c.name)]
    if not chosen:
        raise typer.BadParameter(f"unknown component {name!r}")
    argv = ["tail", f"-n{lines}", *(["-F"] if follow else []), *(str(c.log_file) for c in chosen)]
    raise typer.Exit(subprocess.call(argv))


@app.command()
def trace(
    what: Annotated[str, typer.Argument(help="an image id, or an object key (or its end)")],
) -> None:
    """Print the traces of one object from .local/traces as waterfalls."""
    from devstack import traces

    found = traces.traces_of(config.TRACES, what)
    if not found:
        _say(f"no trace mentions {what!r} in {config.TRACES}")
        raise typer.Exit(1)
    for trace_id, spans in found.items():
        print(f"trace {trace_id} ({len(spans)} spans)")
        for line in traces.waterfall(spans):
            print(line)


@app.command()
def run() -> None:
    """Start the stack and all services, follow their logs; Ctrl-C stops everything."""
    try:
        _up(services=True)
        _say(
            "running: gateway http://127.0.0.1:8080  API http://127.0.0.1:8000  MinIO console "
            "http://127.0.0.1:9001  Prometheus http://127.0.0.1:9090; Ctrl-C stops"
        )
        # Explicit: a shell starting us in the background may have left SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        tail = subprocess.Popen(
            ["tail", "-n0", "-F", *(str(c.log_file) for c in components.SERVICES)]
        )
        while True:
            for component in components.ALL:
                if not component.unavailable() and processes.running_pid(component) is None:
                    _say(f"{component.name} exited; see {component.log_file}")
                    raise KeyboardInterrupt
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        # Ctrl-C reaches make, uv and us at once (and uv forwards it again): shut down
        # without letting a second signal cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if "tail" in locals():
            tail.terminate()
        down(cluster=False)
        sys.exit(0)
