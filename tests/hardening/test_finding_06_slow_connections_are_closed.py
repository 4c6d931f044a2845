"""Finding 6: a connection that does not finish its headers, or its body, in time is closed,
and past the connection cap a new one is refused: stalled clients cannot hold the server's
descriptors. The deadlines are a second here (settings), 30 s and 60 s by default."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from conftest import raw_connection, read_until_closed
from support.served import ServedOtpgate, serving

DEADLINES = {
    "OTPGATE_SERVE_HEADER_TIMEOUT_SECONDS": "1",
    "OTPGATE_SERVE_BODY_TIMEOUT_SECONDS": "1",
}


HEALTH = b"GET /healthz HTTP/1.1\r\nHost: otpgate\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    root = tmp_path_factory.mktemp("slow")
    with serving(root, **DEADLINES, OTPGATE_SERVE_MAX_CONNECTIONS="4") as served:
        yield served


def closed_within(served: ServedOtpgate, sent: bytes, seconds: float) -> bytes:
    """Send `sent`, stall, and return what the server answered before it closed."""
    with raw_connection(served, timeout=seconds) as connection:
        started = time.monotonic()
        if sent:
            connection.sendall(sent)
        answer = read_until_closed(connection)  # a socket timeout here fails the test
        assert time.monotonic() - started < seconds
    return answer


def test_a_connection_that_sends_nothing_is_closed(served: ServedOtpgate) -> None:
    assert closed_within(served, b"", 5).startswith(b"HTTP/1.1 408")


def test_a_connection_that_never_finishes_its_headers_is_closed(served: ServedOtpgate) -> None:
    answer = closed_within(served, b"GET /healthz HTTP/1.1\r\nHost: otpgate\r\nX-Slow", 5)
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_connection_that_never_finishes_its_body_is_closed(served: ServedOtpgate) -> None:
    head = (
        b"POST /v1/verifications HTTP/1.1\r\nHost: otpgate\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"to"'
    )
    assert closed_within(served, head, 5).startswith(b"HTTP/1.1 408")


def test_a_kept_alive_connection_that_stalls_in_its_next_request_is_closed(
    served: ServedOtpgate,
) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: otpgate\r\n\r\n"
    with raw_connection(served, timeout=5) as connection:
        connection.sendall(request)
        first = b""
        while not first.endswith(b'{"status":"ok"}'):
            first += connection.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        connection.sendall(b"GET /healthz HTTP/1.1\r\n")  # and never the rest
        started = time.monotonic()
        assert read_until_closed(connection).startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 5


def test_connections_past_the_cap_are_refused_while_stalled_ones_wait(
    served: ServedOtpgate,
) -> None:
    stalled = [raw_connection(served) for _ in range(4)]
    try:
        # the server takes the four in as its loop gets to them; the next is refused then,
        # as it connects (a request sent meanwhile would meet a closed socket)
        deadline = time.monotonic() + 5
        while not (refused := closed_within(served, b"", 5)).startswith(b"HTTP/1.1 503"):
            assert refused.startswith(b"HTTP/1.1 408") and time.monotonic() < deadline
    finally:
        for connection in stalled:
            connection.close()
    # once the stalled ones are gone, the server answers again
    deadline = time.monotonic() + 5
    while not closed_within(served, HEALTH, 5).startswith(b"HTTP/1.1 200"):
        assert time.monotonic() < deadline
