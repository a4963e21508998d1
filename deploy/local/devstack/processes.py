"""Start, check and stop local processes with pid files; never touch what we did not start."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devstack import config


@dataclass
class Component:
    """A process the stack runs: how to start it and how to tell it is healthy."""

    name: str
    port: int
    argv: Callable[[], list[str]]
    healthy: Callable[[], bool]
    env: Callable[[], dict[str, str]] = field(default=lambda: {})
    prepare: Callable[[], None] = field(default=lambda: None)
    start_timeout: float = 90.0
    unavailable: Callable[[], str | None] = field(default=lambda: None)
    """Why an optional component cannot run here (None: it can)."""

    @property
    def pid_file(self) -> Path:
        """Where the pid of the process we started is kept."""
        return config.RUN / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        """Where its stdout/stderr go."""
        return config.LOGS / f"{self.name}.log"


class _Daemon(subprocess.Popen[bytes]):
    """A child that outlives its launcher by design: nothing waits for it, so nothing warns."""

    def __del__(self) -> None:
        # Popen.__del__ warns "subprocess is still running" at interpreter exit; a daemon is
        # stopped through its pid file (stop), not through this object.
        pass


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def running_pid(component: Component) -> int | None:
    """Pid of the process we started for this component, if it is still that process."""
    try:
        pid_text, started = component.pid_file.read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    # A recycled pid belongs to someone else: compare the kernel's start time too.
    return pid if _start_time(pid) == started else None


def start(component: Component) -> str:
    """Start the component unless ours already runs; refuse if a stranger holds the port."""
    if reason := component.unavailable():
        return f"not started ({reason})"
    if running_pid(component) is not None:
        return "already running"
    if port_open(component.port):
        raise SystemExit(
            f"[devstack] port {component.port} needed by {component.name} is already in use by "
            f"a process devstack did not start; stop it or free the port "
            f"(see: ss -ltnp 'sport = :{component.port}')"
        )
    config.ensure_dirs()
    component.prepare()
    with component.log_file.open("ab") as log:  # the child keeps its own descriptor
        proc = _Daemon(
            component.argv(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=os.environ | component.env(),
            cwd=config.ROOT,
            start_new_session=True,
        )
    component.pid_file.write_text(f"{proc.pid} {_start_time(proc.pid)}\n")
    return f"started (pid {proc.pid})"


def wait_healthy(component: Component) -> None:
    """Block until healthy; exit naming the component (and its log) if it never gets there."""
    if component.unavailable():
        return
    deadline = time.monotonic() + component.start_timeout
    while time.monotonic() < deadline:
        if running_pid(component) is None:
            raise SystemExit(
                f"[devstack] {component.name} exited during start-up; last lines of "
                f"{component.log_file}:\n{tail(component, 25)}"
            )
        try:
            if component.healthy():
                return
        except Exception:  # not up yet; keep polling until the deadline
            pass
        time.sleep(0.5)
    raise SystemExit(
        f"[devstack] {component.name} not healthy after {component.start_timeout:.0f}s; "
        f"last lines of {component.log_file}:\n{tail(component, 25)}"
    )


def stop(component: Component, timeout: float = 20.0, sig: int = signal.SIGTERM) -> str:
    """Send ``sig`` (SIGTERM) to the process group we started, SIGKILL after ``timeout``."""
    pid = running_pid(component)
    if pid is None:
        component.pid_file.unlink(missing_ok=True)
        return "not running"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running_pid(component) is not None:
        if _is_zombie(pid):
            break
        time.sleep(0.2)
    else:
        if running_pid(component) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    component.pid_file.unlink(missing_ok=True)
    return f"stopped (pid {pid})"


def _is_zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


def tail(component: Component, lines: int) -> str:
    """Last lines of the component's log."""
    try:
        return "\n".join(component.log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
