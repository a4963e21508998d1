"""A real HTTP receiver for webhook tests: a threaded http.server on 127.0.0.1 that records
every request and answers from a script (a status per request, or sleeping past a timeout)."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it, and what it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()
    answered: int | None  # None: it never answered (slept)


Script = Callable[[int], int | None]
"""Request number (from 1) -> status to answer, or None to hang until the server stops."""


def always(status: int) -> Script:
    """Answer every request with ``status``."""
    return lambda _: status


def failing(times: int, status: int = 500) -> Script:
    """Answer ``status`` to the first ``times`` requests, then 200."""
    return lambda n: status if n <= times else 200


def hanging() -> Script:
    """Never answer (a receiver that accepts connections and stalls)."""
    return lambda _: None


class Receiver:
    """``with Receiver(script) as r:`` serves ``r.url`` until the block ends."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    number = len(receiver.requests) + 1
                    status = receiver.script(number)
                    receiver.requests.append(
                        Received(self.path, dict(self.headers), body, time.monotonic(), status)
                    )
                if status is None:
                    receiver._stop.wait()
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def received(self) -> list[Received]:
        """A copy of the requests so far."""
        with self._lock:
            return list(self.requests)

    def at_least(self, count: int) -> list[Received] | None:
        """The requests so far once there are ``count`` (a ``wait_for`` probe)."""
        got = self.received()
        return got if len(got) >= count else None

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
