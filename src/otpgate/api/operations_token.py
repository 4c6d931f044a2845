"""Keeps /metrics and the API description off a public listener: with an operations token
set, those paths answer only a request that carries it as Bearer."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from otpgate.api.problems import http_problem

GUARDED_PATHS = frozenset({"/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


class OperationsToken:
    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.expected is None
            or scope["type"] != "http"
            or scope["path"] not in GUARDED_PATHS
            or self._presented(scope)
        ):
            await self.app(scope, receive, send)
            return
        refusal = http_problem(401, "this path needs the operations token as Bearer")
        await refusal(scope, receive, send)

    def _presented(self, scope: Scope) -> bool:
        assert self.expected is not None
        given = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        return hmac.compare_digest(given, self.expected)
