"""Which URLs a webhook may call: never, unless the configuration allows it, one that leads
into the server's own network (loopback, private ranges, link-local addresses such as a cloud's
metadata service), where an owner could otherwise make the server reach what only it can."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from konversation.errors import Invalid

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be called; the message says why."""


def networks(allowed: Iterable[str]) -> list[Network]:
    """The configured networks webhooks may reach although they are not public."""
    return [ipaddress.ip_network(network.strip(), strict=False) for network in allowed]


async def check_reachable(url: str, allowed: Sequence[Network]) -> None:
    """Raise `Refused` unless `url` is http(s) and every address its host resolves to is
    public or in `allowed`."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise Refused("The url must be an http or https URL with a host.")
    for address in await _resolve(parts.hostname):
        if not (_public(address) or any(address in network for network in allowed)):
            raise Refused(f"The url leads to a private or reserved address ({address}).")


async def check_webhook_url(url: str, allowed: Sequence[Network]) -> None:
    """`check_reachable` for a URL an owner gives us: a refusal is a 422 on the `url` field."""
    try:
        await check_reachable(url, allowed)
    except Refused as refused:
        raise Invalid.field("url", str(refused)) from refused


async def _resolve(host: str) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as failure:  # UnicodeError: not a valid host name at all
        raise Refused(f"The url's host could not be resolved ({host}).") from failure
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return _public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast
