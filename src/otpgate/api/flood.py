"""Limits per caller address, before any route runs (docs/abuse.md, docs/security.md): the
flood limit on every path, and failed authentications."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otpgate.api.caller import caller_address
from otpgate.api.middleware import PathRefusal, refusal_for
from otpgate.api.problems import problem
from otpgate.runtime import Runtime

LIMIT = "flood_requests_per_minute"
FAILED_AUTH_LIMIT = "failed_authentications_per_minute"
_NATIVE_PREFIX = "/v1/"


class FloodLimit:
    def __init__(
        self, app: ASGIApp, runtime: Runtime, refusals: Sequence[PathRefusal] = ()
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.guard = runtime.flood
        self.failures = runtime.failed_authentications
        self.trusted = runtime.settings.trusted_networks
        self.metrics = runtime.metrics
        self.refusals = refusals  # the vendor APIs' words, on their paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        forwarded = [
            value.decode("latin-1")
            for name, value in scope["headers"]
            if name.lower() == b"x-forwarded-for"
        ]
        caller = caller_address(peer[0] if peer else None, forwarded, self.trusted)
        retry_after = self.failures.retry_after(caller)
        if retry_after is not None:
            detail = "too many failed authentications from this address"
            await self._refuse(scope, receive, send, retry_after, FAILED_AUTH_LIMIT, detail)
            return
        verdict = self.guard.count(caller)
        retry_after = verdict.retry_after
        if verdict.flush:
            retry_after = await self.runtime.run(lambda: self.guard.settle(verdict))
        if retry_after is not None:
            detail = "too many requests from this address"
            await self._refuse(scope, receive, send, retry_after, LIMIT, detail)
            return

        async def send_counting_failures(message: Message) -> None:
            # counted before the caller reads the 401, so its next try already meets the count
            if message["type"] == "http.response.start" and message["status"] == 401:
                await self.runtime.run(lambda: self.failures.failed(caller))
            await send(message)

        await self.app(scope, receive, send_counting_failures)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, retry_after: int, limit: str, detail: str
    ) -> None:
        self.metrics.refused("-", limit)  # before authentication: no app is known
        refusal: Response
        if scope["path"].startswith(_NATIVE_PREFIX):
            refusal = problem(
                429,
                "rate_limited",
                "Too many requests",
                detail,
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
                limit=limit,
            )
        else:
            refusal = refusal_for(self.refusals, scope["path"], 429, detail)
            refusal.headers["Retry-After"] = str(retry_after)
        await refusal(scope, receive, send)
