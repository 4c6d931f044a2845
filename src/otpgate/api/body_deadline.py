"""A pure ASGI middleware that gives a request's whole body a deadline, the same on every
server: a client that has not sent its body's last byte in time is answered 408 (if nothing was
answered yet) and its connection closed."""

from __future__ import annotations

import asyncio

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otpgate.api.problems import http_problem

log = structlog.get_logger("otpgate.http")

_GONE: Message = {"type": "http.disconnect"}


class BodyDeadline:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_complete = False
        answering = False  # the app has started its response
        timed_out = False

        async def receive_by_deadline() -> Message:
            nonlocal body_complete, timed_out
            if timed_out:
                return _GONE
            if body_complete:  # what is left to hear is the client leaving: no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                log.info("connection_too_slow", waiting_for="body")
                if not answering:
                    # `connection: close`: the rest of this body must never be read as a request
                    refusal = http_problem(
                        408, "the body was not sent in time", {"connection": "close"}
                    )
                    await refusal(scope, receive, send)
                return _GONE  # to the app, this client has gone: its answer is given
            body_complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def send_unless_refused(message: Message) -> None:
            nonlocal answering
            if timed_out:  # the 408 was this request's answer
                return
            answering = True
            await send(message)

        await self.app(scope, receive_by_deadline, send_unless_refused)
