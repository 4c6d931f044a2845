"""Vendors' paths in any case (`/WebApi/Verify/…`): each request path that matches a vendor's
route template without regard to case is rewritten to the template's spelling before routing;
path parameters keep the case the client sent."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_PARAMETER = re.compile(r"\{(\w+)(:path)?\}")


@dataclass(frozen=True)
class VendorApi:
    """A vendor's router, its route templates (the last one a catch-all for its prefix), and
    how it words a refusal made before routing (a body over the size limit)."""

    router: APIRouter
    templates: tuple[str, ...]
    refusal: Callable[[int, str], Response]

    @property
    def paths(self) -> re.Pattern[str]:
        """Every path this vendor answers, in any case."""
        return _template_regex(self.templates[-1])


def prefix_pattern(path: str) -> re.Pattern[str]:
    """`path` and everything under it, in any case."""
    return re.compile(re.escape(path), re.IGNORECASE)


def _template_regex(template: str) -> re.Pattern[str]:
    pattern, position = "", 0
    for match in _PARAMETER.finditer(template):
        pattern += re.escape(template[position : match.start()])
        value = ".*" if match.group(2) else "[^/]+"
        pattern += f"(?P<{match.group(1)}>{value})"
        position = match.end()
    pattern += re.escape(template[position:])
    return re.compile(f"^{pattern}/?$", re.IGNORECASE)


class CanonicalPaths:
    """ASGI middleware: a vendor path in any case, with or without a trailing slash, reaches
    the route spelled as the template."""

    def __init__(self, app: ASGIApp, templates: Sequence[str]) -> None:
        self.app = app
        self.templates = [(_template_regex(template), template) for template in templates]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            canonical = self.canonical(scope["path"])
            if canonical is not None and canonical != scope["path"]:
                scope = {**scope, "path": canonical}
        await self.app(scope, receive, send)

    def canonical(self, path: str) -> str | None:
        for regex, template in self.templates:
            match = regex.match(path)
            if match is not None:
                return _fill(template, match.groupdict())
        return None


def _fill(template: str, values: dict[str, str]) -> str:
    # one pass, so a value that looks like "{rest}" is never read as a parameter
    return _PARAMETER.sub(lambda parameter: values[parameter.group(1)], template)
