"""A TCP proxy in front of the brokers' PROXIED listeners that can cut one client off.

Kafka clients connect to the addresses brokers advertise, not to the bootstrap address, so a
proxy on the bootstrap port alone would be bypassed after the first metadata request. Each
cluster broker therefore has a second listener (cluster.KAFKA_PROXIED_PORTS) that advertises
this proxy's ports (cluster.KAFKA_PROXY_PORTS): a client bootstrapped through the proxy
reaches every broker only through it.
"""

import asyncio
import contextlib
import threading

from devstack import cluster


class BrokerProxy:
    """Forwards proxy port i to broker listener i; ``cut`` blackholes every byte both ways
    (connections stay open, as in a network partition), ``heal`` lets them flow again."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._open = asyncio.Event()
        self._servers: list[asyncio.Server] = []

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers a client behind the proxy is given."""
        return ",".join(f"127.0.0.1:{port}" for port in cluster.KAFKA_PROXY_PORTS)

    def start(self) -> None:
        """Listen on the proxy ports."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)

    def cut(self) -> None:
        """Stop forwarding: requests and responses are held, nothing is refused."""
        self._loop.call_soon_threadsafe(self._open.clear)

    def heal(self) -> None:
        """Forward again."""
        self._loop.call_soon_threadsafe(self._open.set)

    def stop(self) -> None:
        """Close the listeners and the loop's thread."""

        async def close() -> None:
            for server in self._servers:
                server.close()
            # The pumps of connections still open would outlive the loop and warn as such.
            pumps = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _listen(self) -> None:
        self._open.set()
        for listen, target in zip(
            cluster.KAFKA_PROXY_PORTS, cluster.KAFKA_PROXIED_PORTS, strict=True
        ):

            async def accept(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: int = target
            ) -> None:
                try:
                    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
                except OSError:
                    writer.close()
                    return
                await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

            self._servers.append(await asyncio.start_server(accept, "127.0.0.1", listen))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._open.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                writer.close()
