"""One pure ASGI middleware for what every request needs: an id, a size limit, content-type
rules, a latency metric and an access log line (with the route, never the query string)."""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otpgate.api.problems import http_problem
from otpgate.metrics import Metrics

MAX_BODY_BYTES = 64 * 1024
# the request headers the guard reads; the rest are left as bytes for the route
_READ_HEADERS = frozenset(
    {b"x-request-id", b"content-length", b"transfer-encoding", b"content-type"}
)
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON_TYPES = ("application/json",)
# providers call back in their own formats (Twilio and Kannel post forms)
_ANY_BODY_PREFIXES = ("/v1/receipts/",)

log = structlog.get_logger("otpgate.http")

# request ids need to be unique, not secret: a random process prefix and a counter, which
# costs nothing, where a random id per request costs a getrandom() system call
_PROCESS_PREFIX = secrets.token_hex(4)
_request_numbers = itertools.count(1)


def new_request_id() -> str:
    return f"{_PROCESS_PREFIX}{next(_request_numbers):08x}"


# a compatibility API words its own refusals (status, detail -> response) on its paths
Refusal = Callable[[int, str], Response]
PathRefusal = tuple[re.Pattern[str], Refusal]


def vendor_refusal(
    refusals: Sequence[PathRefusal], path: str, status: int, detail: str
) -> Response | None:
    """A refusal in the words of the compatibility API that owns `path`; None off its paths."""
    for paths, refusal in refusals:
        if paths.match(path):
            return refusal(status, detail)
    return None


def refusal_for(
    refusals: Sequence[PathRefusal], path: str, status: int, detail: str
) -> Response:
    """A refusal made before any route runs, in the words of the API that owns `path`."""
    answer = vendor_refusal(refusals, path, status, detail)
    return answer if answer is not None else http_problem(status, detail)


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        json_prefix: str = "/v1/",
        refusals: Sequence[PathRefusal] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.json_prefix = json_prefix
        self.refusals = refusals
        # (method, route, status) -> its latency histogram, found once, not per request
        self._timers: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in _READ_HEADERS
        }
        request_id = headers.get("x-request-id", "")[:64] or new_request_id()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            refusal = None
            # a GET may carry a body too (a receipt route reads one): any declared or chunked
            # body is held to the same limit, whatever the method
            if (
                scope["method"] in _BODY_METHODS
                or "content-length" in headers
                or "transfer-encoding" in headers
            ):
                refusal, receive = await self._read_body(scope, headers, receive)
            if refusal is not None:
                await refusal(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status_holder["status"], time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")

    async def _read_body(
        self, scope: Scope, headers: dict[str, str], receive: Receive
    ) -> tuple[Any, Receive]:
        """Read the whole body (at most 64 KiB) so handlers never see more, then replay it.
        A declared length past the limit is refused before a byte of the body is read."""
        declared = headers.get("content-length", "").strip()
        too_large = f"the body is larger than {MAX_BODY_BYTES} bytes"
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return self._refusal(scope["path"], 413, too_large), receive
        chunks = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                # closed mid-body (by the client, or by the body deadline): a part of a body
                # never reaches a route
                return http_problem(400, "the connection closed before the body ended"), receive
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return self._refusal(scope["path"], 413, too_large), receive
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        # a body without a content type is refused too: FastAPI would not read it as JSON
        if (
            body
            and scope["method"] in _BODY_METHODS
            and scope["path"].startswith(self.json_prefix)
            and not scope["path"].startswith(_ANY_BODY_PREFIXES)
            and not (content_type in _JSON_TYPES or content_type.endswith("+json"))
        ):
            return http_problem(415, "send the body as application/json"), receive
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return None, replay

    def _refusal(self, path: str, status: int, detail: str) -> Response:
        return refusal_for(self.refusals, path, status, detail)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", "unmatched")
        labels = (scope["method"], path, str(status))
        timer = self._timers.get(labels)
        if timer is None:
            timer = self._timers[labels] = self.metrics.request_seconds.labels(*labels)
        timer.observe(seconds)
        log.info(
            "request",
            method=scope["method"],
            route=path,
            status=status,
            ms=round(seconds * 1000, 2),
        )
