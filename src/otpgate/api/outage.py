"""A database outage is answered 503 with Retry-After, never 500: on every path, before and
inside every route, as problem JSON with the outage's code (`database_unavailable`,
`storage_full`)."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otpgate.api.problems import OUTAGE_PROBLEMS, problem

log = structlog.get_logger("otpgate.http")


class DatabaseOutage:
    def __init__(self, app: ASGIApp, outage_of: Callable[[BaseException], str | None]) -> None:
        self.app = app
        self.outage_of = outage_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answering = False

        async def watched(message: Message) -> None:
            nonlocal answering
            answering = answering or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            code = self.outage_of(error)
            if code is None or answering:
                raise
            # the class only: a driver's message may quote the statement and its values
            log.warning("database_outage", code=code, error=type(error).__name__)
            title, detail, retry_after = OUTAGE_PROBLEMS[code]
            refusal = problem(
                503,
                code,
                title,
                detail,
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
            )
            await refusal(scope, receive, send)
