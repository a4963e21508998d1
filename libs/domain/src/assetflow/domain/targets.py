"""Webhook targets: only http(s) URLs whose every address is public (server-side request
forgery), checked when a webhook is saved and again before each delivery (DNS rebinding)."""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import SplitResult, urlsplit

from assetflow.contracts.errors import InvalidRequestError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES: Final = {"http": 80, "https": 443}
# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits; ipaddress calls it global.
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")


class RefusedTargetError(InvalidRequestError):
    """A URL a webhook may not call: not http(s), or an address that is not public."""


class UnresolvableTargetError(InvalidRequestError):
    """A host name that does not resolve (now: a delivery retries it later)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: its parts and the addresses it resolved to, in resolver order."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not connect to ``address`` (None: it is a public unicast address)."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:  # the IPv6 form only carries it: the IPv4 address decides
        reason = refusal(embedded)
        return f"{reason} (embedded in {address})" if reason else None
    for reason, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("not globally routable", not address.is_global),
    ):
        if flag:
            return f"{address} is {reason}"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo client, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_url(url: str) -> SplitResult:
    """The URL's parts, if it is an absolute http(s) URL without credentials."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise RefusedTargetError(f"not a valid URL: {exc}") from None
    if parts.scheme not in SCHEMES:
        raise RefusedTargetError("only http and https URLs may be called")
    if not parts.hostname:
        raise RefusedTargetError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise RefusedTargetError("credentials in the URL are not accepted (they would be logged)")
    return parts


async def checked_addresses(
    host: str, port: int, *, allow_private: bool, timeout_s: float = 5.0
) -> tuple[str, ...]:
    """``host``'s addresses, in resolver order; every one must be public unless
    ``allow_private`` (a local or test deployment)."""
    try:
        found = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
            timeout_s,
        )
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise UnresolvableTargetError(f"{host} does not resolve: {exc}") from None
    # A zone id (fe80::1%eth0) is not part of the address.
    addresses = tuple(dict.fromkeys(str(info[4][0]).split("%")[0] for info in found))
    if not addresses:
        raise UnresolvableTargetError(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            if reason := refusal(ipaddress.ip_address(address)):
                raise RefusedTargetError(f"{host} resolves to a refused address: {reason}")
    return addresses


async def resolve_target(url: str, *, allow_private: bool, timeout_s: float = 5.0) -> Target:
    """Check ``url`` and resolve its host (see ``checked_addresses``)."""
    parts = parse_url(url)
    host = parts.hostname or ""
    port = parts.port or SCHEMES[parts.scheme]
    addresses = await checked_addresses(
        host, port, allow_private=allow_private, timeout_s=timeout_s
    )
    return Target(url, parts.scheme, host, port, addresses)
