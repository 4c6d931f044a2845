"""A database outage is answered 503 with Retry-After, never 500: on every path, before and
inside every route; as problem JSON with the outage's code (`database_unavailable`,
`storage_full`), or on a compatibility API's paths in that vendor's own error shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otpgate.api.middleware import PathRefusal, vendor_refusal
from otpgate.api.problems import OUTAGE_PROBLEMS, problem

log = structlog.get_logger("otpgate.http")


class DatabaseOutage:
    def __init__(
        self,
        app: ASGIApp,
        outage_of: Callable[[BaseException], str | None],
        refusals: Sequence[PathRefusal] = (),
    ) -> None:
        self.app = app
        self.outage_of = outage_of
        self.refusals = refusals  # the vendor APIs' words, on their paths

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
            await self._refusal(scope["path"], code)(scope, receive, send)

    def _refusal(self, path: str, code: str) -> Response:
        title, detail, retry_after = OUTAGE_PROBLEMS[code]
        refusal = vendor_refusal(self.refusals, path, 503, detail)
        if refusal is None:
            return problem(
                503,
                code,
                title,
                detail,
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
            )
        refusal.headers["Retry-After"] = str(retry_after)
        return refusal
