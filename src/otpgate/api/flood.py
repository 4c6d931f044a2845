"""The flood limit per caller address, before any route runs (docs/abuse.md)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from otpgate.api.caller import caller_address
from otpgate.api.problems import problem
from otpgate.runtime import Runtime

_LIMITED_PREFIX = "/v1/"
LIMIT = "flood_requests_per_minute"


class FloodLimit:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self.guard = runtime.flood
        self.trusted = runtime.settings.trusted_networks
        self.metrics = runtime.metrics

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
            retry_after = await self.runtime.run(lambda: self.guard.settle(verdict))
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
