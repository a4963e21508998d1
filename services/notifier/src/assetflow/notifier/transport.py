"""An httpx transport that connects only to checked addresses.

The check runs where the connection is made, on the addresses the connection then uses:
a host name that resolved to a public address when the webhook was saved and resolves to
127.0.0.1 now (DNS rebinding) is refused, and the URL keeps its host name, so TLS checks the
certificate against it and pooled connections are per host name.
"""

from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from assetflow.domain.targets import checked_addresses


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself and connects to its first address, if every one passes."""

    def __init__(self, *, allow_private: bool, resolve_timeout_s: float) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._resolve_timeout_s = resolve_timeout_s

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Raises RefusedTargetError or UnresolvableTargetError instead of connecting."""
        addresses = await checked_addresses(
            host,
            port,
            allow_private=self._allow_private,
            timeout_s=min(timeout or self._resolve_timeout_s, self._resolve_timeout_s),
        )
        return await self._inner.connect_tcp(
            addresses[0], port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: webhooks are http(s) URLs."""
        raise httpcore.ConnectError("webhooks do not connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        """The inner backend's sleep."""
        await self._inner.sleep(seconds)


def checked_transport(
    *, allow_private: bool, timeout_s: float, max_connections: int
) -> httpx.AsyncHTTPTransport:
    """httpx's transport, its connection pool on a ``CheckedBackend``."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx does not take a network backend; its transport's one attribute is its pool, which
    # httpcore builds with one (tests/unit/test_webhook_targets.py proves it is used).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
        network_backend=CheckedBackend(allow_private=allow_private, resolve_timeout_s=timeout_s),
    )
    return transport
