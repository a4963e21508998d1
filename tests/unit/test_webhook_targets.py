"""Webhook targets: only http(s), only public addresses (IPv4, IPv6, IPv4 inside IPv6),
checked when saved and again where the notifier connects."""

import ipaddress

import httpx
import pytest

from assetflow.domain.targets import (
    RefusedTargetError,
    UnresolvableTargetError,
    parse_url,
    refusal,
    resolve_target,
)
from assetflow.notifier.transport import checked_transport

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "not globally routable",  # carrier-grade NAT
    "169.254.169.254": "link-local",  # cloud metadata
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
    "240.0.0.1": "private",  # reserved (Python lists it as private)
    "255.255.255.255": "private",
    "192.0.2.1": "private",  # documentation
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "2001:db8::1": "private",  # documentation
    "::ffff:127.0.0.1": "loopback",  # IPv4-mapped
    "::ffff:10.0.0.1": "private",
    "::ffff:169.254.169.254": "link-local",
    "64:ff9b::7f00:1": "loopback",  # NAT64 of 127.0.0.1
    "2002:a00:1::": "private",  # 6to4 of 10.0.0.1
    "::7f00:1": "reserved",  # IPv4-compatible (deprecated)
}
PUBLIC = ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    reason = refusal(ipaddress.ip_address(address))
    assert reason is not None and REFUSED[address] in reason, reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com", "only http and https"),
        ("http://user:pw@example.com/", "credentials"),
        ("http:///path", "no host"),
        ("http://example.com:99999/", "not a valid URL"),
    ],
)
def test_urls_webhooks_may_not_call(url: str, reason: str) -> None:
    with pytest.raises(RefusedTargetError, match=reason):
        parse_url(url)


@pytest.mark.asyncio
async def test_literal_addresses_are_checked_unless_private_targets_are_allowed() -> None:
    for url in ("http://127.0.0.1:8080/hook", "https://[::1]/", "http://[::ffff:7f00:1]/"):
        with pytest.raises(RefusedTargetError, match="refused address"):
            await resolve_target(url, allow_private=False)
        target = await resolve_target(url, allow_private=True)
        assert target.addresses and target.scheme in ("http", "https")
    public = await resolve_target("https://93.184.215.14/hook", allow_private=False)
    assert (public.host, public.port, public.addresses) == (
        "93.184.215.14",
        443,
        ("93.184.215.14",),
    )


@pytest.mark.asyncio
async def test_localhost_is_refused_by_what_it_resolves_to() -> None:
    with pytest.raises(RefusedTargetError, match="localhost resolves to a refused address"):
        await resolve_target("http://localhost:9/", allow_private=False)
    with pytest.raises(UnresolvableTargetError):
        await resolve_target("http://no-such-host.invalid/", allow_private=False, timeout_s=2)


@pytest.mark.asyncio
async def test_the_notifiers_transport_checks_where_it_connects() -> None:
    # No socket is opened: the check refuses before connecting (as for a host name that
    # resolved to a public address at creation and to 127.0.0.1 now).
    transport = checked_transport(allow_private=False, timeout_s=2, max_connections=1)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(RefusedTargetError, match="loopback"):
            await client.post("http://127.0.0.1:9/hook", content=b"{}")
        with pytest.raises(RefusedTargetError, match="link-local"):
            await client.get("http://169.254.169.254/latest/meta-data/")
