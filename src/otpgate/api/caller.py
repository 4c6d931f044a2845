"""The caller's address: the peer, or what trusted proxies in front of it say it was."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Sequence

from otpgate.domain.errors import ValidationFailed
from otpgate.domain.limits import ip_subject

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# a hop as proxies write it: an address, `ipv4:port`, `[ipv6]` or `[ipv6]:port`
_BRACKETED = re.compile(r"^\[(?P<host>[^\]]+)\](?::\d+)?$")
_IPV4_WITH_PORT = re.compile(r"^(?P<host>\d{1,3}(?:\.\d{1,3}){3}):\d+$")


def hop_address(hop: str) -> str:
    """The address in one X-Forwarded-For hop, without the port some proxies append: with
    it, each port of one caller would be a limit bucket of its own."""
    hop = hop.strip()
    found = _BRACKETED.match(hop) or _IPV4_WITH_PORT.match(hop)
    return found.group("host") if found else hop


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def caller_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]
) -> str:
    """The peer's address, unless the peer is a trusted proxy: then X-Forwarded-For is read
    right to left, past the trusted hops, and the first address no trusted proxy owns is the
    caller. Anyone can write that header; only the hops we trust appended to it honestly.
    The answer is a limit key: IPv6 addresses come back as their /64."""
    address = peer or "unknown"
    if trusted and _trusted(address, trusted):
        hops = [hop_address(hop) for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            if not hop:
                continue
            address = hop
            if not _trusted(hop, trusted):
                break
    return _subject(address)


@functools.lru_cache(maxsize=4096)
def _subject(address: str) -> str:
    # every request asks this for its peer, and most come from few addresses
    try:
        return ip_subject(address, field="caller")
    except ValidationFailed:
        # a peer that is no IP (a Unix socket, a test client), or a garbled hop: its own bucket
        return address[:64]
