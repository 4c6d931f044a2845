"""Finding 1: a body is refused (413) on its declared length before it is read, and a streamed
body is capped, whatever the method; the receipt route takes GETs with no authentication."""

from __future__ import annotations

import json

from conftest import raw_connection, read_until_closed
from support.served import StartOtpgate

LIMIT = 64 * 1024


def test_a_get_declaring_a_huge_body_is_refused_before_the_body_is_sent(
    start_otpgate: StartOtpgate,
) -> None:
    served = start_otpgate()
    with raw_connection(served) as connection:
        connection.sendall(
            b"GET /v1/receipts/http HTTP/1.1\r\nHost: otpgate\r\n"
            b"Content-Length: 1000000000\r\nConnection: close\r\n\r\n"
        )
        # not one byte of the body is sent: the answer comes from the declared length alone
        answer = read_until_closed(connection)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:200]
    assert json.loads(body)["code"] == "payload_too_large"


def test_a_streamed_get_body_past_the_limit_is_refused(start_otpgate: StartOtpgate) -> None:
    served = start_otpgate()
    chunk = b"x" * 8192
    with raw_connection(served) as connection:
        connection.sendall(
            b"GET /v1/verifications HTTP/1.1\r\nHost: otpgate\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        # just past the limit, and no end: the refusal must not wait for the rest
        for _ in range(LIMIT // len(chunk) + 1):
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_small_get_body_still_reaches_the_route(start_otpgate: StartOtpgate) -> None:
    served = start_otpgate()
    answer = served.http.request("GET", "/v1/verifications", content=b"{}")
    assert answer.status_code == 401  # the route ran: it asked for credentials
