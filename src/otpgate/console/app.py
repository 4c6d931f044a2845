"""The console's ASGI app, mounted at /console by the server: routes, headers, static files."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otpgate.console import web
from otpgate.console.pages import analytics, apps, fraud, outbox, overview, sign_in, verifications
from otpgate.domain.errors import NotFound
from otpgate.runtime import Runtime

# no inline script or style anywhere: the pages load console.css and console.js from here
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
# pages show live data (and the outbox shows codes): never kept by a cache
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = SECURITY_HEADERS if static else [*SECURITY_HEADERS, NO_STORE]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def not_signed_in(request: Request, _exc: Exception) -> Response:
    if request.method == "GET" and request.url.path.rstrip("/") == web.PREFIX:
        return await sign_in.sign_in_page(request)
    return web.see_other("/")


async def csrf_refused(request: Request, _exc: Exception) -> Response:
    return web.render(
        request,
        "refused.html",
        None,
        {
            "title": "Refused",
            "reason": "This form came without its security token (an old "
            "page, or another site). Nothing was changed: reload the page and try again.",
        },
        status=403,
    )


async def not_found(request: Request, exc: Exception) -> Response:
    detail = exc.detail if isinstance(exc, NotFound) else "There is no such page."
    return web.render(
        request, "refused.html", None, {"title": "Not found", "reason": detail}, status=404
    )


def create_console(runtime: Runtime) -> ASGIApp:
    """The console over a built runtime, for `app.mount(web.PREFIX, …)`."""
    routes = [
        *sign_in.routes,
        *overview.routes,
        *apps.routes,
        *verifications.routes,
        *analytics.routes,
        *fraud.routes,
        *outbox.routes,
        Mount("/static", app=StaticFiles(packages=[("otpgate.console", "static")])),
    ]
    console = Starlette(
        routes=routes,
        exception_handlers={
            web.NotSignedIn: not_signed_in,
            web.CsrfRefused: csrf_refused,
            NotFound: not_found,
            404: not_found,
        },
    )
    console.state.runtime = runtime
    return SecurityHeaders(console)
