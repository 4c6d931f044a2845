"""How requests reach a vendor's answers: each vendor API as one VendorApi; its paths in any
case (`/WebApi/Verify/…`), rewritten to the route template's spelling before routing (path
parameters keep the case the client sent); the routes that answer every method and every
unreadable body in the vendor's own shape; and a vendor's start around its network lookup."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from otpgate.api.middleware import PathRefusal, Refusal
from otpgate.compat.bodies import Fields, UnreadableBody, read_fields
from otpgate.domain.errors import OtpgateError
from otpgate.domain.lookups import LookupAnswer
from otpgate.runtime import Runtime
from otpgate.service.ports import App
from otpgate.service.verifications import StartRequest

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# methods a route that answers all of them in the vendor's shape is declared with
BODY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_PARAMETER = re.compile(r"\{(\w+)(:path)?\}")


@dataclass(frozen=True)
class VendorApi:
    """A vendor's router, its route templates (canonicalised in any case), and how it words
    the refusals made before routing (a body over the size limit), on which paths; those
    answers may need the runtime (a clock to stamp them)."""

    router: APIRouter
    templates: tuple[str, ...]
    refusals: Callable[[Runtime], Sequence[PathRefusal]]


# the vendor's answer to a POST's fields; it hands its blocking work to `runtime.run`
Answer = Callable[[Runtime, Fields], Awaitable[Response]]
# the vendor's answer to an unreadable body (or a method other than POST)
Unreadable = Callable[[Runtime, UnreadableBody], Response]


async def answer_post(
    request: Request, runtime: Runtime, answer: Answer, unreadable: Unreadable
) -> Response:
    """`answer` to a POST's fields, read strictly; `unreadable` to anything else."""
    try:
        if request.method != "POST":
            raise UnreadableBody("use POST")
        fields = await read_fields(request, lenient=False)
    except UnreadableBody as error:
        return unreadable(runtime, error)
    return await answer(runtime, fields)


class StartRead(Protocol):
    """What a vendor's start read before the network is asked: the app that authenticated
    and the start it asks for (and whatever else its answer needs)."""

    @property
    def app(self) -> App: ...

    @property
    def request(self) -> StartRequest: ...


Read = TypeVar("Read", bound=StartRead)


async def answer_start(
    runtime: Runtime,
    read: Callable[[], Read | Response],
    start: Callable[[Read, LookupAnswer | None], Response],
    refused: Callable[[Read, OtpgateError], Response],
) -> Response:
    """A vendor's start in three steps: `read` in the executor (the app and its start, or the
    vendor's refusal); the network lookup awaited here, on the event loop, since inside an
    executor call it would hold every other call (on SQLite, every write) for up to the
    lookup's timeout; then `start` in the executor, given the lookup. A lookup the app's
    `lookup_failure` refuses is answered by `refused`, in the vendor's words."""
    if not runtime.lookups.configured:
        # nothing to ask between the two steps: one call, as a start without lookups costs
        return await runtime.run(lambda: _read_and_start(read, start))
    found = await runtime.run(read)
    if isinstance(found, Response):
        return found
    try:
        lookup = await runtime.lookups.for_start(found.app, found.request)
    except OtpgateError as error:
        return refused(found, error)
    return await runtime.run(lambda: start(found, lookup))


def _read_and_start(
    read: Callable[[], Read | Response], start: Callable[[Read, LookupAnswer | None], Response]
) -> Response:
    found = read()
    return found if isinstance(found, Response) else start(found, None)


def unreadable_refusal(runtime: Runtime, unreadable: Unreadable) -> Refusal:
    """The request guard's refusal (a body too large) as the vendor's unreadable body."""
    return lambda _status, detail: unreadable(runtime, UnreadableBody(detail))


def prefix_pattern(path: str) -> re.Pattern[str]:
    """`path` and everything under it, in any case."""
    return re.compile(re.escape(path), re.IGNORECASE)


def template_pattern(template: str) -> re.Pattern[str]:
    """Every path the template matches, in any case, with or without a trailing slash."""
    return re.compile(_template_regex(template, named=True), re.IGNORECASE)


def _template_regex(template: str, *, named: bool) -> str:
    pattern, position = "", 0
    for match in _PARAMETER.finditer(template):
        pattern += re.escape(template[position : match.start()])
        value = ".*" if match.group(2) else "[^/]+"
        pattern += f"(?P<{match.group(1)}>{value})" if named else f"(?:{value})"
        position = match.end()
    pattern += re.escape(template[position:])
    return f"^{pattern}/?$"


class CanonicalPaths:
    """ASGI middleware: a vendor path in any case, with or without a trailing slash, reaches
    the route spelled as the template."""

    def __init__(self, app: ASGIApp, templates: Sequence[str]) -> None:
        self.app = app
        self.templates = [(template_pattern(template), template) for template in templates]
        # one match says whether any template does: most paths are native and match none
        self.any_template = re.compile(
            "|".join(f"(?:{_template_regex(template, named=False)})" for template in templates)
            or "(?!)",
            re.IGNORECASE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            canonical = self.canonical(scope["path"])
            if canonical is not None and canonical != scope["path"]:
                scope = {**scope, "path": canonical}
        await self.app(scope, receive, send)

    def canonical(self, path: str) -> str | None:
        if self.any_template.match(path) is None:
            return None
        for regex, template in self.templates:
            match = regex.match(path)
            if match is not None:
                return _fill(template, match.groupdict())
        return None


def _fill(template: str, values: dict[str, str]) -> str:
    # one pass, so a value that looks like "{rest}" is never read as a parameter
    return _PARAMETER.sub(lambda parameter: values[parameter.group(1)], template)
