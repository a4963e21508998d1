"""A server-sent event stream read in a thread, so a test can wait for events with a deadline."""

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import connect_sse


@dataclass(frozen=True)
class Event:
    """One received event, with its arrival time (wall clock, like the server's stamps)."""

    id: str
    event: str
    data: dict[str, Any]
    received_at: float


class EventStream:
    """GET an SSE endpoint; events land in a queue until ``close``."""

    def __init__(self, url: str, *, params: Any = None, headers: Any = None) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.status: int | None = None
        self.error: Exception | None = None
        self._socket: socket.socket | None = None
        self.ended = threading.Event()
        self._opened = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._read, args=(url, params, headers), daemon=True)
        self._thread.start()
        if not self._opened.wait(15) or self.status is None:
            raise AssertionError(f"no stream from {url}: {self.error!r}")

    def _read(self, url: str, params: Any, headers: Any) -> None:
        try:
            headers = dict(headers or {})
            with connect_sse(self._client, "GET", url, params=params, headers=headers) as source:
                self.status = source.response.status_code
                self._socket = source.response.extensions["network_stream"].get_extra_info("socket")
                self._opened.set()
                for sse in source.iter_sse():
                    data = json.loads(sse.data) if sse.data else {}
                    self.events.put(Event(sse.id, sse.event, data, time.time()))
        except Exception as exc:  # closed by the test or the server, or not a stream at all
            self.error = exc
        finally:
            self._opened.set()
            self.ended.set()

    def next(self, timeout: float = 30) -> Event:
        """The next event; fails after ``timeout`` seconds."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout:.0f}s") from None

    def collect(self, done: Callable[[list[Event]], bool], timeout: float = 60) -> list[Event]:
        """Events until ``done(events so far)`` holds; fails at the deadline."""
        seen: list[Event] = []
        deadline = time.monotonic() + timeout
        while not done(seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; got {[(e.event, e.id) for e in seen][-10:]}")
            try:
                seen.append(self.events.get(timeout=min(left, 1)))
            except queue.Empty:
                continue
        return seen

    def close(self) -> None:
        """Stop reading and drop the connection."""
        if self._socket is not None:
            # Wakes the reader now: closing alone would leave it blocked until the next event.
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._client.close()
        self._thread.join(timeout=10)

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
