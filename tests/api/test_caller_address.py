"""The caller's address: X-Forwarded-For counts only when a trusted proxy passed it on."""

from __future__ import annotations

import ipaddress

from otpgate.api.caller import caller_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


def test_an_untrusted_peer_is_the_caller_whatever_the_header_says() -> None:
    assert caller_address("198.51.100.9", ["1.2.3.4"], PROXIES) == "198.51.100.9"
    assert caller_address("198.51.100.9", ["1.2.3.4"], ()) == "198.51.100.9"


def test_a_trusted_proxy_names_the_caller_as_the_rightmost_untrusted_hop() -> None:
    # the client wrote "6.6.6.6" itself; the proxy appended the address it saw
    assert caller_address("10.0.0.2", ["6.6.6.6, 203.0.113.7"], PROXIES) == "203.0.113.7"
    assert caller_address("10.0.0.2", ["6.6.6.6, 203.0.113.7, 10.1.1.1"], PROXIES) == (
        "203.0.113.7"
    )
    assert caller_address("10.0.0.2", ["6.6.6.6", "203.0.113.7, 10.1.1.1"], PROXIES) == (
        "203.0.113.7"
    )


def test_without_a_header_a_trusted_proxy_is_itself_the_caller() -> None:
    assert caller_address("10.0.0.2", [], PROXIES) == "10.0.0.2"
    assert caller_address("10.0.0.2", ["10.0.0.3"], PROXIES) == "10.0.0.3"


def test_ipv6_callers_are_keyed_by_their_64() -> None:
    assert caller_address("2001:db8:1:2::5", [], PROXIES) == "2001:db8:1:2::/64"
    assert caller_address("fd00::1", ["2001:db8:1:2::99"], PROXIES) == "2001:db8:1:2::/64"


def test_a_garbled_hop_is_a_bucket_of_its_own_and_a_non_ip_peer_too() -> None:
    assert caller_address("10.0.0.2", ["not-an-ip"], PROXIES) == "not-an-ip"
    assert caller_address("testclient", ["1.2.3.4"], PROXIES) == "testclient"
    assert caller_address(None, [], PROXIES) == "unknown"
