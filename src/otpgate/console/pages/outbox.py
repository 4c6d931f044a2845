"""The developer outbox, newest first, updating live: the one page that shows a message text
(and so a code), and only while some channel's provider is `outbox`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otpgate.console import web
from otpgate.domain.errors import NotFound
from otpgate.runtime import Runtime
from otpgate.service.outbox import OutboxMessage

LIMIT = 50


def _read(runtime: Runtime) -> list[OutboxMessage]:
    if runtime.outbox is None:
        raise NotFound("The outbox exists only while a channel's provider is outbox.")
    return runtime.outbox.read(None, None, LIMIT)


async def outbox(request: Request) -> Response:
    session = await web.session_of(request)
    runtime = web.runtime_of(request)
    found = await runtime.run(lambda: _read(runtime))
    return web.render(request, "outbox.html", session, {"title": "Outbox", "messages": found})


async def outbox_rows(request: Request) -> Response:
    """The list alone, which console.js fetches every few seconds to update the page."""
    session = await web.session_of(request)
    runtime = web.runtime_of(request)
    found = await runtime.run(lambda: _read(runtime))
    return web.render(request, "outbox_rows.html", session, {"messages": found})


routes = [
    Route("/outbox", outbox, methods=["GET"]),
    Route("/outbox/rows", outbox_rows, methods=["GET"]),
]
