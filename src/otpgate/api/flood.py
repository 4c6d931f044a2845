"""The flood limit per caller address, before any route runs (docs/abuse.md)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from otpgate.api.caller import Network, caller_address
from otpgate.api.problems import problem
from otpgate.metrics import Metrics
from otpgate.service.flood import FloodGuard

# a wrong admin token at the console's sign-in is throttled as a wrong API key is
_LIMITED_PREFIX = ("/v1/", "/console/login")
LIMIT = "flood_requests_per_minute"


class FloodLimit:
    def __init__(
        self, app: ASGIApp, guard: FloodGuard, trusted: tuple[Network, ...], metrics: Metrics
    ) -> None:
        self.app = app
        self.guard = guard
        self.trusted = trusted
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        forwarded = [
            value.decode("latin-1")
            for name, value in scope["headers"]
            if name.lower() == b"x-forwarded-for"
        ]
        caller = caller_address(peer[0] if peer else None, forwarded, self.trusted)
        verdict = self.guard.count(caller)
        retry_after = verdict.retry_after
        if verdict.flush:
            retry_after = await run_in_threadpool(self.guard.settle, verdict)
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        self.metrics.refused("-", LIMIT)  # before authentication: no app is known
        refusal = problem(
            429,
            "rate_limited",
            "Too many requests",
            "too many requests from this address",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
            limit=LIMIT,
        )
        await refusal(scope, receive, send)
