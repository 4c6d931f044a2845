"""Vendor paths in any letter case, as the vendors' own servers take them."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send


class CaseInsensitivePaths:
    """ASGI middleware: `/SMS/VERIFYSMS` is routed as `/sms/verifySMS`, the spelling the
    router knows (FastAPI matches paths case-sensitively and rebuilds routes on inclusion)."""

    def __init__(self, app: ASGIApp, paths: Iterable[str]) -> None:
        self.app = app
        self.spellings = {path.lower(): path for path in paths}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            spelling = self.spellings.get(scope["path"].lower())
            if spelling is not None and spelling != scope["path"]:
                scope = {**scope, "path": spelling, "raw_path": spelling.encode()}
        await self.app(scope, receive, send)
